//! Runs the benchmarks of `wolfip-bench` (wolfip side by side with
//! smoltcp) in each build configuration they need, and prints one table.
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
//! `cargo run --release -p wolfip-bench -- <its scenario> --json` once per
//! configuration with that configuration's variables and arguments (and
//! `--quick` if given here), collects the JSON lines of all of them, and
//! prints one table of every row with the ratio wolfip/smoltcp, or with
//! `--json` the lines themselves (one JSON object per line:
//! `{"scenario", "impl", "metric", "value", "unit"}`). The benchmark's
//! progress lines and cargo's messages go to standard error.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

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
];

/// One measurement as the benchmark prints it.
struct Row {
    scenario: String,
    imp: String,
    metric: String,
    value: Option<f64>,
    unit: String,
}

/// Reads a JSON string literal at the start of `s`; returns it and the rest.
fn json_string(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = (0..4).filter_map(|_| chars.next().map(|c| c.1)).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// Parses one line of the benchmark's `--json` output: a flat object whose
/// values are strings, numbers or `null`.
fn parse(line: &str) -> Option<Row> {
    let mut s = line.trim().strip_prefix('{')?.trim_start();
    let mut row = Row {
        scenario: String::new(),
        imp: String::new(),
        metric: String::new(),
        value: None,
        unit: String::new(),
    };
    loop {
        let (key, rest) = json_string(s)?;
        s = rest.trim_start().strip_prefix(':')?.trim_start();
        if s.starts_with('"') {
            let (v, rest) = json_string(s)?;
            s = rest;
            match key.as_str() {
                "scenario" => row.scenario = v,
                "impl" => row.imp = v,
                "metric" => row.metric = v,
                "unit" => row.unit = v,
                _ => {}
            }
        } else {
            let end = s.find([',', '}'])?;
            let v = s[..end].trim();
            if key == "value" {
                row.value = if v == "null" { None } else { v.parse().ok() };
            }
            s = &s[end..];
        }
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            s = rest.trim_start();
        } else {
            s.strip_prefix('}')?;
            return Some(row);
        }
    }
}

/// The implementations in the order of the table's columns.
const IMPLS: [&str; 4] = ["wolfip", "smoltcp", "linux", "tap-limit"];

/// One row per (scenario, metric) in order of first appearance, one column
/// per implementation present, and wolfip/smoltcp.
fn table(rows: &[Row]) -> String {
    let cols: Vec<&str> = IMPLS
        .iter()
        .copied()
        .filter(|i| rows.iter().any(|r| r.imp == *i))
        .collect();
    let mut keys: Vec<(&str, &str, &str)> = Vec::new();
    for r in rows {
        if !keys.iter().any(|k| k.0 == r.scenario && k.1 == r.metric) {
            keys.push((&r.scenario, &r.metric, &r.unit));
        }
    }
    let find = |scenario: &str, metric: &str, imp: &str| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.metric == metric && r.imp == imp)
            .and_then(|r| r.value)
    };
    let mut out = String::new();
    let _ = write!(out, "{:<12} {:<30} {:<8}", "scenario", "metric", "unit");
    for c in &cols {
        let _ = write!(out, " {c:>12}");
    }
    let _ = writeln!(out, " {:>15}", "wolfip/smoltcp");
    for (scenario, metric, unit) in keys {
        let _ = write!(out, "{scenario:<12} {metric:<30} {unit:<8}");
        for c in &cols {
            match find(scenario, metric, c) {
                Some(v) => {
                    let _ = write!(out, " {v:>12.2}");
                }
                None => {
                    let _ = write!(out, " {:>12}", "-");
                }
            }
        }
        match (
            find(scenario, metric, "wolfip"),
            find(scenario, metric, "smoltcp"),
        ) {
            (Some(w), Some(s)) if s != 0.0 => {
                let _ = writeln!(out, " {:>15.3}", w / s);
            }
            _ => {
                let _ = writeln!(out, " {:>15}", "-");
            }
        }
    }
    out
}

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
    if let Some(a) = passed.iter().find(|a| *a != "--quick" && *a != "--json") {
        eprintln!("bench: unknown argument {a:?} (try --help)");
        return ExitCode::from(2);
    }
    let quick = passed.iter().any(|a| a == "--quick");
    let json = passed.iter().any(|a| a == "--json");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let mut rows = Vec::new();
    for b in BUILDS {
        eprintln!("bench: configuration {:?}", b.name);
        let output = Command::new(&cargo)
            .current_dir(&root)
            .args(["run", "--release", "-p", "wolfip-bench", "--target-dir"])
            .arg(root.join("target").join(format!("bench-{}", b.name)))
            .arg("--")
            .args(b.args)
            .args(quick.then_some("--quick"))
            .arg("--json")
            .envs(b.env.iter().copied())
            .stderr(Stdio::inherit())
            .output();
        let output = match output {
            Ok(o) => o,
            Err(e) => {
                eprintln!("bench: cannot run {cargo:?}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            if json {
                println!("{line}");
            }
            match parse(line) {
                Some(r) => rows.push(r),
                None => eprintln!("bench: not a measurement: {line}"),
            }
        }
        if !output.status.success() {
            eprintln!(
                "bench: configuration {:?} failed: {}",
                b.name, output.status
            );
            return ExitCode::FAILURE;
        }
    }
    if !json {
        print!("{}", table(&rows));
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmarks_lines() {
        let r = parse(
            r#"{"scenario": "bulk-sim", "impl": "wolfip", "metric": "throughput", "value": 1234.5, "unit": "Mbit/s"}"#,
        )
        .unwrap();
        assert_eq!(
            (&*r.scenario, &*r.imp, &*r.metric, r.value, &*r.unit),
            ("bulk-sim", "wolfip", "throughput", Some(1234.5), "Mbit/s")
        );
        let r = parse(
            r#"{"scenario": "a\"b", "impl": "x", "metric": "m", "value": null, "unit": "u\u0041"}"#,
        )
        .unwrap();
        assert_eq!((&*r.scenario, r.value, &*r.unit), ("a\"b", None, "uA"));
        assert!(parse("garbage").is_none());
        let t = table(&[
            Row {
                scenario: "s".into(),
                imp: "wolfip".into(),
                metric: "m".into(),
                value: Some(3.0),
                unit: "B".into(),
            },
            Row {
                scenario: "s".into(),
                imp: "smoltcp".into(),
                metric: "m".into(),
                value: Some(2.0),
                unit: "B".into(),
            },
        ]);
        assert!(t.contains("1.500"), "{t}");
    }
}
