//! The whole-stack fuzz campaign (see `docs/fuzzing.md`).
//!
//! ```text
//! fuzz [--frames 10000000] [--seed 1] [--per-seed 250000] [--threads N]
//! ```
//!
//! Runs `--frames` frames split into seeds of `--per-seed` frames (seeds
//! `--seed`, `--seed`+1, ...) over `--threads` threads, prints each seed as
//! it ends, then the coverage report and the verdict. Exits with 1 if any
//! invariant was violated (each failure is printed with the command that
//! reproduces it), with 2 on bad arguments.

use std::process::ExitCode;
use std::time::Instant;

use wolfip_examples::fuzz::campaign::Campaign;
use wolfip_examples::{arg, parse_args};

const USAGE: &str = "usage: fuzz [--frames 10000000] [--seed 1] [--per-seed 250000] [--threads N]";

fn num(args: &[(String, String)], name: &str, default: u64) -> Result<u64, String> {
    match arg(args, name) {
        None => Ok(default),
        Some(v) => v
            .replace('_', "")
            .parse()
            .map_err(|_| format!("bad {name} {v}")),
    }
}

fn main() -> ExitCode {
    let parsed = parse_args(
        std::env::args().skip(1),
        &["--frames", "--seed", "--per-seed", "--threads"],
    )
    .and_then(|a| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        Ok(Campaign {
            frames: num(&a, "--frames", 10_000_000)?,
            first_seed: num(&a, "--seed", 1)?,
            per_seed: num(&a, "--per-seed", 250_000)?.max(1),
            threads: num(&a, "--threads", threads)?.max(1) as usize,
        })
    });
    let c = match parsed {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let seeds = c.seeds();
    println!(
        "fuzz: {} frames, {} seed(s) from {} ({} frames each), {} thread(s)",
        c.frames,
        seeds.len(),
        c.first_seed,
        c.per_seed,
        c.threads
    );
    let start = Instant::now();
    let outcome = c.run(&|seed, frames, secs, failure| match failure {
        None => println!("seed {seed}: {frames} frames ok ({secs:.1} s)"),
        Some(f) => println!(
            "seed {seed}: FAILED at frame {} of {frames}: {}\n  reproduce: {}",
            f.at_frame,
            f.message,
            f.reproduce()
        ),
    });
    let secs = start.elapsed().as_secs_f64();
    println!();
    print!("{}", outcome.coverage.report());
    println!("wall time {secs:.1} s");
    let missing = outcome.coverage.missing_states();
    if !missing.is_empty() {
        println!("TCP states never seen: {}", missing.join(", "));
    }
    if outcome.failures.is_empty() {
        println!(
            "verdict: PASS ({} frames, {} seeds, no invariant violated)",
            outcome.coverage.frames, outcome.coverage.seeds
        );
        ExitCode::SUCCESS
    } else {
        println!("verdict: FAIL ({} seed(s) failed)", outcome.failures.len());
        for f in &outcome.failures {
            println!(
                "  seed {} at frame {}: {}\n    {}",
                f.seed,
                f.at_frame,
                f.message,
                f.reproduce()
            );
        }
        ExitCode::FAILURE
    }
}
