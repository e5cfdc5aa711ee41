//! The measurements of the `tap` group.
//!
//! - `tap-bulk` (scenario 3): one connection between the stack under test
//!   (the TCP client) and a Linux socket, data one way for a fixed time
//!   (0.5 s with `--quick`, 2 s otherwise, after a tenth of that to warm
//!   up), every byte checked by the receiver; metric `to-linux` (the stack
//!   sends) and `from-linux` (Linux sends), in Mbit/s of goodput; three
//!   runs of each (wolfip, smoltcp, the limit, in turn), the median.
//!
//!   The `tap-limit` rows are the device alone. `to-linux`: a loop that
//!   only writes 1514-byte frames addressed to another hardware address,
//!   which Linux drops as soon as it has read the Ethernet header.
//!   `from-linux`: a loop that only reads the 1514-byte frames of a Linux
//!   UDP flood to the stack's address (see [`peer::udp_flood`]: UDP
//!   segmentation offload, at most a queue's worth ahead of the reader, so
//!   nothing is dropped). Both count 1460 bytes a full frame (the TCP
//!   payload it carries without options) so that they compare with the
//!   goodput. The flood is limited by how fast Linux's sending threads
//!   make frames: on a small machine it can come out below a TCP
//!   connection, whose sending work is shared with the receiving side's
//!   CPU (which processes the ACKs and sends on from there).
//! - `tap-rr` (scenario 4): see [`super::rr`].
//! - `tap-accept` (scenario 5): the stack listens, four Linux client
//!   threads connect, send a byte, read it back and close, one connection
//!   after the other; connections accepted per second of wall time over
//!   the same fixed time, the median of three runs. wolfip listens with
//!   one socket and a backlog of all its other sockets; smoltcp has no
//!   backlog, so it gets as many listening sockets (each listens again
//!   once its connection is closed). The clients close first, and the
//!   namespace keeps no TIME-WAIT sockets (see `setup_tap`), so ports do
//!   not run out.

use std::net::{SocketAddrV4, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wolfip_core::phy::Device as _;
use wolfip_tap::Clock;

use super::peer::{self, Peer};
use super::stacks::{self, ConnState, TapStack};
use super::{TapLink, LINUX_IP, STACK_IP, STACK_MAC};
use crate::drive::Pattern;
use crate::output::Measurement;
use crate::Impl;

/// Timed runs of each kind, alternating between the kinds; the rows
/// give the median (wall-clock figures wander from run to run, more so on
/// a busy machine).
const ROUNDS: usize = 3;

/// The accept scenario's client threads.
const CLIENTS: usize = 4;
/// The TAP limit's UDP flood threads: one per CPU but the reader's, at
/// least 2 and at most 4. A flood thread does all of Linux's sending work
/// itself, where a TCP sender shares it with the receiving side's CPU,
/// which processes its ACKs (and sends on from there): with one flood
/// thread the device looked slower than a TCP connection over it.
fn floods() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    cpus.saturating_sub(1).clamp(2, 4)
}

/// State shared by the runs of the group.
pub(crate) struct Bench {
    pub(crate) quick: bool,
    /// The benchmark's namespace (peers check they are in it).
    pub(crate) ns: PathBuf,
    /// Runs so far: every run uses fresh ports and a fresh seed.
    runs: u16,
}

/// The address of Linux's side of the TAP, port `port`.
pub(crate) fn linux(port: u16) -> SocketAddrV4 {
    let [a, b, c, d] = LINUX_IP;
    SocketAddrV4::new(std::net::Ipv4Addr::new(a, b, c, d), port)
}

/// Which way the data goes in a bulk run.
#[derive(Clone, Copy, PartialEq)]
enum Dir {
    ToLinux,
    FromLinux,
}

impl Dir {
    /// The metric of the rows.
    fn metric(self) -> &'static str {
        match self {
            Dir::ToLinux => "to-linux",
            Dir::FromLinux => "from-linux",
        }
    }
}

