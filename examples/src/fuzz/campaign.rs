//! A campaign: many seeds split across threads, each run caught with
//! `catch_unwind` so that a failure is reported with its seed and frame
//! index (to reproduce it) while the other seeds go on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant as StdInstant;

use super::report::Coverage;
use super::{run_seed, Progress};

/// Told of each seed as it ends: seed, frames, seconds, the failure if
/// any.
pub type SeedDone = dyn Fn(u64, u64, f64, Option<&Failure>) + Sync;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Campaign {
    /// The first seed; the others follow it.
    pub first_seed: u64,
    /// Frames in all.
    pub frames: u64,
    /// Frames per seed (the last seed takes what is left).
    pub per_seed: u64,
    /// Threads.
    pub threads: usize,
}

/// A seed that failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The frames that seed was to run.
    pub frames: u64,
    /// How many frames had been generated when it failed.
    pub at_frame: u64,
    /// The panic message.
    pub message: String,
}

impl Failure {
    /// The command that reproduces it.
    pub fn reproduce(&self) -> String {
        format!(
            "cargo run --release -p wolfip-examples --bin fuzz -- --seed {} --frames {} --per-seed {} --threads 1",
            self.seed, self.frames, self.frames
        )
    }
}

/// What a campaign found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The coverage of the seeds that passed.
    pub coverage: Coverage,
    /// The seeds that failed.
    pub failures: Vec<Failure>,
}

impl Campaign {
    /// The seeds and their frame counts.
    pub fn seeds(&self) -> Vec<(u64, u64)> {
        let per = self.per_seed.max(1);
        let mut out = Vec::new();
        let mut left = self.frames;
        let mut seed = self.first_seed;
        while left > 0 {
            let n = left.min(per);
            out.push((seed, n));
            left -= n;
            seed = seed.wrapping_add(1);
        }
        out
    }

    /// Runs every seed; `done` is told of each as it ends (seed, frames,
    /// seconds, the failure if any).
    pub fn run(&self, done: &SeedDone) -> Outcome {
        let seeds = self.seeds();
        let next = AtomicU64::new(0);
        let outcome = Mutex::new(Outcome::default());
        std::thread::scope(|sc| {
            // Stack::new builds the stack in place: give it room.
            let stack_size = 4 * std::mem::size_of::<wolfip_core::Stack>() + (8 << 20);
            for _ in 0..self.threads.max(1) {
                let worker = || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&(seed, frames)) = seeds.get(i) else {
                        break;
                    };
                    let start = StdInstant::now();
                    let mut progress = Progress::default();
                    let r =
                        catch_unwind(AssertUnwindSafe(|| run_seed(seed, frames, &mut progress)));
                    let secs = start.elapsed().as_secs_f64();
                    let mut o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                    match r {
                        Ok(cov) => {
                            o.coverage.merge(&cov);
                            done(seed, frames, secs, None);
                        }
                        Err(p) => {
                            let message = p
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "panic".into());
                            let f = Failure {
                                seed,
                                frames,
                                at_frame: progress.frame,
                                message,
                            };
                            done(seed, frames, secs, Some(&f));
                            o.failures.push(f);
                        }
                    }
                };
                std::thread::Builder::new()
                    .name("fuzz".into())
                    .stack_size(stack_size)
                    .spawn_scoped(sc, worker)
                    .expect("spawning a fuzz thread");
            }
        });
        outcome.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
