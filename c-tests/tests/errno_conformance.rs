//! The C errno conformance suite (`c-tests/errno/`): one C program of
//! several hundred cases, each printing one line (`<case-id> <call>
//! ret=<R> errno=<NAME> ...`), built against Linux and against the wolfip
//! C library.
//!
//! * `linux_matches_snapshot`: Linux's output equals the committed
//!   snapshot `errno/linux.out` (`UPDATE_LINUX_SNAPSHOT=1` rewrites it).
//! * `wolfip_matches_linux`: wolfip's output equals the snapshot except for
//!   the cases listed in `errno/DIFFERENCES.md`; a listed case that no
//!   longer differs fails too (stale entry).
//!
//! Each run happens in a fresh network namespace: 127.0.0.1 on the
//! loopback interface, and 192.0.2.1/24 on an interface whose far side
//! answers nothing (for SYN_SENT), no default route (for ENETUNREACH).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// At least this many cases, or the program did not run to its end.
const MIN_CASES: usize = 160;
/// The time limit of one run (the program takes about 3 s, and stops
/// itself after 30 s).
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn errno_dir() -> PathBuf {
    package_dir().join("errno")
}

fn snapshot_path() -> PathBuf {
    errno_dir().join("linux.out")
}

fn build(variant: Variant) -> PathBuf {
    let sources = c_sources(&errno_dir());
    let refs: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
    compile_c("conformance", &refs, variant).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `bin` (in the calling thread's namespace) and returns its stdout,
/// which it first writes to `save` if given; panics unless it exits with
/// status 0.
fn run_suite(bin: &Path, env: &[(&str, &str)], save: Option<&Path>) -> String {
    let start = Instant::now();
    let out = run(bin, env, RUN_LIMIT).unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(path) = save {
        std::fs::write(path, &stdout).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    assert!(
        out.status.success(),
        "{} exited with {}\nlast lines of stdout:\n{}\nstderr:\n{}",
        bin.display(),
        out.status,
        tail(&out.stdout, 10),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{}: {} lines in {:.2?}",
        bin.display(),
        stdout.lines().count(),
        start.elapsed()
    );
    stdout
}

/// The lines of an output by case id (the first word), in order; panics
/// on a duplicate id.
fn parse(what: &str, text: &str) -> BTreeMap<String, (usize, String)> {
    let mut m = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let id = line.split_whitespace().next().unwrap().to_owned();
        if let Some((prev, _)) = m.insert(id.clone(), (n + 1, line.to_owned())) {
            panic!("{what}: case {id} on lines {prev} and {}", n + 1);
        }
    }
    m
}

/// The case ids of the table in DIFFERENCES.md (its first column).
fn allowed_differences(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            continue;
        }
        let first = line
            .trim_start_matches('|')
            .split('|')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('`')
            .trim();
        let separator = !first.is_empty() && first.chars().all(|c| matches!(c, '-' | ':' | ' '));
        if first.is_empty() || separator || first == "case-id" {
            continue;
        }
        assert!(
            ids.insert(first.to_owned()),
            "DIFFERENCES.md lists {first} twice"
        );
    }
    ids
}

