//! Runs the benchmarks of `wolfip-bench` (wolfip side by side with
//! smoltcp) in each build configuration they need, and prints one table.
//!
//! ```text
//! cargo run --release -p wolfip-examples --bin bench -- [--quick] [--json] [--svg PATH]
//! cargo run --release -p wolfip-examples --bin bench -- --from FILE [--json] [--svg PATH]
//! ```
//!
//! wolfip's buffer sizes and socket counts are fixed when wolfip-core is
//! compiled (`WOLFIP_*` variables, see `core/src/config.rs`), so each
//! configuration is a separate build of `wolfip-bench`, in its own target
//! directory under the workspace's `target/` so that the builds do not
//! overwrite each other. This launcher runs
//! `cargo run --release -p wolfip-bench -- <its scenario> --json` once per
//! configuration with that configuration's variables and arguments (and
//! `--quick` if given here), and collects the JSON lines of all of them
//! (one JSON object per line:
//! `{"scenario", "impl", "metric", "value", "unit"}`). A configuration
//! that fails does not stop the others; the launcher then reports what it
//! has and exits with a failure.
//!
//! It is the one place where the lines are rendered (see
//! [`wolfip_examples::bench_report`]): by default as a Markdown table, one
//! row per (scenario, metric), a column per implementation and the ratios
//! wolfip/smoltcp (and wolfip/linux, wolfip/tap-limit when there are such
//! figures); with `--json` the lines themselves instead; with `--svg PATH`
//! also as a bar chart written to `PATH`. `--from FILE` reads the lines
//! from `FILE` (`-` for standard input), e.g. saved from an earlier
//! `--json` run, instead of running the benchmarks. The benchmark's
//! progress lines and cargo's messages go to standard error.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use wolfip_examples::bench_report::{self, Row};

/// One build of the benchmark: a name (also its target directory,
/// `target/bench-<name>`), the variables it is built with, and arguments of
/// its own before the ones given to the launcher.
struct Build {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
}

/// The configurations, run in this order.
const BUILDS: &[Build] = &[
    Build {
        // Bulk transfers (scenarios 1 and 2): few sockets, buffers as large
        // as the largest socket buffer a scenario sets (256 KiB), and room
        // for the holes of a window that large.
        name: "bulk",
        env: &[
            ("WOLFIP_TCP_SOCKETS", "4"),
            ("WOLFIP_TCP_RX_BUFFER", "262144"),
            ("WOLFIP_TCP_TX_BUFFER", "262144"),
            ("WOLFIP_TCP_OOO_RANGES", "32"),
            ("WOLFIP_TCP_SACK_RANGES", "32"),
        ],
        args: &["--scenario", "bulk"],
    },
    Build {
        // Memory (scenario 6): the reference configuration of issue 7,
        // 4 TCP sockets with 4 KiB buffers each way, 2 UDP sockets, 8 ARP
        // entries, 4 routes, one Ethernet interface, a SYN queue as deep as
        // the socket count; everything else at its default. smoltcp is
        // built with the same neighbor cache and route table sizes.
        name: "memory",
        env: &[
            ("WOLFIP_INTERFACES", "1"),
            ("WOLFIP_TCP_SOCKETS", "4"),
            ("WOLFIP_TCP_RX_BUFFER", "4096"),
            ("WOLFIP_TCP_TX_BUFFER", "4096"),
            ("WOLFIP_TCP_SYN_BACKLOG", "4"),
            ("WOLFIP_UDP_SOCKETS", "2"),
            ("WOLFIP_ARP_ENTRIES", "8"),
            ("WOLFIP_ROUTES", "4"),
            ("SMOLTCP_IFACE_NEIGHBOR_CACHE_COUNT", "8"),
            ("SMOLTCP_IFACE_MAX_ROUTE_COUNT", "4"),
        ],
        args: &["--scenario", "memory"],
    },
    Build {
        // Scaling (scenario 7): 1,024 connections and a listener at one
        // end, with room to spare, 4 KiB buffers each way (about 10 MB per
        // Stack, boxed); a SYN queue deep enough for the benchmark's
        // batches of 32 connection attempts.
        name: "scaling",
        env: &[
            ("WOLFIP_TCP_SOCKETS", "1100"),
            ("WOLFIP_TCP_RX_BUFFER", "4096"),
            ("WOLFIP_TCP_TX_BUFFER", "4096"),
            ("WOLFIP_TCP_SYN_BACKLOG", "64"),
        ],
        args: &["--scenario", "scaling"],
    },
    Build {
        // Over a TAP device against Linux (scenarios 3, 4 and 5; root and
        // /dev/net/tun, else it measures nothing): the bulk build's 256 KiB
        // buffers and room for holes, 16 sockets so that the accept
        // scenario has a listener and 15 connections at a time, and a SYN
        // queue as deep.
        name: "tap",
        env: &[
            ("WOLFIP_TCP_SOCKETS", "16"),
            ("WOLFIP_TCP_RX_BUFFER", "262144"),
            ("WOLFIP_TCP_TX_BUFFER", "262144"),
            ("WOLFIP_TCP_OOO_RANGES", "32"),
            ("WOLFIP_TCP_SACK_RANGES", "32"),
            ("WOLFIP_TCP_SYN_BACKLOG", "16"),
        ],
        args: &["--scenario", "tap"],
    },
];

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Args {
    /// `--quick`: short runs.
    quick: bool,
    /// `--json`: print the lines instead of the table.
    json: bool,
    /// `--svg PATH`: write the chart there.
    svg: Option<PathBuf>,
    /// `--from FILE`: read the lines from there instead of running.
    from: Option<String>,
}