/// Runs the stack until its client connection is established (at most
/// 5 s).
pub(crate) fn establish(
    s: &mut dyn TapStack,
    link: &mut TapLink,
    clock: &Clock,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        s.poll(link, clock.now());
        match s.state() {
            ConnState::Established => return Ok(()),
            ConnState::Failed(e) => return Err(format!("connecting: {e}")),
            ConnState::Connecting if Instant::now() >= deadline => {
                return Err("no connection within 5 s".into())
            }
            ConnState::Connecting => {}
        }
    }
}

/// Keeps the stack running (busy) until `peer` ends, at most 5 s.
fn finish<T>(
    s: &mut dyn TapStack,
    link: &mut TapLink,
    clock: &Clock,
    peer: Peer<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(r) = peer.try_result() {
            return r;
        }
        let now = clock.now();
        s.poll(link, now);
        s.serve(now);
    }
    peer.finish(Duration::from_secs(1))
}

impl Bench {
    /// Short runs with `quick`; the peers' namespace is `ns`.
    pub(crate) fn new(quick: bool, ns: PathBuf) -> Bench {
        Bench { quick, ns, runs: 0 }
    }

    /// The length of a timed run and of its warm-up.
    pub(crate) fn run_time(&self) -> (Duration, Duration) {
        let d = Duration::from_millis(if self.quick { 500 } else { 2000 });
        (d, d / 10)
    }

    /// A fresh (Linux port, stack port, seed) for the next run.
    pub(crate) fn next(&mut self) -> (u16, u16, u64) {
        self.runs += 1;
        (
            5000 + self.runs,
            40000 + self.runs,
            0x7a9 + self.runs as u64,
        )
    }

    /// Scenario 3: bulk TCP each way, and the TAP's own limit.
    pub(crate) fn bulk(
        &mut self,
        link: &mut TapLink,
        out: &mut Vec<Measurement>,
    ) -> Result<(), String> {
        let pattern = Arc::new(Pattern::new(3));
        for dir in [Dir::ToLinux, Dir::FromLinux] {
            let mut runs: [Vec<f64>; 3] = Default::default();
            for _ in 0..ROUNDS {
                runs[0].push(self.bulk_one(link, Impl::Wolfip, dir, &pattern)?);
                runs[1].push(self.bulk_one(link, Impl::Smoltcp, dir, &pattern)?);
                runs[2].push(self.limit(link, dir)?);
            }
            for (imp, v) in ["wolfip", "smoltcp", "tap-limit"].into_iter().zip(runs) {
                out.push(row("tap-bulk", imp, dir.metric(), median(v), "Mbit/s"));
            }
        }
        Ok(())
    }