/// Compares `got` with `expected` case by case. Returns the report of
/// every difference not in `allowed`, and of every case in `allowed` that
/// no longer differs; empty when all is well.
fn compare(expected: &str, got: &str, got_name: &str, allowed: &BTreeSet<String>) -> String {
    let e = parse("linux.out", expected);
    let g = parse(got_name, got);
    let mut report = String::new();
    let mut unexpected = 0;
    let ids: BTreeSet<&String> = e.keys().chain(g.keys()).collect();
    // In the order of the snapshot, then the extra lines in their order.
    let mut ordered: Vec<&String> = ids.into_iter().collect();
    ordered.sort_by_key(|id| match (e.get(*id), g.get(*id)) {
        (Some((n, _)), _) => (0, *n),
        (None, Some((n, _))) => (1, *n),
        (None, None) => unreachable!(),
    });
    for id in &ordered {
        let le = e.get(*id).map(|(_, l)| l.as_str());
        let lg = g.get(*id).map(|(_, l)| l.as_str());
        if le != lg && !allowed.contains(*id) {
            unexpected += 1;
            let _ = writeln!(
                report,
                "{id}:\n  linux.out: {}\n  {got_name:>9}: {}",
                le.unwrap_or("(missing)"),
                lg.unwrap_or("(missing)")
            );
        }
    }
    let stale: Vec<&String> = allowed
        .iter()
        .filter(|id| e.get(*id).map(|x| &x.1) == g.get(*id).map(|x| &x.1))
        .collect();
    if unexpected > 0 {
        report = format!(
            "{unexpected} case(s) differ from linux.out ({} in linux.out, {} in {got_name}):\n{report}",
            e.len(),
            g.len()
        );
    }
    if !stale.is_empty() {
        let _ = writeln!(
            report,
            "listed in DIFFERENCES.md but no longer different (remove them): {}",
            stale
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    report
}

/// The namespace of the Linux run: loopback, and 192.0.2.1/24 on a dummy
/// interface (a veth pair whose peer has no address where the dummy
/// driver is missing) that answers nothing.
fn linux_network() {
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    if try_ip("link add wdum0 type dummy").is_err() {
        ip("link add wdum0 type veth peer name wdum1");
        ip("link set wdum1 up");
    }
    ip("addr add 192.0.2.1/24 dev wdum0");
    ip("link set wdum0 up");
}

#[test]
fn linux_matches_snapshot() {
    if skip_without_root("linux_matches_snapshot") {
        return;
    }
    let bin = build(Variant::Linux);
    linux_network();
    let out = run_suite(&bin, &[], None);
    let cases = out.lines().count();
    assert!(
        !out.contains("SETUP-FAILED"),
        "a scenario could not set itself up on Linux:\n{out}"
    );
    assert!(cases >= MIN_CASES, "only {cases} cases:\n{out}");
    if std::env::var("UPDATE_LINUX_SNAPSHOT").as_deref() == Ok("1") {
        std::fs::write(snapshot_path(), &out).expect("write linux.out");
        eprintln!("rewrote {} ({cases} cases)", snapshot_path().display());
        return;
    }
    let expected = std::fs::read_to_string(snapshot_path()).expect("read errno/linux.out");
    let report = compare(&expected, &out, "this run", &BTreeSet::new());
    assert!(
        report.is_empty(),
        "Linux's output differs from errno/linux.out (UPDATE_LINUX_SNAPSHOT=1 rewrites it):\n{report}"
    );
}

#[test]
fn wolfip_matches_linux() {
    if skip_without_root("wolfip_matches_linux") {
        return;
    }
    let bin = build(Variant::Wolfip);
    let expected = std::fs::read_to_string(snapshot_path()).expect("read errno/linux.out");
    let differences =
        std::fs::read_to_string(errno_dir().join("DIFFERENCES.md")).expect("read DIFFERENCES.md");
    let allowed = allowed_differences(&differences);

    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    ip("tuntap add mode tap name wtap0");
    ip("link set wtap0 up");
    let saved = output_dir().join("wolfip.out");
    let out = run_suite(&bin, &[("WOLFIP_TAP", "wtap0")], Some(&saved));

    let report = compare(&expected, &out, "wolfip", &allowed);
    assert!(
        report.is_empty(),
        "wolfip's output (saved in {}) against errno/linux.out and errno/DIFFERENCES.md:\n{report}",
        saved.display()
    );
}

#[test]
fn differences_table_parses() {
    let text = "# t\n\n| case-id | Linux | wolfip | reason |\n|---|---|---|---|\n\
                | `a.b` | x | y | z |\n| c.d | | | |\n";
    let ids = allowed_differences(text);
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        vec!["a.b".to_owned(), "c.d".to_owned()]
    );
    let allowed: BTreeSet<String> = ["b".to_owned()].into();
    // b differs and is listed: fine.
    assert!(compare("a x\nb y\n", "a x\nb z\n", "w", &allowed).is_empty());
    // a differs and is not listed.
    assert!(compare("a x\nb y\n", "a q\nb z\n", "w", &allowed).contains("a:"));
    // b is listed but equal: stale.
    assert!(compare("a x\nb y\n", "a x\nb y\n", "w", &allowed).contains("no longer"));
    // A missing and an extra line are differences.
    assert!(compare("a x\n", "c x\n", "w", &BTreeSet::new()).contains("(missing)"));
}
