//! The embedded bring-up from C, run on Linux: `c-tests/driven/driven_echo.c`
//! drives the stack itself (no service thread): it owns a TAP device as its
//! NIC, registers it with `wolfip_driver_register`, hands frames in with
//! `wolfip_input`, gives the time with `wolfip_service`, and serves a UDP
//! echo from the same loop with non-blocking sockets. Linux pings it and
//! sends it datagrams.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn driven_bring_up_answers_ping_and_udp() {
    if skip_without_root("driven_bring_up_answers_ping_and_udp") {
        return;
    }
    let src = package_dir().join("driven/driven_echo.c");
    let bin = compile_c("driven_echo", &[&src], Variant::Wolfip).unwrap_or_else(|e| panic!("{e}"));
    fresh_netns().unwrap();
    ip("tuntap add mode tap name wdrv0");
    ip("addr add 192.0.2.1/24 dev wdrv0");
    ip("link set wdrv0 up");
    let mut cmd = Command::new(&bin);
    cmd.args([
        "wdrv0",
        "192.0.2.2/24",
        "--seconds",
        "30",
        "--exit-after",
        "5",
    ]);
    let prog = Running::spawn(cmd).unwrap();

    // Bounded wait until the stack answers (ARP, then ICMP echo).
    let ping = |count: &str| {
        let mut c = Command::new("ping");
        c.args(["-c", count, "-i", "0.2", "-W", "1", "192.0.2.2"]);
        run_command(c, Duration::from_secs(10))
    };
    let up = (0..20).any(|_| ping("1").is_ok_and(|o| o.status.success()));
    assert!(up, "the driven stack never answered a ping");
    let out = ping("5").unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("5 received"),
        "ping: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    for i in 0..5 {
        let msg = format!("datagram {i} through the driven stack\n");
        let mut c = Command::new("sh");
        c.args([
            "-c",
            &format!("printf '%s' '{msg}' | socat -t 2 - UDP:192.0.2.2:7"),
        ]);
        let out = run_command(c, Duration::from_secs(10)).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), msg, "echo {i}");
    }
    let out = prog.finish(Duration::from_secs(10)).unwrap();
    assert!(out.status.success(), "{}", tail(&out.stderr, 10));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("echoed 5"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
