//! `tap_echo`'s command line: errors exit with status 2 and print the
//! usage. Needs neither root nor a TAP device (it stops before opening one).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs tap_echo with `args`, killing it if it runs for more than 10 s.
fn tap_echo(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tap_echo"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tap_echo");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tap_echo {args:?} still running after 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn assert_usage_error(args: &[&str], message: &str) {
    let out = tap_echo(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "tap_echo {args:?}: {stderr}");
    assert!(
        stderr.contains(message),
        "tap_echo {args:?}: no '{message}' in: {stderr}"
    );
    assert!(
        stderr.contains("usage: tap_echo --tap IFNAME --ip CIDR"),
        "tap_echo {args:?}: no usage in: {stderr}"
    );
    assert!(out.stdout.is_empty(), "tap_echo {args:?} printed on stdout");
}

#[test]
fn missing_ip_is_a_usage_error() {
    assert_usage_error(&["--tap", "wolfip0"], "--ip is required");
}

#[test]
fn other_argument_errors_are_usage_errors() {
    assert_usage_error(&[], "--tap is required");
    // Every case fails before the TAP is opened: a valid command line run
    // as root would create wolfip0 in the host's namespace.
    assert_usage_error(
        &["--tap", "wolfip0", "--ip", "192.0.2.2/33"],
        "--ip wants an address with a prefix",
    );
    assert_usage_error(
        &["--tap", "wolfip0", "--ip", "192.0.2"],
        "--ip wants an address with a prefix",
    );
    assert_usage_error(
        &["--tap", "wolfip0", "--ip", "192.0.2.2/24", "--gateway", "x"],
        "bad gateway x",
    );
    assert_usage_error(&["--tap", "wolfip0", "--ip"], "--ip needs a value");
    assert_usage_error(&["--bogus", "1"], "unknown argument --bogus");
    assert_usage_error(
        &["--tap", "wolfip0", "--ip", "192.0.2.2/24", "--mac", "02:00"],
        "bad MAC address",
    );
    assert_usage_error(
        &[
            "--tap",
            "wolfip0",
            "--ip",
            "192.0.2.2/24",
            "--port",
            "70000",
        ],
        "bad --port",
    );
    for ppm in ["x", "-1", "1000001"] {
        assert_usage_error(
            &[
                "--tap",
                "wolfip0",
                "--ip",
                "192.0.2.2/24",
                "--drop-ppm",
                ppm,
            ],
            "bad --drop-ppm",
        );
    }
}

#[test]
fn dhcp_argument_errors_are_usage_errors() {
    // Every case fails before the TAP is opened, as above.
    assert_usage_error(
        &["--tap", "wolfip0", "--dhcp", "--ip", "192.0.2.2/24"],
        "--ip and --dhcp are mutually exclusive",
    );
    assert_usage_error(
        &["--tap", "wolfip0", "--ip", "192.0.2.2/24", "--dhcp"],
        "--ip and --dhcp are mutually exclusive",
    );
    assert_usage_error(
        &["--tap", "wolfip0", "--dhcp", "--gateway", "192.0.2.1"],
        "--gateway and --dhcp are mutually exclusive",
    );
    assert_usage_error(
        &[
            "--tap",
            "wolfip0",
            "--ip",
            "192.0.2.2/24",
            "--hostname",
            "h",
        ],
        "--hostname needs --dhcp",
    );
    let long = "h".repeat(wolfip_core::config::DHCP_HOSTNAME_LEN + 1);
    for bad in ["", long.as_str()] {
        assert_usage_error(
            &["--tap", "wolfip0", "--dhcp", "--hostname", bad],
            "bad --hostname",
        );
    }
    assert_usage_error(
        &["--tap", "wolfip0", "--dhcp", "--hostname"],
        "--hostname needs a value",
    );
    // --dhcp takes no value: what follows is read as the next argument.
    assert_usage_error(
        &["--tap", "wolfip0", "--dhcp", "yes"],
        "unknown argument yes",
    );
    assert_usage_error(
        &["--tap", "wolfip0", "--dhcp", "--bogus", "1"],
        "unknown argument --bogus",
    );
}

#[test]
fn help_prints_usage_and_succeeds() {
    let out = tap_echo(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let usage = String::from_utf8_lossy(&out.stdout);
    assert!(usage.contains("usage: tap_echo"));
    assert!(
        usage.contains("tap_echo --tap IFNAME --dhcp [--hostname NAME]"),
        "no --dhcp form in: {usage}"
    );
}
