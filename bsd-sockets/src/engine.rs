//! The calls as an application sees them: blocking or not, with timeouts
//! and the `MSG_*` flags, over any platform that supplies a [`Port`].
//!
//! [`Sockets`] answers every call at once (`EAGAIN`, `EINPROGRESS`, ...).
//! The [`Engine`] turns those answers into waits: it runs the call under
//! the port's one lock, and when the call would block on a blocking
//! descriptor it waits for the port's wake counter to move (or the
//! descriptor's timeout to pass) without holding the lock, so other threads
//! keep using other sockets meanwhile. Whoever changes socket state (the
//! driver's input, the timers, another call) wakes the waiters; each
//! re-checks its own condition.

use crate::errno::Errno;
use crate::ops::{Received, Sockets};
use crate::table::{Proto, POLL_MAX};
use wolfip_core::{Duration, Instant, SocketAddrV4, Stack, TcpState};

/// What a platform supplies to run the socket layer: the one lock around
/// the stack and the descriptor table, the time, and a wait/wake pair
/// (for threads, and for the wakers of futures).
///
/// The wake counter works like a futex word: [`Port::wake`] advances it
/// and wakes every waiter; [`Port::wait`] and [`Port::register_waker`]
/// return or wake at once when it already differs from the value the
/// caller read under the lock, so no wake-up between the check and the
/// wait is lost.
pub trait Port {
    /// Runs `f` under the lock with the stack, the table and the current
    /// time, having told the stack that time first
    /// ([`Stack::advance_clock`]). Before releasing the lock the port hands
    /// the frames `f` queued to its drivers and processes the loopback
    /// queue.
    fn with<R>(&self, f: impl FnOnce(&mut Stack, &mut Sockets, Instant) -> R) -> R;
    /// The current time (the same clock `with` passes).
    fn now(&self) -> Instant;
    /// The wake counter.
    fn epoch(&self) -> u32;
    /// Blocks the calling thread, without the lock, until the wake counter
    /// differs from `seen` or `deadline` has passed. Spurious returns are
    /// allowed.
    fn wait(&self, seen: u32, deadline: Option<Instant>);
    /// Advances the wake counter and wakes every waiting thread and every
    /// registered [`core::task::Waker`]; also tells the port's timer loop
    /// that deadlines may have moved.
    fn wake(&self);
    /// Wakes `waker` once, at the next advance of the wake counter after
    /// the value `seen`; at once if the counter already differs from
    /// `seen`. The asynchronous counterpart of [`Port::wait`]: a future
    /// tries its call under the lock, reads [`Port::epoch`] there when the
    /// call would block, registers its waker with that value (called
    /// without the lock) and returns `Pending`. A registration is one
    /// wake-up; the future registers again when it is polled and still has
    /// to wait.
    ///
    /// A port must never drop a registration silently: with no room left
    /// it wakes the waker at once (the future polls again, which is
    /// correct but spins). [`Port::wake`] advances the counter before it
    /// takes the registered wakers, and wakes them without holding its
    /// own locks: a waker runs the executor's code.
    fn register_waker(&self, seen: u32, waker: &core::task::Waker);
}

/// `MSG_*` flags understood by send and receive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgFlags {
    /// `MSG_DONTWAIT`: this call does not block.
    pub dontwait: bool,
    /// `MSG_PEEK`: read without consuming.
    pub peek: bool,
    /// `MSG_WAITALL`: a blocking read waits for the whole buffer.
    pub waitall: bool,
    /// `MSG_OOB`: urgent data, which this stack does not keep.
    pub oob: bool,
}

impl MsgFlags {
    /// Decodes the `flags` argument of send/recv.
    pub fn from_bits(flags: i32) -> MsgFlags {
        MsgFlags {
            dontwait: flags & libc::MSG_DONTWAIT != 0,
            peek: flags & libc::MSG_PEEK != 0,
            waitall: flags & libc::MSG_WAITALL != 0,
            oob: flags & libc::MSG_OOB != 0,
        }
    }
}

/// One entry of a `poll` set: a descriptor of ours, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollEntry {
    /// The descriptor; negative entries are skipped.
    pub fd: i32,
    /// The events asked for.
    pub events: i16,
    /// The events found.
    pub revents: i16,
}

/// How long a blocking call may wait.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// Not at all (non-blocking).
    No,
    /// Until this instant, or forever.
    Until(Option<Instant>),
}

