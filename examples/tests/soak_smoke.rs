//! A short run of the soak program (`src/bin/soak.rs`): a few hundred
//! connect/transfer/close cycles from Linux over a lossy, reordering link,
//! then the check that every table is back to idle. The long soak
//! (100,000 cycles) is run by hand: `sudo target/release/soak`.

mod common;

use std::process::Command;
use std::time::Duration;

#[test]
fn short_soak_leaves_nothing_behind() {
    if !common::can_run(&[]) {
        return;
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soak"));
    cmd.args(["--cycles", "300", "--clients", "8", "--max-minutes", "2"]);
    let out = common::run(cmd, Duration::from_secs(180));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("soak: PASS"),
        "soak failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("300 cycles (0 failed)"), "{stdout}");
}
