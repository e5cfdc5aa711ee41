//! Scenario 4, `tap-rr`: one-byte request/response round trips over one
//! TCP connection. The stack under test is the client (busy polling, as
//! everywhere in the group); the server is a Linux thread that echoes each
//! byte (a blocking socket, Nagle off). The client sends a byte, waits
//! for it to come back, and sends the next; each round trip is timed with
//! the wall clock; the median and 99th percentile in microseconds, after
//! 200 round trips to warm up. `linux` is the same exchange between two
//! Linux sockets, the client's in the benchmark's namespace and the echo
//! server's in a second one, over a veth pair (`198.51.100.0/24`); the
//! client busy-polls its non-blocking socket, the server thread blocks,
//! as with the stacks. The one-byte writes of a busy-polling client with
//! Nagle off never block.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use wolfip_tap::{netns, Clock};

use super::measure::{establish, linux, row, Bench};
use super::stacks;
use super::{ip, netns_id, thread_id, wait_link_up, TapLink};
use crate::output::Measurement;
use crate::Impl;

/// Round trips not counted at the start.
const WARM_UP: usize = 200;
/// The veth pair of the `linux` figure.
const VETH: (&str, &str) = ("wbv0", "wbv1");
/// The veth addresses: the client's and the server's.
const VETH_IP: (Ipv4Addr, Ipv4Addr) = (
    Ipv4Addr::new(198, 51, 100, 1),
    Ipv4Addr::new(198, 51, 100, 2),
);

/// Median and 99th percentile of `samples` (nanoseconds), in
/// microseconds.
fn percentiles(mut samples: Vec<u64>) -> (f64, f64) {
    samples.sort_unstable();
    let n = samples.len();
    let at = |q: usize| samples[(n * q / 100).min(n - 1)] as f64 / 1e3;
    (at(50), at(99))
}

impl Bench {
    /// Round trips to time.
    fn round_trips(&self) -> usize {
        if self.quick {
            2_000
        } else {
            20_000
        }
    }

    /// Scenario 4 for both stacks and Linux.
    pub(crate) fn rr(
        &mut self,
        link: &mut TapLink,
        out: &mut Vec<Measurement>,
    ) -> Result<(), String> {
        for imp in [Impl::Wolfip, Impl::Smoltcp] {
            let (median, p99) = self
                .rr_stack(link, imp)
                .map_err(|e| format!("tap-rr {}: {e}", imp.name()))?;
            out.push(row("tap-rr", imp.name(), "median", median, "us"));
            out.push(row("tap-rr", imp.name(), "p99", p99, "us"));
        }
        let (median, p99) = self.rr_linux().map_err(|e| format!("tap-rr linux: {e}"))?;
        out.push(row("tap-rr", "linux", "median", median, "us"));
        out.push(row("tap-rr", "linux", "p99", p99, "us"));
        Ok(())
    }