/// The blocking socket calls over a [`Port`].
#[derive(Debug)]
pub struct Engine<P: Port> {
    port: P,
}

/// Which timeout of the descriptor bounds a wait.
#[derive(Debug, Clone, Copy)]
enum Dir {
    Recv,
    Send,
}

fn would_block(r: &Result<impl Sized, Errno>) -> bool {
    matches!(r, Err(e) if *e == Errno::EAGAIN)
}

impl<P: Port> Engine<P> {
    /// An engine over `port`.
    pub const fn new(port: P) -> Engine<P> {
        Engine { port }
    }

    /// The port.
    pub fn port(&self) -> &P {
        &self.port
    }

    /// Runs a call that cannot block; wakes the waiters when it succeeded
    /// (it may have changed what they wait for).
    pub fn call<R>(
        &self,
        f: impl FnOnce(&mut Stack, &mut Sockets, Instant) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let r = self.port.with(f);
        if r.is_ok() {
            self.port.wake();
        }
        r
    }

    /// The core of every blocking call: runs `attempt` until it gives an
    /// answer that is not "would block", waiting between attempts. `fd` is
    /// held busy meanwhile, so that a `close` from another thread does not
    /// wake the call (Linux) but takes effect when it returns.
    fn blocking<R>(
        &self,
        fd: i32,
        dir: Dir,
        dontwait: bool,
        mut attempt: impl FnMut(&mut Stack, &mut Sockets, Instant) -> Step<R>,
    ) -> Result<R, Errno> {
        let mut wait = Wait::No;
        let mut seen = 0;
        let first = self.port.with(|stack, s, now| {
            let e = *s.table.get(fd)?;
            let step = attempt(stack, s, now);
            if let Step::Pending(_) = step {
                if !(e.nonblock || dontwait) {
                    let us = match dir {
                        Dir::Recv => e.opts.rcvtimeo_us,
                        Dir::Send => e.opts.sndtimeo_us,
                    };
                    wait = Wait::Until((us > 0).then(|| now + Duration::from_micros(us)));
                    s.table.enter(fd)?;
                    seen = self.port.epoch();
                }
            }
            Ok::<_, Errno>(step)
        })?;
        let mut step = first;
        let Wait::Until(deadline) = wait else {
            return self.finish(step);
        };
        loop {
            if let Step::Done(_) = step {
                break;
            }
            self.port.wait(seen, deadline);
            let (next, timed_out) = self.port.with(|stack, s, now| {
                let timed_out = deadline.is_some_and(|d| now >= d);
                let closing = s.table.slot(fd).is_none_or(|e| e.closing);
                seen = self.port.epoch();
                if closing {
                    // Linux does not wake a call whose descriptor another
                    // thread closed: it runs to its timeout.
                    return (Step::Pending(Err(Errno::EAGAIN)), timed_out);
                }
                (attempt(stack, s, now), timed_out)
            });
            step = next;
            if timed_out {
                break;
            }
        }
        self.port.with(|stack, s, now| {
            if let Some(e) = s.table.leave(fd) {
                Sockets::release(stack, e, now);
            }
        });
        self.finish(step)
    }

    fn finish<R>(&self, step: Step<R>) -> Result<R, Errno> {
        let r = match step {
            Step::Done(r) | Step::Pending(r) => r,
        };
        if !would_block(&r) {
            self.port.wake();
        }
        r
    }

    /// Blocks the calling thread, without the lock and without spinning,
    /// until `check` (run under the lock first and after every wake-up)
    /// gives an answer, or `deadline` passes (`None` then; no deadline:
    /// forever). For what is not a descriptor: a DNS query, a DHCP lease.
    pub fn wait_until<R>(
        &self,
        deadline: Option<Instant>,
        mut check: impl FnMut(&mut Stack, &mut Sockets, Instant) -> Option<R>,
    ) -> Option<R> {
        loop {
            let (r, seen, now) = self
                .port
                .with(|stack, s, now| (check(stack, s, now), self.port.epoch(), now));
            if r.is_some() {
                return r;
            }
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            self.port.wait(seen, deadline);
        }
    }

    /// Runs `f` on the descriptor table alone (flags, lookups).
    pub fn table<R>(&self, f: impl FnOnce(&mut Sockets) -> R) -> R {
        self.port.with(|_, s, _| f(s))
    }

    /// `socket`.
    pub fn socket(&self, domain: i32, ty: i32, protocol: i32) -> Result<i32, Errno> {
        self.call(|stack, s, _| s.socket(stack, domain, ty, protocol))
    }

