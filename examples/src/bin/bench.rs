//! Runs the benchmarks of `wolfip-bench` (wolfip side by side with
//! smoltcp) in each build configuration they need.
//!
//! ```text
//! cargo run --release -p wolfip-examples --bin bench -- [--quick] [--json]
//! ```
//!
//! wolfip's buffer sizes and socket counts are fixed when wolfip-core is
//! compiled (`WOLFIP_*` variables, see `core/src/config.rs`), so each
//! configuration is a separate build of `wolfip-bench`, in its own target
//! directory under the workspace's `target/` so that the builds do not
//! overwrite each other. This launcher runs
//! `cargo run --release -p wolfip-bench` once per configuration with that
//! configuration's variables and arguments, and passes the arguments given
//! here on; the benchmark's standard output comes through unchanged (with
//! `--json`, one JSON object per line), cargo's messages go to standard
//! error.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// One build of the benchmark: a name (also its target directory,
/// `target/bench-<name>`), the `WOLFIP_*` variables it is built with, and
/// arguments of its own before the ones given to the launcher.
struct Build {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
}

/// The configurations, run in this order. Later: 1,024 sockets, and the
/// reference memory configuration of the anchors.
const BUILDS: &[Build] = &[Build {
    // Bulk transfers: few sockets, buffers as large as the largest socket
    // buffer a scenario sets (256 KiB), and room for the holes of a window
    // that large.
    name: "bulk",
    env: &[
        ("WOLFIP_TCP_SOCKETS", "4"),
        ("WOLFIP_TCP_RX_BUFFER", "262144"),
        ("WOLFIP_TCP_TX_BUFFER", "262144"),
        ("WOLFIP_TCP_OOO_RANGES", "32"),
        ("WOLFIP_TCP_SACK_RANGES", "32"),
    ],
    args: &[],
}];

fn main() -> ExitCode {
    let passed: Vec<String> = std::env::args().skip(1).collect();
    if passed.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!(
            "usage: bench [--quick] [--json]\n\
             Builds and runs wolfip-bench once per configuration: {}",
            BUILDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        );
        return ExitCode::SUCCESS;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    for b in BUILDS {
        eprintln!("bench: configuration {:?}", b.name);
        let status = Command::new(&cargo)
            .current_dir(&root)
            .args(["run", "--release", "-p", "wolfip-bench", "--target-dir"])
            .arg(root.join("target").join(format!("bench-{}", b.name)))
            .arg("--")
            .args(b.args)
            .args(&passed)
            .envs(b.env.iter().copied())
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("bench: configuration {:?} failed: {s}", b.name);
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("bench: cannot run {cargo:?}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
