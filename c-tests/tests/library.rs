//! The C library as a C user sees it, without any network privileges:
//! the symbols it exports, and code written for Zephyr's socket API
//! (`wolfip_zsock.h`) running over loopback.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// The POSIX calls the library implements under `wolfip_` names.
const CALLS: [&str; 26] = [
    "socket",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "read",
    "write",
    "close",
    "shutdown",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "fcntl",
    "poll",
    "select",
    "getaddrinfo",
    "freeaddrinfo",
    "gai_strerror",
];

/// Every call is exported as `wolfip_` + its POSIX name, and no POSIX name
/// itself: linking the library never replaces the host's `socket()`.
#[test]
fn exports_wolfip_names_and_no_posix_name() {
    wolfip_lib().unwrap_or_else(|e| panic!("{e}"));
    let lib = c_lib_target_dir().join("release/libwolfip_bsd.a");
    let mut cmd = Command::new("nm");
    cmd.args(["-g", "--defined-only"]).arg(&lib);
    let out = run_command(cmd, Duration::from_secs(60)).unwrap();
    assert!(out.status.success(), "nm: {}", tail(&out.stderr, 5));
    let text = String::from_utf8_lossy(&out.stdout);
    let defined: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && matches!(f[1], "T" | "W")).then(|| f[2])
        })
        .collect();
    for call in CALLS {
        let ours = format!("wolfip_{call}");
        assert!(defined.contains(&ours.as_str()), "{ours} is not exported");
        assert!(
            !defined.contains(&call),
            "the POSIX name {call} is exported"
        );
    }
    for bring_up in [
        "wolfip_init",
        "wolfip_tap_attach",
        "wolfip_driver_register",
        "wolfip_input",
        "wolfip_service",
        "wolfip_dhcp_start",
        "wolfip_dhcp_stop",
        "wolfip_dhcp_wait",
        "wolfip_dhcp_lease",
        "wolfip_dns_set_servers",
    ] {
        assert!(defined.contains(&bring_up), "{bring_up} is not exported");
    }
}

/// Zephyr code (zsock_*, ZSOCK_POLLIN, struct zsock_pollfd) compiles
/// unchanged against `wolfip_zsock.h` and runs over loopback: a UDP round
/// trip and a TCP connection. Needs no root: only loopback is used, and no
/// interface is created.
#[test]
fn zephyr_socket_code_runs_unchanged() {
    let src = package_dir().join("zsock/zsock_loopback.c");
    let bin =
        compile_c("zsock_loopback", &[&src], Variant::Wolfip).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&bin, &[], Duration::from_secs(30)).unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        tail(&out.stderr, 10)
    );
}