    /// `bind`.
    pub fn bind(&self, fd: i32, addr: SocketAddrV4) -> Result<(), Errno> {
        self.call(|stack, s, _| s.bind(stack, fd, addr))
    }

    /// `listen`.
    pub fn listen(&self, fd: i32, backlog: i32) -> Result<(), Errno> {
        self.call(|stack, s, _| s.listen(stack, fd, backlog))
    }

    /// `shutdown`: wakes calls blocked on `fd` (an accept then fails with
    /// `EINVAL`, a recv returns 0, as on Linux).
    pub fn shutdown(&self, fd: i32, how: i32) -> Result<(), Errno> {
        self.call(|stack, s, now| s.shutdown(stack, fd, how, now))
    }

    /// `setsockopt` with the value as bytes.
    pub fn setsockopt(&self, fd: i32, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        self.call(|stack, s, _| s.setsockopt(stack, fd, level, name, value))
    }

    /// `getsockopt` into `out`; returns the bytes written.
    pub fn getsockopt(
        &self,
        fd: i32,
        level: i32,
        name: i32,
        out: &mut [u8],
    ) -> Result<usize, Errno> {
        self.call(|stack, s, _| s.getsockopt(stack, fd, level, name, out))
    }

    /// `getsockname`.
    pub fn getsockname(&self, fd: i32) -> Result<SocketAddrV4, Errno> {
        self.call(|stack, s, _| s.getsockname(stack, fd))
    }

    /// `getpeername`.
    pub fn getpeername(&self, fd: i32) -> Result<SocketAddrV4, Errno> {
        self.call(|stack, s, _| s.getpeername(stack, fd))
    }

    /// `accept4`.
    pub fn accept(&self, fd: i32, flags: i32) -> Result<(i32, SocketAddrV4), Errno> {
        self.blocking(fd, Dir::Recv, false, |stack, s, _| {
            Step::of(s.accept(stack, fd, flags))
        })
    }

    /// `connect`: a blocking one waits for the handshake (bounded by
    /// `SO_SNDTIMEO`, then `EINPROGRESS` as on Linux).
    pub fn connect(&self, fd: i32, addr: Option<SocketAddrV4>) -> Result<(), Errno> {
        let mut started = false;
        let r = self.blocking(fd, Dir::Send, false, |stack, s, now| {
            let r = s.connect(stack, fd, addr, now);
            match r {
                Err(e) if e == Errno::EINPROGRESS => {
                    started = true;
                    Step::Pending(r)
                }
                Err(e) if e == Errno::EALREADY && started => Step::Pending(Err(Errno::EINPROGRESS)),
                _ => Step::Done(r),
            }
        });
        if started && matches!(r, Err(e) if e != Errno::EINPROGRESS) {
            // A blocking connect consumed its error: the next one starts a
            // new attempt (Linux).
            self.table(|s| {
                if let Ok(e) = s.table.get(fd) {
                    e.connect_failed_reported = false;
                }
            });
        }
        r
    }

    /// `sendto` / `send`: a blocking TCP send queues everything (or what
    /// fit before the timeout); `MSG_NOSIGNAL` is the caller's concern.
    pub fn sendto(
        &self,
        fd: i32,
        data: &[u8],
        to: Option<SocketAddrV4>,
        flags: MsgFlags,
    ) -> Result<usize, Errno> {
        let mut sent = 0;
        let stream = self
            .port
            .with(|_, s, _| s.table.get(fd).map(|e| matches!(e.proto, Proto::Tcp(_))))?;
        if flags.oob && !stream {
            return Err(Errno::EOPNOTSUPP);
        }
        self.blocking(fd, Dir::Send, flags.dontwait, |stack, s, now| {
            match s.sendto(stack, fd, &data[sent..], to, now) {
                Ok(n) if stream && sent + n < data.len() => {
                    sent += n;
                    Step::Pending(Ok(sent))
                }
                Ok(n) => Step::Done(Ok(sent + n)),
                Err(e) if e == Errno::EAGAIN => {
                    Step::Pending(if sent > 0 { Ok(sent) } else { Err(e) })
                }
                // An error after some bytes went: report the bytes (Linux);
                // the error comes with the next call.
                Err(_) if sent > 0 => Step::Done(Ok(sent)),
                Err(e) => Step::Done(Err(e)),
            }
        })
    }