/// The help text.
fn usage() -> String {
    format!(
        "usage: bench [--quick] [--json] [--svg PATH]\n\
         \x20      bench --from FILE [--json] [--svg PATH]\n\
         \n\
         Builds and runs wolfip-bench once per configuration ({}) and prints\n\
         one Markdown table of all their measurements.\n\
         \n\
         --quick       short runs\n\
         --json        print the measurements (one JSON object per line)\n\
         \x20             instead of the table\n\
         --svg PATH    also write a bar chart of them to PATH\n\
         --from FILE   read the JSON lines from FILE (- for standard input)\n\
         \x20             instead of running the benchmarks",
        BUILDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
    )
}

/// Reads the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut o = Args::default();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--json" => o.json = true,
            "--svg" => match args.next() {
                Some(p) => o.svg = Some(PathBuf::from(p)),
                None => return Err("--svg needs a path".into()),
            },
            "--from" => match args.next() {
                Some(p) => o.from = Some(p),
                None => return Err("--from needs a file (or -)".into()),
            },
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if o.quick && o.from.is_some() {
        return Err("--quick runs the benchmarks, --from does not: choose one".into());
    }
    Ok(Some(o))
}

/// Parses the non-empty lines of `text` into `rows`, echoing each to
/// standard output with `echo`; a line that is not a measurement is
/// reported on standard error and skipped.
fn collect(text: &str, echo: bool, rows: &mut Vec<Row>) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if echo {
            println!("{line}");
        }
        match bench_report::parse_line(line) {
            Some(r) => rows.push(r),
            None => eprintln!("bench: not a measurement: {line}"),
        }
    }
}

/// Builds and runs every configuration, adding their measurements to
/// `rows`; returns whether all of them succeeded. A configuration that
/// fails does not stop the others.
fn run_all(args: &Args, rows: &mut Vec<Row>) -> bool {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let mut ok = true;
    for b in BUILDS {
        eprintln!("bench: configuration {:?}", b.name);
        let output = Command::new(&cargo)
            .current_dir(&root)
            .args(["run", "--release", "-p", "wolfip-bench", "--target-dir"])
            .arg(root.join("target").join(format!("bench-{}", b.name)))
            .arg("--")
            .args(b.args)
            .args(args.quick.then_some("--quick"))
            .arg("--json")
            .envs(b.env.iter().copied())
            .stderr(Stdio::inherit())
            .output();
        let output = match output {
            Ok(o) => o,
            Err(e) => {
                eprintln!("bench: cannot run {cargo:?}: {e}");
                return false;
            }
        };
        collect(&String::from_utf8_lossy(&output.stdout), args.json, rows);
        if !output.status.success() {
            eprintln!(
                "bench: configuration {:?} failed: {}",
                b.name, output.status
            );
            ok = false;
        }
    }
    ok
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            eprintln!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    let mut rows = Vec::new();
    let ok = match &args.from {
        Some(file) => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(file)
            };
            match text {
                Ok(t) => {
                    collect(&t, args.json, &mut rows);
                    true
                }
                Err(e) => {
                    eprintln!("bench: cannot read {file}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => run_all(&args, &mut rows),
    };
    if !args.json {
        print!("{}", bench_report::table::markdown(&rows));
    }
    if let Some(path) = &args.svg {
        match std::fs::write(path, bench_report::svg::chart(&rows)) {
            Ok(()) => eprintln!("bench: chart written to {}", path.display()),
            Err(e) => {
                eprintln!("bench: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn reads_the_command_line() {
        assert_eq!(parse(&[]), Ok(Some(Args::default())));
        assert_eq!(
            parse(&["--quick", "--svg", "/tmp/b.svg", "--json"]),
            Ok(Some(Args {
                quick: true,
                json: true,
                svg: Some("/tmp/b.svg".into()),
                from: None,
            }))
        );
        assert_eq!(
            parse(&["--from", "-"]).unwrap().unwrap().from.as_deref(),
            Some("-")
        );
        assert_eq!(parse(&["--help"]), Ok(None));
        assert!(parse(&["--svg"]).is_err());
        assert!(parse(&["--from"]).is_err());
        assert!(parse(&["--from", "x", "--quick"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }

    #[test]
    fn collects_measurements_and_skips_the_rest() {
        let mut rows = Vec::new();
        collect(
            "{\"scenario\": \"s\", \"impl\": \"wolfip\", \"metric\": \"m\", \"value\": 1, \"unit\": \"u\"}\n\
             \n\
             not json\n\
             {\"scenario\": \"s\", \"impl\": \"smoltcp\", \"metric\": \"m\", \"value\": null, \"unit\": \"u\"}\n",
            false,
            &mut rows,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].value, rows[1].value), (Some(1.0), None));
    }
}
