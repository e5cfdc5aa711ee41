//! A whole-stack fuzzer: frames from a peer model and its mutations go
//! through `Stack::receive` (or a driver's `receive` through `poll`) while
//! an application opens, uses and closes UDP and TCP sockets and time
//! jumps ahead, so that TCP connections pass through every state and
//! timers fire. Every transmitted frame is checked, counters must only
//! grow, `poll_at` must not say "now" for ever, and at the end the stack
//! must be back to idle and able to carry a clean connection.
//!
//! Used by the `fuzz` binary (the long campaign) and by the bounded test
//! `examples/tests/fuzz_stack.rs`. See `docs/fuzzing.md`.

pub mod app;
pub mod campaign;
pub mod finish;
pub mod gen;
pub mod peer;
pub mod report;
pub mod wire;

use std::collections::VecDeque;

use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::{Duration, IfaceConfig, IfaceId, Instant, Ipv4Cidr, Stack};

use app::App;
use gen::KINDS;
use peer::Peer;
use report::{counters, Coverage};
use wire::{check_transmitted, Sent, OUR_IP, OUR_MAC, PEER_IP};

/// Most polls in one turn that send nothing while `poll_at` still says
/// "now" (a spin).
pub const MAX_IMMEDIATE_POLLS: u32 = 64;
/// Most frames the stack may send in one turn (one input frame or burst of
/// fragments, one application action, one time step). Not small: an ICMP
/// "fragmentation needed" with the minimum MTU (68) shrinks the MSS to a
/// byte or a few, and a window of data then goes as thousands of segments
/// (see docs/fuzzing.md, "Findings"); four send buffers in one-byte
/// segments is the bound, which a runaway loop still trips.
pub const MAX_FRAMES_PER_TURN: u64 = 4 * wolfip_core::config::TCP_TX_BUFFER as u64;

/// splitmix64: small, seedable, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True one time in `one_in`.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// A device that checks every frame the stack hands it (panicking on an
/// invalid one), sometimes says busy, and serves queued frames to `poll`.
pub struct Checker {
    /// Frames waiting for the stack's `poll`.
    pub rx: VecDeque<Vec<u8>>,
    /// Answer "busy" one time in this many (0: never).
    pub busy_one_in: usize,
    rng: Rng,
    /// What was sent since the last `take`.
    pub out: Vec<Sent>,
    /// Frames sent in all.
    pub sent: u64,
}

impl Checker {
    /// A device with no frames queued and never busy.
    pub fn new(seed: u64) -> Checker {
        Checker {
            rx: VecDeque::new(),
            busy_one_in: 0,
            rng: Rng(seed ^ 0xdead_beef),
            out: Vec::new(),
            sent: 0,
        }
    }
}

impl Device for Checker {
    fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let f = self.rx.pop_front()?;
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        Some(n)
    }
    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        if self.busy_one_in > 0 && self.rng.chance(self.busy_one_in) {
            return Err(TxBusy);
        }
        match check_transmitted(frame) {
            Ok(s) => self.out.push(s),
            Err(e) => panic!("invariant: invalid frame transmitted: {e}\nframe: {frame:02x?}"),
        }
        self.sent += 1;
        Ok(())
    }
}

/// The stack under test: `OUR_IP/24` on one Ethernet interface, knowing
/// the peer's MAC address.
pub fn make_stack(seed: u64, now: Instant) -> (Box<Stack>, IfaceId) {
    let mut s = Box::new(Stack::new(&mut FixedSeed(seed)));
    let id = s
        .add_interface(IfaceConfig::ethernet(OUR_MAC))
        .expect("interface");
    s.set_ipv4(id, Some(Ipv4Cidr::new(OUR_IP, 24).expect("cidr")))
        .expect("address");
    let req = wire::arp(
        wolfip_core::wire::EthernetAddress([0xff; 6]),
        1,
        wire::PEER_MAC,
        PEER_IP,
        wolfip_core::wire::EthernetAddress([0; 6]),
        OUR_IP,
    );
    s.receive(now, id, &req);
    (s, id)
}

/// Where the run is, for reporting a failure.
#[derive(Debug, Default, Clone, Copy)]
pub struct Progress {
    /// Frames generated so far.
    pub frame: u64,
}

/// The state of one fuzz run.
pub struct Run {
    /// The stack under test.
    pub stack: Box<Stack>,
    /// Its interface.
    pub iface: IfaceId,
    /// The device.
    pub dev: Checker,
    /// The peer model.
    pub peer: Peer,
    /// The application.
    pub app: App,
    /// The clock.
    pub now: Instant,
    /// What was covered.
    pub cov: Coverage,
    rng: Rng,
    last: Vec<u64>,
}

/// The time the runs start at.
pub const T0: Instant = Instant::from_secs(100);

impl Run {
    /// A fresh stack and application for `seed`.
    pub fn new(seed: u64) -> Run {
        let (mut stack, iface) = make_stack(seed, T0);
        let app = App::new(&mut stack, T0);
        let last = counters(stack.stats());
        Run {
            stack,
            iface,
            dev: Checker::new(seed),
            peer: Peer::default(),
            app,
            now: T0,
            cov: Coverage::default(),
            rng: Rng(seed),
            last,
        }
    }

