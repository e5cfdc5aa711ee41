//! Benchmarks of wolfip side by side with smoltcp, the Linux kernel and
//! the TAP device's own limit (docs/performance.md).
//!
//! Buffer sizes and socket counts of wolfip are build-time knobs, so this
//! program is built once per configuration by a launcher:
//! `cargo run --release -p wolfip-examples --bin bench -- [--quick] [--json]`
//! builds it with 256 KiB built-in TCP buffers and runs it. Run directly,
//! it needs the same variables:
//!
//! ```text
//! WOLFIP_TCP_SOCKETS=4 WOLFIP_TCP_RX_BUFFER=262144 WOLFIP_TCP_TX_BUFFER=262144 \
//! WOLFIP_TCP_OOO_RANGES=32 WOLFIP_TCP_SACK_RANGES=32 \
//!     cargo run --release -p wolfip-bench -- [--scenario bulk] [--quick] [--json]
//! ```
//!
//! Scenarios:
//!
//! - `bulk-sim`: bulk TCP between two stacks of one kind in this process
//!   over the simulated Ethernet link (1500-byte MTU, no loss, no delay, no
//!   rate limit), 64 KiB socket buffers, 1 GiB (64 MiB with `--quick`),
//!   every byte checked; throughput in Mbit/s of wall time.
//! - `lossy-lfn`: 50 ms RTT, 100 Mbit/s with a queue of one
//!   bandwidth-delay product, 1 % random loss each way, 256 KiB buffers,
//!   CUBIC, 60 s of simulated time (10 s with `--quick`); goodput in Mbit/s
//!   of simulated time. The link is seeded the same for both.
//! - `memory` (`--scenario memory`, its own build: the reference
//!   configuration, see `memory.rs` and the launcher): RAM of each stack,
//!   per-socket overhead, and heap allocations counted during a 100 MiB
//!   transfer (10 MiB with `--quick`) over a preallocated ring link.
//! - `scaling` (`--scenario scaling`, its own build: 1,100 TCP sockets of
//!   4 KiB each way, see `scaling.rs` and the launcher): throughput with 1
//!   and 64 concurrent connections over the ring link, and the wall cost
//!   of delivering a data segment with 1 and with 1,024 established
//!   connections open.
//! - `tap` (`--scenario tap`, its own build: 16 TCP sockets of 256 KiB,
//!   see `tap/` and the launcher): each stack on a Linux TAP device
//!   against the Linux kernel, inside network namespaces this program
//!   creates (192.0.2.0/24 on the TAP, 198.51.100.0/24 on a veth pair;
//!   the host's interfaces are never touched). Needs root and
//!   `/dev/net/tun`; without them it says so on stderr and measures
//!   nothing. The stack under test busy-polls (both alike); the Linux
//!   peers are threads with blocking sockets.
//!   - `tap-bulk` (scenario 3): one connection, data one way for 2 s
//!     (0.5 s with `--quick`) after a warm-up, every byte checked, the
//!     median of three runs (as for `tap-accept`); goodput
//!     in Mbit/s `to-linux` (the stack sends) and `from-linux`; the
//!     `tap-limit` rows are the device alone (a loop that only writes
//!     frames Linux drops at once, or only reads the frames of a Linux UDP
//!     flood), counted as 1460 payload bytes per 1514-byte frame.
//!   - `tap-rr` (scenario 4): one-byte request/response round trips, the
//!     stack as client and a Linux echo thread (blocking) as server;
//!     `median` and `p99` in µs; `linux` is a busy-polling Linux client
//!     and the same server over a veth pair between two namespaces.
//!   - `tap-accept` (scenario 5): the stack listens, four Linux client
//!     threads connect, exchange a byte and close, over and over;
//!     connections accepted per second (smoltcp, having no backlog, gets
//!     one listening socket per slot, re-listening after each
//!     connection).
//!
//! `--scenario bulk` (the default) runs the first two; `--scenario
//! bulk-sim` the first alone. `--impl wolfip` (or `smoltcp`) runs only one
//! stack in these, to profile it alone, e.g. counting instructions with
//! `valgrind --tool=callgrind` (docs/performance.md).
//!
//! Output: one JSON object per measurement and line,
//! `{"scenario": ..., "impl": ..., "metric": ..., "value": ..., "unit": ...}`
//! (`--json` is accepted and changes nothing). The launcher renders them:
//! a table with the ratios, and a chart with `--svg PATH`; it can also
//! read lines saved from a direct run with `--from FILE`.

mod alloc_count;
mod drive;
mod linux_lfn;
mod memory;
mod output;
mod ring;
mod scaling;
mod smol;
mod tap;
mod wolf;

/// Every heap allocation goes through the counter (see [`alloc_count`]),
/// which counts only while a scenario asks it to.
#[global_allocator]
static ALLOCATOR: alloc_count::Counter = alloc_count::Counter;

use std::process::ExitCode;

use drive::{establish, run, Bulk, Outcome, Pattern, Stop};
use output::Measurement;
use wolfip_core::phy::sim::{LinkConfig, SimLink};
use wolfip_core::{Duration, Instant};

