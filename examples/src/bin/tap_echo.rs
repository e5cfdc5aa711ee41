//! The counterpart of Zephyr's native_sim TAP echo sample: the stack on a
//! Linux TAP interface, answering ping and echoing UDP and TCP on one port
//! (several TCP clients at once), until
//! killed (SIGINT/SIGTERM print the counters and close the capture file).
//!
//! ```text
//! tap_echo --tap IFNAME --ip CIDR [--gateway IP] [--port 4242] [--pcap FILE] [--mac MAC]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use wolfip_core::Ipv4Cidr;
use wolfip_examples::{
    arg, make_stack, parse_args, parse_mac, run_loop, TapDev, TcpEcho, UdpEcho, DEFAULT_MAC,
};
use wolfip_tap::{catch_termination, terminating, Clock};

const USAGE: &str =
    "usage: tap_echo --tap IFNAME --ip CIDR [--gateway IP] [--port 4242] [--pcap FILE] [--mac MAC]

Runs the wolfip stack on the Linux TAP interface IFNAME (created if it does
not exist, which needs root or CAP_NET_ADMIN) with address CIDR, answers
ping, echoes UDP datagrams sent to PORT and echoes TCP connections to PORT
(several at once), until interrupted.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                ExitCode::SUCCESS
            } else {
                eprintln!("tap_echo: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        }
    }
}

fn run() -> Result<(), String> {
    let flags = ["--tap", "--ip", "--gateway", "--port", "--pcap", "--mac"];
    let args = parse_args(std::env::args().skip(1), &flags)?;
    let tap_name = arg(&args, "--tap").ok_or("--tap is required")?;
    let ip: Ipv4Cidr = arg(&args, "--ip")
        .ok_or("--ip is required")?
        .parse()
        .map_err(|_| "--ip wants an address with a prefix, e.g. 192.0.2.2/24")?;
    let gateway = match arg(&args, "--gateway") {
        Some(g) => Some(g.parse().map_err(|_| format!("bad gateway {g}"))?),
        None => None,
    };
    let port: u16 = arg(&args, "--port")
        .unwrap_or("4242")
        .parse()
        .map_err(|_| "bad --port")?;
    let mac = match arg(&args, "--mac") {
        Some(m) => parse_mac(m)?,
        None => DEFAULT_MAC,
    };

    let mut dev =
        TapDev::open(tap_name, arg(&args, "--pcap")).map_err(|e| format!("TAP {tap_name}: {e}"))?;
    let (mut stack, iface) = make_stack(mac, ip, gateway)?;
    let mut echo = UdpEcho::new(&mut stack, port)?;
    let mut tcp_echo = TcpEcho::new(&mut stack, port, 128)?;
    catch_termination().map_err(|e| format!("signal handlers: {e}"))?;
    println!("tap_echo: {ip} ({mac}) on {tap_name}, UDP and TCP echo on port {port}");
    let clock = Clock::new();
    run_loop(
        &mut stack,
        iface,
        &mut dev,
        &clock,
        |stack, now| {
            let u = echo.run(stack, now);
            let t = tcp_echo.run(stack, now);
            u || t
        },
        terminating,
        Duration::from_millis(200),
    );
    println!(
        "tap_echo: stopping; UDP echoed {} (dropped {})",
        echo.echoed, echo.dropped
    );
    println!("{}", stack.stats());
    Ok(())
}