    /// Round trips with `imp` as the client; median and 99th percentile
    /// in microseconds.
    fn rr_stack(&mut self, link: &mut TapLink, imp: Impl) -> Result<(f64, f64), String> {
        let (port, local, seed) = self.next();
        link.drain();
        let l = TcpListener::bind(linux(port)).map_err(|e| format!("bind: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let peer = super::peer::spawn("echo", &self.ns, move || super::peer::echo(l, st));
        let mut s = stacks::make(imp, seed, link);
        let clock = Clock::new();
        let n = self.round_trips();
        let r = (|| {
            s.connect(linux(port), local, clock.now())?;
            establish(&mut *s, link, &clock)?;
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut samples = Vec::with_capacity(n);
            let mut b = [0u8; 1];
            for i in 0..WARM_UP + n {
                let byte = [i as u8];
                let t = Instant::now();
                while s.send(&byte) == 0 {
                    s.poll(link, clock.now());
                    if Instant::now() >= deadline {
                        return Err(format!("send blocked at round trip {i}"));
                    }
                }
                loop {
                    s.poll(link, clock.now());
                    match s.recv(&mut b)? {
                        0 => {}
                        _ if b[0] != byte[0] => {
                            return Err(format!("echo {} instead of {}", b[0], byte[0]))
                        }
                        _ => break,
                    }
                    if Instant::now() >= deadline {
                        return Err(format!("no echo within 30 s, round trip {i}"));
                    }
                }
                if i >= WARM_UP {
                    samples.push(t.elapsed().as_nanos() as u64);
                }
            }
            Ok(samples)
        })();
        stop.store(true, Ordering::Relaxed);
        s.abort(clock.now());
        s.poll(link, clock.now());
        let echoed = peer.finish(Duration::from_secs(5));
        let samples = r?;
        let echoed = echoed?;
        let (median, p99) = percentiles(samples);
        eprintln!(
            "tap-rr {}: median {median:.1} us, p99 {p99:.1} us over {n} round trips ({echoed} echoed)",
            imp.name()
        );
        Ok((median, p99))
    }

    /// Linux to Linux over a veth pair between this namespace and a second
    /// one, made by a thread that leaves this namespace for a new one.
    fn rr_linux(&mut self) -> Result<(f64, f64), String> {
        let (port, _, _) = self.next();
        let ns = self.ns.clone();
        let (tid_tx, tid_rx) = mpsc::channel::<Result<String, String>>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<()>();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let server = super::peer::spawn("veth-echo", &self.ns, move || {
            let moved = netns::unshare_net()
                .map_err(|e| format!("unshare: {e}"))
                .and_then(|()| netns_id().map_err(|e| e.to_string()))
                .and_then(|here| {
                    if here == ns {
                        Err("still in the benchmark's namespace after unshare".to_string())
                    } else {
                        thread_id().map_err(|e| e.to_string())
                    }
                });
            let failed = moved.is_err();
            let _ = tid_tx.send(moved.clone());
            if failed {
                return moved.map(|_| 0);
            }
            go_rx
                .recv_timeout(Duration::from_secs(10))
                .map_err(|_| "no veth within 10 s".to_string())?;
            ip(&["addr", "add", &format!("{}/24", VETH_IP.1), "dev", VETH.1])?;
            ip(&["link", "set", "dev", VETH.1, "addrgenmode", "none"])?;
            ip(&["link", "set", "dev", VETH.1, "up"])?;
            let l = TcpListener::bind((VETH_IP.1, port)).map_err(|e| format!("bind: {e}"))?;
            let _ = ready_tx.send(());
            super::peer::echo(l, st)
        });
        let r = (|| {
            let tid = tid_rx
                .recv_timeout(Duration::from_secs(5))
                .map_err(|_| "the server thread did not start".to_string())??;
            ip(&[
                "link", "add", VETH.0, "type", "veth", "peer", "name", VETH.1,
            ])?;
            ip(&["link", "set", "dev", VETH.1, "netns", &tid])?;
            ip(&["addr", "add", &format!("{}/24", VETH_IP.0), "dev", VETH.0])?;
            ip(&["link", "set", "dev", VETH.0, "addrgenmode", "none"])?;
            ip(&["link", "set", "dev", VETH.0, "up"])?;
            let _ = go_tx.send(());
            ready_rx
                .recv_timeout(Duration::from_secs(10))
                .map_err(|_| "the server did not listen within 10 s".to_string())?;
            wait_link_up(VETH.0)?;
            let to = SocketAddr::V4(SocketAddrV4::new(VETH_IP.1, port));
            let mut c = TcpStream::connect_timeout(&to, Duration::from_secs(2))
                .map_err(|e| format!("connect: {e}"))?;
            c.set_nodelay(true).map_err(|e| e.to_string())?;
            // The client busy-polls, as the stacks under test do.
            c.set_nonblocking(true).map_err(|e| e.to_string())?;
            let deadline = Instant::now() + Duration::from_secs(30);
            let n = self.round_trips();
            let mut samples = Vec::with_capacity(n);
            let mut b = [0u8; 1];
            for i in 0..WARM_UP + n {
                let byte = [i as u8];
                let t = Instant::now();
                c.write_all(&byte).map_err(|e| format!("write: {e}"))?;
                loop {
                    match c.read(&mut b) {
                        Ok(1) => break,
                        Ok(_) => return Err("end of stream".into()),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            if Instant::now() >= deadline {
                                return Err(format!("no echo within 30 s, round trip {i}"));
                            }
                        }
                        Err(e) => return Err(format!("read: {e}")),
                    }
                }
                if b != byte {
                    return Err(format!("echo {} instead of {}", b[0], byte[0]));
                }
                if i >= WARM_UP {
                    samples.push(t.elapsed().as_nanos() as u64);
                }
            }
            Ok(samples)
        })();
        stop.store(true, Ordering::Relaxed);
        // Lets a server still waiting for its veth give up at once.
        drop(go_tx);
        let echoed = server.finish(Duration::from_secs(5));
        // Gone with the server's namespace anyway; this is for an early
        // failure.
        let _ = ip(&["link", "del", VETH.0]);
        let samples = r?;
        let echoed = echoed?;
        let (median, p99) = percentiles(samples);
        eprintln!("tap-rr linux (veth): median {median:.1} us, p99 {p99:.1} us ({echoed} echoed)");
        Ok((median, p99))
    }
}

#[cfg(test)]
mod tests {
    use super::percentiles;

    #[test]
    fn percentiles_of_a_ramp() {
        let (median, p99) = percentiles((1..=1000u64).rev().map(|i| i * 1000).collect());
        assert_eq!((median, p99), (501.0, 991.0));
    }
}