    /// One bulk run of `imp` in direction `dir`; returns the goodput in
    /// Mbit/s.
    fn bulk_one(
        &mut self,
        link: &mut TapLink,
        imp: Impl,
        dir: Dir,
        pattern: &Arc<Pattern>,
    ) -> Result<f64, String> {
        let (port, local, seed) = self.next();
        link.drain();
        let l = TcpListener::bind(linux(port)).map_err(|e| format!("bind: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let (p, c, st) = (pattern.clone(), count.clone(), stop.clone());
        let peer = match dir {
            Dir::ToLinux => peer::spawn("sink", &self.ns, move || peer::sink(l, p, c, st)),
            Dir::FromLinux => peer::spawn("source", &self.ns, move || peer::source(l, p, st)),
        };
        let mut s = stacks::make(imp, seed, link);
        let clock = Clock::new();
        let r = (|| {
            s.connect(linux(port), local, clock.now())?;
            establish(&mut *s, link, &clock)?;
            let (run, warm) = self.run_time();
            let mut buf = vec![0u8; 64 * 1024];
            let (mut sent, mut received) = (0u64, 0u64);
            let start = Instant::now();
            let mut first: Option<(u64, Instant)> = None;
            loop {
                s.poll(link, clock.now());
                match dir {
                    Dir::ToLinux => loop {
                        let n = s.send(pattern.at(sent, 64 * 1024));
                        if n == 0 {
                            break;
                        }
                        sent += n as u64;
                    },
                    Dir::FromLinux => loop {
                        let n = s.recv(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        if buf[..n] != *pattern.at(received, n) {
                            return Err(format!("data differs within bytes {received}.."));
                        }
                        received += n as u64;
                    },
                }
                let done = match dir {
                    Dir::ToLinux => count.load(Ordering::Relaxed),
                    Dir::FromLinux => received,
                };
                let t = Instant::now();
                let el = t - start;
                match first {
                    None if el >= warm => first = Some((done, t)),
                    Some((d0, t0)) if el >= warm + run => {
                        if done == d0 {
                            return Err(format!("nothing arrived in {run:?}"));
                        }
                        let secs = (t - t0).as_secs_f64();
                        return Ok(((done - d0) as f64 * 8.0 / secs / 1e6, done));
                    }
                    _ => {}
                }
                if let Some(r) = peer.try_result() {
                    return Err(format!("the Linux peer ended early: {r:?}"));
                }
            }
        })();
        stop.store(true, Ordering::Relaxed);
        s.abort(clock.now());
        let peer_r = finish(&mut *s, link, &clock, peer);
        let (mbps, bytes) =
            r.map_err(|e| format!("tap-bulk {} {}: {e}", imp.name(), dir.metric()))?;
        let peer_bytes =
            peer_r.map_err(|e| format!("tap-bulk {} {}: {e}", imp.name(), dir.metric()))?;
        eprintln!(
            "tap-bulk {} {}: {mbps:.1} Mbit/s, {bytes} bytes checked (Linux: {peer_bytes})",
            imp.name(),
            dir.metric()
        );
        Ok(mbps)
    }

    /// The TAP device alone, in direction `dir`: see the module docs.
    fn limit(&mut self, link: &mut TapLink, dir: Dir) -> Result<f64, String> {
        let (port, _, _) = self.next();
        link.drain();
        let (run, warm) = self.run_time();
        let stop = Arc::new(AtomicBool::new(false));
        let read = Arc::new(AtomicU64::new(0));
        let queued = Arc::new(AtomicU64::new(0));
        let floods = if dir == Dir::FromLinux { floods() } else { 0 };
        let floods: Vec<_> = (0..floods)
            .map(|_| {
                let (st, rd, q) = (stop.clone(), read.clone(), queued.clone());
                let [a, b, c, d] = STACK_IP;
                let to = SocketAddrV4::new(std::net::Ipv4Addr::new(a, b, c, d), port);
                let from = *linux(0).ip();
                peer::spawn("udp-flood", &self.ns, move || {
                    peer::udp_flood(from, to, rd, q, st)
                })
            })
            .collect();
        // A full frame to a hardware address that is not Linux's: the
        // kernel drops it as soon as it sees the Ethernet header.
        let mut frame = vec![0u8; 1514];
        frame[..6].copy_from_slice(&[0x02, 0x57, 0x42, 0, 0, 0x99]);
        frame[6..12].copy_from_slice(&STACK_MAC);
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut buf = vec![0u8; 2048];
        let now = wolfip_core::Instant::ZERO;
        let (mut frames, mut payload, mut other) = (0u64, 0u64, 0u64);
        let start = Instant::now();
        let mut first: Option<(u64, Instant)> = None;
        let result = loop {
            for _ in 0..64 {
                match dir {
                    Dir::ToLinux => {
                        if link.0.transmit(now, &frame).is_ok() {
                            frames += 1;
                            payload += 1460;
                        }
                    }
                    Dir::FromLinux => match link.0.receive(now, &mut buf) {
                        Some(1514) => {
                            frames += 1;
                            payload += 1460;
                            if frames % 8 == 0 {
                                read.store(frames, Ordering::Relaxed);
                            }
                        }
                        Some(_) => other += 1,
                        None => {}
                    },
                }
            }
            let t = Instant::now();
            let el = t - start;
            match first {
                None if el >= warm => first = Some((payload, t)),
                Some((p0, t0)) if el >= warm + run => {
                    break Ok((payload - p0) as f64 * 8.0 / (t - t0).as_secs_f64() / 1e6);
                }
                _ => {}
            }
            if let Some(r) = floods.iter().find_map(|f| f.try_result()) {
                break Err(format!("a UDP flood ended early: {r:?}"));
            }
        };
        stop.store(true, Ordering::Relaxed);
        let mut sent = String::new();
        for f in floods {
            sent += &format!(", {} datagrams", f.finish(Duration::from_secs(5))?);
        }
        let mbps = result.map_err(|e| format!("tap-limit {}: {e}", dir.metric()))?;
        // Linux's counters of the TAP (its transmit drops: frames the
        // reader did not take in time).
        let counters = super::ip(&["-s", "-o", "link", "show", "dev", super::TAP])
            .map(|s| s.split("\\").skip(2).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        eprintln!(
            "tap-limit {}: {mbps:.1} Mbit/s, {frames} full frames, {other} others{sent}\n  {}",
            dir.metric(),
            counters.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        Ok(mbps)
    }

    /// Scenario 5: connections accepted per second.
    pub(crate) fn accept(
        &mut self,
        link: &mut TapLink,
        out: &mut Vec<Measurement>,
    ) -> Result<(), String> {
        let mut runs: [Vec<f64>; 2] = Default::default();
        for _ in 0..ROUNDS {
            runs[0].push(self.accept_one(link, Impl::Wolfip)?);
            runs[1].push(self.accept_one(link, Impl::Smoltcp)?);
        }
        for (imp, v) in [Impl::Wolfip, Impl::Smoltcp].into_iter().zip(runs) {
            out.push(row(
                "tap-accept",
                imp.name(),
                "accepts",
                median(v),
                "conn/s",
            ));
        }
        Ok(())
    }

    /// One accept run of `imp`; returns the connections accepted per
    /// second.
    fn accept_one(&mut self, link: &mut TapLink, imp: Impl) -> Result<f64, String> {
        let (port, _, seed) = self.next();
        link.drain();
        let mut s = stacks::make(imp, seed, link);
        // wolfip: one listener, every other socket for connections;
        // smoltcp: as many listening sockets.
        let slots = wolfip_core::config::TCP_SOCKETS - 1;
        s.listen(port, slots)?;
        let stop = Arc::new(AtomicBool::new(false));
        let [a, b, c, d] = STACK_IP;
        let to = SocketAddrV4::new(std::net::Ipv4Addr::new(a, b, c, d), port);
        let peers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let st = stop.clone();
                peer::spawn("client", &self.ns, move || peer::clients(to, st))
            })
            .collect();
        let clock = Clock::new();
        let (run, warm) = self.run_time();
        let mut accepted = 0u64;
        let start = Instant::now();
        let mut first: Option<(u64, Instant)> = None;
        let mut polls = 0u64;
        let before = link.0.stats();
        let rate = loop {
            let now = clock.now();
            s.poll(link, now);
            polls += 1;
            // What the server queues goes out with the next poll.
            accepted += s.serve(now);
            let t = Instant::now();
            let el = t - start;
            match first {
                None if el >= warm => first = Some((accepted, t)),
                Some((a0, t0)) if el >= warm + run => {
                    break (accepted - a0) as f64 / (t - t0).as_secs_f64();
                }
                _ => {}
            }
        };
        let after = link.0.stats();
        stop.store(true, Ordering::Relaxed);
        let mut counts = peer::ClientCounts::default();
        for p in peers {
            let c = finish(&mut *s, link, &clock, p)?;
            counts.done += c.done;
            counts.failed += c.failed;
            counts.first_error = counts.first_error.or(c.first_error);
        }
        eprintln!(
            "tap-accept {}: {rate:.0} conn/s; {polls} polls, frames in {} out {}; \
             clients: {} done, {} failed (first: {:?})",
            imp.name(),
            after.rx_frames - before.rx_frames,
            after.tx_frames - before.tx_frames,
            counts.done,
            counts.failed,
            counts.first_error
        );
        if counts.done == 0 {
            return Err(format!(
                "tap-accept {}: no connection completed",
                imp.name()
            ));
        }
        Ok(rate)
    }
}

/// The median of `v` (of an odd count; the upper middle otherwise).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A measurement row.
pub(crate) fn row(
    scenario: &'static str,
    imp: &'static str,
    metric: &'static str,
    value: f64,
    unit: &'static str,
) -> Measurement {
    Measurement {
        scenario,
        imp,
        metric,
        value,
        unit,
    }
}