    /// `recvfrom` / `recv`, with `MSG_PEEK`, `MSG_WAITALL`, `MSG_DONTWAIT`.
    pub fn recvfrom(&self, fd: i32, buf: &mut [u8], flags: MsgFlags) -> Result<Received, Errno> {
        let stream = self
            .port
            .with(|_, s, _| s.table.get(fd).map(|e| matches!(e.proto, Proto::Tcp(_))))?;
        // No urgent data is ever kept: Linux's answer for a stream without
        // any; a datagram socket ignores the flag.
        if flags.oob && stream {
            return Err(Errno::EINVAL);
        }
        let want_all = flags.waitall && stream && !buf.is_empty();
        let mut got = 0;
        let total = buf.len();
        self.blocking(fd, Dir::Recv, flags.dontwait, |stack, s, _| {
            if flags.peek {
                let r = s.recv_with(stack, fd, buf, true);
                return match r {
                    Ok(x) if want_all && x.len > 0 && x.len < total && !peer_done(stack, s, fd) => {
                        Step::Pending(Ok(x))
                    }
                    Err(e) if e == Errno::EAGAIN => Step::Pending(r),
                    _ => Step::Done(r),
                };
            }
            let r = s.recv_with(stack, fd, &mut buf[got..], false);
            match r {
                Ok(x) if want_all && x.len > 0 && got + x.len < total => {
                    got += x.len;
                    Step::Pending(Ok(Received { len: got, ..x }))
                }
                Ok(x) => Step::Done(Ok(Received {
                    len: got + x.len,
                    ..x
                })),
                Err(e) if e == Errno::EAGAIN && got > 0 => Step::Pending(Ok(Received {
                    len: got,
                    full_len: got,
                    from: None,
                })),
                Err(e) if e == Errno::EAGAIN => Step::Pending(r),
                Err(_) if got > 0 => Step::Done(Ok(Received {
                    len: got,
                    full_len: got,
                    from: None,
                })),
                Err(_) => Step::Done(r),
            }
        })
    }

    /// `close`.
    pub fn close(&self, fd: i32) -> Result<(), Errno> {
        self.call(|stack, s, now| s.close(stack, fd, now))
    }

    /// `poll` over descriptors of ours (`timeout_ms` < 0: forever). Returns
    /// the number of entries with events; `POLLNVAL` counts, fd < 0 is
    /// skipped. `EINVAL` past [`POLL_MAX`] entries.
    pub fn poll(&self, fds: &mut [PollEntry], timeout_ms: i32) -> Result<usize, Errno> {
        if fds.len() > POLL_MAX {
            return Err(Errno::EINVAL);
        }
        let deadline =
            (timeout_ms >= 0).then(|| self.port.now() + Duration::from_millis(timeout_ms as u64));
        loop {
            let (n, seen, now) = self
                .port
                .with(|stack, s, now| (scan(stack, s, fds), self.port.epoch(), now));
            if n > 0 || deadline.is_some_and(|d| now >= d) {
                return Ok(n);
            }
            self.port.wait(seen, deadline);
        }
    }
}

/// Whether the peer closed (so a peeking `MSG_WAITALL` cannot get more).
fn peer_done(stack: &mut Stack, s: &mut Sockets, fd: i32) -> bool {
    match s.table.get(fd).map(|e| e.proto) {
        Ok(Proto::Tcp(h)) => {
            stack.tcp_peer_closed(h) || matches!(stack.tcp_state(h), Some(TcpState::Closed) | None)
        }
        _ => true,
    }
}

/// Fills `revents` of every entry; returns how many have some.
pub fn scan(stack: &mut Stack, s: &mut Sockets, fds: &mut [PollEntry]) -> usize {
    let always = crate::poll::POLLERR | crate::poll::POLLHUP | crate::poll::POLLNVAL;
    let mut n = 0;
    for p in fds.iter_mut() {
        p.revents = if p.fd < 0 {
            0
        } else {
            s.revents(stack, p.fd) & (p.events | always)
        };
        if p.revents != 0 {
            n += 1;
        }
    }
    n
}

/// One attempt's outcome: final, or to be retried after a wait (carrying
/// what to return if the wait times out).
enum Step<R> {
    Done(Result<R, Errno>),
    Pending(Result<R, Errno>),
}

impl<R> Step<R> {
    fn of(r: Result<R, Errno>) -> Step<R> {
        if would_block(&r) {
            Step::Pending(r)
        } else {
            Step::Done(r)
        }
    }
}
