//! The bounded run of the whole-stack fuzzer (`wolfip_examples::fuzz`, see
//! docs/fuzzing.md): fixed seeds, a few hundred thousand frames in all,
//! every invariant checked (no panic, every transmitted frame valid,
//! counters only grow, no endless "now" from `poll_at`, a bounded number
//! of frames per turn, the stack idle and working after everything is
//! closed), and the coverage must include every TCP state.

use wolfip_examples::fuzz::campaign::Campaign;

/// Frames per seed and seeds (a burst of fragments may end a seed a few
/// frames past its count).
const PER_SEED: u64 = 100_000;
const SEEDS: u64 = 4;

#[test]
fn whole_stack_fuzz_keeps_every_invariant_and_reaches_every_tcp_state() {
    let c = Campaign {
        first_seed: 1,
        frames: PER_SEED * SEEDS,
        per_seed: PER_SEED,
        threads: 2,
    };
    let out = c.run(&|_, _, _, _| {});
    let report = out.coverage.report();
    assert!(
        out.failures.is_empty(),
        "invariants violated: {:#?}\n{report}",
        out.failures
    );
    assert!(out.coverage.frames >= PER_SEED * SEEDS, "{report}");
    assert_eq!(out.coverage.clean_connections, 2 * SEEDS, "{report}");
    let missing = out.coverage.missing_states();
    assert!(
        missing.is_empty(),
        "TCP states never reached: {missing:?}\n{report}"
    );
    assert!(
        out.coverage.kinds.iter().all(|&n| n > 0),
        "a generator never ran\n{report}"
    );
}