    fn check_counters(&mut self, what: &str) {
        let c = counters(self.stack.stats());
        for (i, (b, a)) in self.last.iter().zip(&c).enumerate() {
            assert!(
                a >= b,
                "invariant: counter #{i} went down ({b} -> {a}) after {what}"
            );
        }
        self.last = c;
    }

    /// Polls until `poll_at` is in the future, checking the turn's output
    /// and feeding it to the peer model.
    pub fn settle(&mut self, step: u64) {
        let sent_before = self.dev.sent;
        let mut immediate = 0;
        loop {
            let before = self.dev.sent;
            self.stack.poll(self.now, self.iface, &mut self.dev);
            self.check_counters("poll");
            match self.stack.poll_at(self.now) {
                // A poll that sent frames made progress (their number is
                // bounded below); one that sent nothing and still wants to
                // run at once is spinning.
                Some(t) if t <= self.now && self.dev.sent > before => {}
                Some(t) if t <= self.now => {
                    immediate += 1;
                    if std::env::var_os("FUZZ_DEBUG").is_some() && immediate > 50 {
                        eprintln!(
                            "poll {immediate}: sent {:?} busy {} stats {}",
                            self.dev.out.last(),
                            self.dev.busy_one_in,
                            self.stack.stats()
                        );
                    }
                    assert!(
                        immediate < MAX_IMMEDIATE_POLLS,
                        "invariant: poll_at still says now ({t:?}) after {immediate} polls at {:?}",
                        self.now
                    );
                }
                _ => break,
            }
        }
        let sent = self.dev.sent - sent_before;
        if sent > MAX_FRAMES_PER_TURN {
            let (mut arp, mut tcp, mut other) = (0, 0, 0);
            let mut example = None;
            for s in &self.dev.out {
                match s {
                    Sent::ArpRequest(_) => arp += 1,
                    Sent::Tcp(t) => {
                        tcp += 1;
                        example = Some(t.clone());
                    }
                    Sent::Other => other += 1,
                }
            }
            panic!(
                "invariant: {sent} frames sent in one turn ({arp} ARP requests, {tcp} TCP segments, {other} others; last segment {example:?})"
            );
        }
        self.cov.max_frames_per_turn = self.cov.max_frames_per_turn.max(sent);
        for s in std::mem::take(&mut self.dev.out) {
            match s {
                Sent::ArpRequest(ip) if ip == PEER_IP => self.peer.arp_wanted = true,
                Sent::Tcp(t) => {
                    let hint = self.rng.next_u64() as u32;
                    self.peer.observe(&t, hint, step);
                }
                _ => {}
            }
        }
    }

    /// One turn: a generated frame (or burst of fragments) in, maybe an
    /// application action, time moves on, the stack is polled.
    pub fn step(&mut self, step: u64) {
        let (kind, frames) = gen::generate(&mut self.rng, &mut self.peer, step);
        self.cov.kinds[KINDS.iter().position(|&k| k == kind).unwrap_or(0)] += frames.len() as u64;
        self.cov.frames += frames.len() as u64;
        for f in frames {
            if self.rng.chance(8) {
                self.dev.rx.push_back(f); // through the driver path
            } else {
                self.stack.receive(self.now, self.iface, &f);
                self.check_counters("receive");
            }
        }
        if self.rng.chance(3) {
            self.app.act(&mut self.stack, &mut self.rng, self.now);
        }
        self.now += match self.rng.below(1000) {
            0..=2 => Duration::from_secs(10 + self.rng.below(200) as u64),
            3..=39 => Duration::from_millis(500 + self.rng.below(4500) as u64),
            40..=139 => Duration::from_millis(10 + self.rng.below(300) as u64),
            _ => Duration::from_micros(self.rng.below(3000) as u64),
        };
        if step % 64 == 0 {
            self.dev.busy_one_in = [0, 0, 0, 3, 50][self.rng.below(5)];
        }
        self.settle(step);
        if let Some(at) = self.stack.poll_at(self.now) {
            assert!(at > self.now, "invariant: poll_at {at:?} not after now");
        }
        self.app
            .sample_states(&mut self.stack, &mut self.cov.states);
    }
}

/// Runs `frames` frames with `seed`, then the end-of-run checks; returns
/// what was covered. Panics on a violated invariant; `progress` tells how
/// far it got.
pub fn run_seed(seed: u64, frames: u64, progress: &mut Progress) -> Coverage {
    let mut run = Run::new(seed);
    let mut step = 0;
    while run.cov.frames < frames {
        progress.frame = run.cov.frames;
        run.step(step);
        step += 1;
    }
    progress.frame = run.cov.frames;
    finish::finish(&mut run);
    run.cov.stats = counters(run.stack.stats());
    run.cov.stats_text = run.stack.stats().to_string();
    run.cov.seeds = 1;
    run.cov
}