pub(crate) const KIB: usize = 1024;
pub(crate) const MIB: u64 = 1024 * 1024;

pub(crate) struct Opts {
    quick: bool,
    json: bool,
    scenario: Group,
    /// `--impl`: only this implementation in the bulk group (for
    /// profiling one stack at a time).
    only: Option<&'static str>,
}

/// Which scenarios a run does: each group needs its own build of
/// wolfip-core.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Group {
    /// Scenarios 1 and 2 (256 KiB buffers).
    Bulk,
    /// Scenario 1 alone (the same build as `Bulk`).
    BulkSim,
    /// Scenario 6 (the reference memory configuration).
    Memory,
    /// Scenario 7 (1,100 sockets of 4 KiB).
    Scaling,
    /// Scenarios 3, 4 and 5 over a TAP device (16 sockets of 256 KiB).
    Tap,
}

fn usage() -> &'static str {
    "usage: wolfip-bench [--scenario bulk|bulk-sim|memory|scaling|tap] [--impl wolfip|smoltcp]\n\
     \x20                   [--quick] [--json]\n\
     \n\
     --scenario  bulk: bulk-sim and lossy-lfn (the default); memory: RAM and\n\
     \x20           heap allocations; scaling: 1 vs 64 connections, 1 vs 1,024\n\
     \x20           sockets; tap: bulk, round trips and accepts against\n\
     \x20           Linux over a TAP device (root). Each needs its own\n\
     \x20           build (see the launcher); bulk-sim: scenario 1 alone\n\
     --impl      only this stack in the bulk group (to profile one alone,\n\
     \x20           e.g. under valgrind --tool=callgrind)\n\
     --quick     short runs (well under two minutes in all)\n\
     --json      accepted, no effect: the output is always one JSON object\n\
     \x20           per measurement and line (the launcher makes the table)"
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        quick: false,
        json: false,
        scenario: Group::Bulk,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scenario" => {
                o.scenario = match args.next().as_deref() {
                    Some("bulk") => Group::Bulk,
                    Some("bulk-sim") => Group::BulkSim,
                    Some("memory") => Group::Memory,
                    Some("scaling") => Group::Scaling,
                    Some("tap") => Group::Tap,
                    other => {
                        return Err(format!("unknown scenario {other:?}\n{}", usage()));
                    }
                }
            }
            "--impl" => {
                o.only = match args.next().as_deref() {
                    Some("wolfip") => Some("wolfip"),
                    Some("smoltcp") => Some("smoltcp"),
                    other => return Err(format!("unknown implementation {other:?}\n{}", usage())),
                }
            }
            "--quick" => o.quick = true,
            "--json" => o.json = true,
            "-h" | "--help" => return Err(usage().to_string()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    Ok(o)
}

/// Which stack runs at both ends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Impl {
    Wolfip,
    Smoltcp,
}

impl Impl {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Wolfip => "wolfip",
            Impl::Smoltcp => "smoltcp",
        }
    }
}

/// Where every run starts on the simulated clock.
pub(crate) const START: Instant = Instant::from_secs(1);

/// One connection from A to B over a link of `cfg` seeded with `seed`,
/// `buffer`-byte socket buffers, run until `stop`.
fn transfer(imp: Impl, cfg: LinkConfig, seed: u64, buffer: usize, stop: Stop) -> Outcome {
    let pattern = Pattern::new(seed);
    let mut link = SimLink::new(cfg, seed);
    fn go<B: Bulk>(mut b: B, link: &mut SimLink, pattern: &Pattern, stop: Stop) -> Outcome {
        let now = establish(&mut b, link, START);
        run(&mut b, link, now, pattern, stop)
    }
    match imp {
        Impl::Wolfip => go(
            wolf::Wolf::new(seed, buffer, START),
            &mut link,
            &pattern,
            stop,
        ),
        Impl::Smoltcp => {
            let s = smol::Smol::new(seed, buffer, &mut link);
            go(s, &mut link, &pattern, stop)
        }
    }
}

pub(crate) fn progress(scenario: &str, imp: Impl, o: &Outcome) {
    eprintln!(
        "{scenario} {}: {} bytes checked, {:.3} s simulated, {:.3} s wall, {} steps\n  {}",
        imp.name(),
        o.bytes,
        o.sim.total_micros() as f64 / 1e6,
        o.wall.as_secs_f64(),
        o.steps,
        o.info
    );
}

/// Scenario 1: bulk transfer over a perfect link, wall-clock throughput.
fn bulk_sim(o: &Opts, out: &mut Vec<Measurement>) {
    const SCENARIO: &str = "bulk-sim";
    let cfg = LinkConfig {
        mtu_frame: 1514,
        ..LinkConfig::default()
    };
    let total = if o.quick { 64 * MIB } else { 1024 * MIB };
    // Wall-clock figures wander from run to run: three runs each,
    // alternating, and the median.
    let mut runs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let chosen = |imp: Impl| o.only.is_none_or(|name| name == imp.name());
    for _ in 0..3 {
        for (i, imp) in [Impl::Wolfip, Impl::Smoltcp].into_iter().enumerate() {
            if !chosen(imp) {
                continue;
            }
            let r = transfer(imp, cfg, 1, 64 * KIB, Stop::Bytes(total));
            progress(SCENARIO, imp, &r);
            runs[i].push(r.wall_mbps());
        }
    }
    for (i, imp) in [Impl::Wolfip, Impl::Smoltcp].into_iter().enumerate() {
        if !chosen(imp) {
            continue;
        }
        runs[i].sort_by(f64::total_cmp);
        out.push(Measurement {
            scenario: SCENARIO,
            imp: imp.name(),
            metric: "throughput",
            value: runs[i][1],
            unit: "Mbit/s",
        });
    }
}

/// Scenario 2: a long fat lossy network, goodput in simulated time.
fn lossy_lfn(o: &Opts, out: &mut Vec<Measurement>) {
    const SCENARIO: &str = "lossy-lfn";
    let bandwidth_bps = 100_000_000u64;
    let rtt = Duration::from_millis(50);
    // One bandwidth-delay product of full-size frames.
    let bdp_bytes = bandwidth_bps * rtt.total_micros() / 8 / 1_000_000;
    let cfg = LinkConfig {
        delay: Duration::from_millis(25),
        bandwidth_bps,
        queue_frames: bdp_bytes.div_ceil(1514) as usize,
        loss_ppm: 10_000,
        mtu_frame: 1514,
        ..LinkConfig::default()
    };
    let secs = if o.quick { 10 } else { 60 };
    for imp in [Impl::Wolfip, Impl::Smoltcp] {
        if o.only.is_some_and(|name| name != imp.name()) {
            continue;
        }
        let r = transfer(
            imp,
            cfg,
            2,
            256 * KIB,
            Stop::Time(Duration::from_secs(secs)),
        );
        progress(SCENARIO, imp, &r);
        out.push(Measurement {
            scenario: SCENARIO,
            imp: imp.name(),
            metric: "goodput",
            value: r.sim_mbps(),
            unit: "Mbit/s",
        });
    }
    // The kernel's TCP over the same link model, bridged in real time
    // between two namespaces (root only; see linux_lfn.rs).
    if o.only.is_some() {
        return;
    }
    match linux_lfn::linux_over_sim(cfg, 2, secs, 256 * KIB) {
        Ok(value) => out.push(Measurement {
            scenario: SCENARIO,
            imp: "linux",
            metric: "goodput",
            value,
            unit: "Mbit/s",
        }),
        Err(e) => eprintln!("{SCENARIO} linux: skipped: {e}"),
    }
}

/// The built-in TCP buffers must hold what the scenarios ask for.
fn check_build(group: Group) -> Result<(), String> {
    match group {
        Group::Memory => return memory::check_build(),
        Group::Scaling => return scaling::check_build(),
        Group::Bulk | Group::BulkSim | Group::Tap => {}
    }
    use wolfip_core::config::{TCP_RX_BUFFER, TCP_SOCKETS, TCP_TX_BUFFER};
    // The tap group's accept scenario wants a listener and room for the
    // connections of its client threads.
    let sockets = if group == Group::Tap { 8 } else { 2 };
    if TCP_RX_BUFFER < 256 * KIB || TCP_TX_BUFFER < 256 * KIB || TCP_SOCKETS < sockets {
        return Err(format!(
            "this build of wolfip-core has {TCP_SOCKETS} TCP sockets of {TCP_RX_BUFFER}/{TCP_TX_BUFFER} \
             bytes (receive/send); the benchmarks need 256 KiB buffers (and {sockets} sockets): \
             run them with \
             `cargo run --release -p wolfip-examples --bin bench`, or build this crate with \
             WOLFIP_TCP_RX_BUFFER=262144 WOLFIP_TCP_TX_BUFFER=262144"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = check_build(opts.scenario) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // A Stack is built by value before it is boxed; give it room.
    let measurements = std::thread::Builder::new()
        .name("bench".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let mut out = Vec::new();
            let mut ok = true;
            match opts.scenario {
                Group::Bulk => {
                    bulk_sim(&opts, &mut out);
                    lossy_lfn(&opts, &mut out);
                }
                Group::BulkSim => bulk_sim(&opts, &mut out),
                Group::Memory => memory::memory(&opts, &mut out),
                Group::Scaling => scaling::scaling(&opts, &mut out),
                Group::Tap => {
                    if let Err(e) = tap::tap(&opts, &mut out) {
                        eprintln!("tap: {e}");
                        ok = false;
                    }
                }
            }
            (out, opts, ok)
        })
        .expect("spawn the benchmark thread")
        .join();
    let (out, opts, ok) = match measurements {
        Ok(r) => r,
        Err(_) => return ExitCode::FAILURE,
    };
    if !opts.json {
        eprintln!("wolfip-bench: JSON lines; for a table, save them and run the launcher with --from FILE");
    }
    for m in &out {
        println!("{}", m.to_json());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
