//! The hosted (Linux) port: one process-wide stack behind one
//! [`Mutex`], a service thread that drives the TAP devices and the timers,
//! and a [`Condvar`] on which blocked callers sleep.
//!
//! Futures wait through the same wake counter: [`Port::register_waker`]
//! keeps their wakers in a fixed table of [`ASYNC_WAKERS`] entries,
//! emptied and woken at every wake.
//!
//! Two ways to run it:
//! * [`init`]: the service thread reads the TAP devices attached with
//!   [`tap_attach`], runs the timers by the monotonic clock and wakes the
//!   waiting callers.
//! * [`init_driven`]: no thread; the application drives the stack as an
//!   embedded port would (registered drivers, [`input`], [`service`] with
//!   its own time). This is the bare-metal/RTOS contract of
//!   `docs/porting.md`, runnable on a host.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::Waker as TaskWaker;

use crate::engine::{Engine, Port};
use crate::errno::Errno;
use crate::ops::Sockets;
use wolfip_core::phy::Device;
use wolfip_core::rand::EntropySource;
use wolfip_core::time::earliest;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{IfaceConfig, IfaceId, Instant, Ipv4Addr, Ipv4Cidr, Stack};
use wolfip_tap::{boxed_stack, preserve_errno, Clock, OsEntropy, TapDevice, Waker};

/// Wakers of futures the hosted port can hold at once
/// (`WOLFIP_ASYNC_WAKERS`, default 64): one per task waiting on the stack
/// (a waker registered again takes no second slot). When the table is
/// full a new registration wakes its waker at once instead of waiting
/// (the future polls again, so nothing is lost, but it spins until room
/// is free); that is the only degraded path. A wake copies the table to
/// the stack of the thread that wakes (16 bytes an entry).
pub const ASYNC_WAKERS: usize = wolfip_core::config::env_or(option_env!("WOLFIP_ASYNC_WAKERS"), 64);

const _: () = assert!(
    ASYNC_WAKERS >= 1 && ASYNC_WAKERS <= 4096,
    "WOLFIP_ASYNC_WAKERS must be 1..=4096"
);

/// The registered wakers: fixed slots, no allocation.
struct Wakers {
    slots: [Option<TaskWaker>; ASYNC_WAKERS],
}

impl Wakers {
    const fn new() -> Wakers {
        Wakers {
            slots: [const { None }; ASYNC_WAKERS],
        }
    }

    /// Keeps `waker` unless an equivalent one is there; false when full.
    fn insert(&mut self, waker: &TaskWaker) -> bool {
        let mut free = None;
        for (i, slot) in self.slots.iter().enumerate() {
            match slot {
                Some(w) if w.will_wake(waker) => return true,
                None if free.is_none() => free = Some(i),
                _ => {}
            }
        }
        match free {
            Some(i) => {
                self.slots[i] = Some(waker.clone());
                true
            }
            None => false,
        }
    }
}

/// A driver as an embedded port registers it: frames out through the
/// device, frames in through [`input`].
pub type Driver = Box<dyn Device + Send>;

/// How the stack is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// By the service thread, on the monotonic clock.
    Threaded,
    /// By the application's calls to [`service`], on its time.
    Driven,
}

struct Inner {
    stack: Box<Stack>,
    sockets: Sockets,
    taps: Vec<(IfaceId, TapDevice)>,
    drivers: Vec<(IfaceId, Driver)>,
}

impl Inner {
    /// Hands queued frames to every device and processes the loopback
    /// queue.
    fn egress(&mut self, now: Instant) {
        self.stack.dispatch(now);
        for (id, dev) in self.taps.iter_mut() {
            self.stack.transmit(now, *id, dev);
        }
        for (id, dev) in self.drivers.iter_mut() {
            self.stack.transmit(now, *id, dev.as_mut());
        }
    }
}

/// The hosted [`Port`].
pub struct Hosted {
    mode: Mode,
    inner: Mutex<Inner>,
    epoch: AtomicU32,
    sleepers: (Mutex<()>, Condvar),
    wakers: Mutex<Wakers>,
    service_waker: Waker,
    clock: Clock,
    driven_now: AtomicU64,
}

impl core::fmt::Debug for Hosted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hosted").field("mode", &self.mode).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic under the lock (a bug) must not turn every later call into
    // another panic: the state is still consistent between calls.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hosted {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// The mode chosen at start-up.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Advances the wake counter, then wakes the sleeping threads and the
    /// registered wakers. The counter moves first: a registration that
    /// comes after it sees the new value and wakes at once, one that came
    /// before is in the table drained here. The wakers are woken outside
    /// the table's mutex (a waker may register again at once).
    fn wake_waiters(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _g = lock(&self.sleepers.0);
            self.sleepers.1.notify_all();
        }
        let mut woken = [const { None }; ASYNC_WAKERS];
        let mut any = false;
        {
            let mut g = lock(&self.wakers);
            for (slot, out) in g.slots.iter_mut().zip(woken.iter_mut()) {
                if slot.is_some() {
                    *out = slot.take();
                    any = true;
                }
            }
        }
        if any {
            for w in woken.iter_mut().filter_map(Option::take) {
                w.wake();
            }
        }
    }

    /// One turn of the service thread: read the TAPs, run the timers,
    /// transmit; returns the next deadline.
    fn turn(&self) -> Option<Instant> {
        let mut g = self.inner();
        let inner = &mut *g;
        let now = self.now();
        let mut next = None;
        for (id, dev) in inner.taps.iter_mut() {
            next = earliest(next, inner.stack.poll(now, *id, dev));
        }
        inner.egress(now);
        drain_events(&mut inner.stack);
        next = earliest(next, inner.stack.poll_at(now));
        drop(g);
        // Every turn wakes the waiters: what a frame or a timer changed
        // (a socket's state, a finished DNS query, a DHCP lease) is
        // theirs to check.
        self.wake_waiters();
        next
    }

    fn serve_forever(&self) {
        let mut fds = Vec::with_capacity(wolfip_core::config::INTERFACES + 1);
        loop {
            let next = self.turn();
            fds.clear();
            fds.push(std::os::fd::AsRawFd::as_raw_fd(&self.service_waker.as_fd()));
            fds.extend(
                self.inner()
                    .taps
                    .iter()
                    .map(|(_, t)| std::os::fd::AsRawFd::as_raw_fd(t)),
            );
            let timeout = next.map(|t| self.clock.until(t));
            if timeout.is_none_or(|t| !t.is_zero()) {
                let _ = wolfip_tap::wait_readable_any(&fds, timeout);
            }
            self.service_waker.drain();
        }
    }
}

use std::os::fd::AsFd;

/// Packets the stack handled so far, to tell whether a turn did anything.
fn activity(stack: &Stack) -> u64 {
    let s = stack.stats();
    s.ip.rx.wrapping_add(s.ip.tx).wrapping_add(s.arp.rx)
}

/// Empties the core's event queue; true when there was any event.
///
/// The hosted port reads the outcome itself (`Stack::dns_result`,
/// `Stack::dhcp_lease`) in the calls waiting for it; an event only means
/// "look again", which waking the waiters says. Draining keeps the fixed
/// queue from overflowing (and counting drops) when nobody reads it.
fn drain_events(stack: &mut Stack) -> bool {
    let mut any = false;
    while stack.poll_event().is_some() {
        any = true;
    }
    any
}

impl Port for Hosted {
    fn with<R>(&self, f: impl FnOnce(&mut Stack, &mut Sockets, Instant) -> R) -> R {
        // The system calls made here and in `wait`/`wake` on the caller's
        // behalf (TAP writes, futex waits) must not change its errno.
        preserve_errno(|| {
            let mut g = self.inner();
            let inner = &mut *g;
            let now = self.now();
            // The service thread may have slept a long time: calls that use
            // the stack's own notion of now (the DNS cache, dhcp_start)
            // must see the real time.
            inner.stack.advance_clock(now);
            let r = f(&mut inner.stack, &mut inner.sockets, now);
            let before = activity(&inner.stack);
            inner.egress(now);
            // Loopback traffic processed here (a handshake between two
            // local sockets, data to a local peer, a DNS answer from a
            // local server) changes what others wait for: wake them. The
            // counter moves after the change, so a caller that read it
            // inside `f` (or any earlier `with`) does not sleep through
            // it; the wake runs after the lock is released, so that no
            // future's waker runs under it.
            let events = drain_events(&mut inner.stack);
            let changed = activity(&inner.stack) != before || events;
            drop(g);
            if changed {
                self.wake_waiters();
            }
            r
        })
    }

    fn now(&self) -> Instant {
        match self.mode {
            Mode::Threaded => self.clock.now(),
            Mode::Driven => Instant::from_micros(self.driven_now.load(Ordering::SeqCst)),
        }
    }

    fn epoch(&self) -> u32 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn wait(&self, seen: u32, deadline: Option<Instant>) {
        preserve_errno(|| self.sleep(seen, deadline));
    }

    fn wake(&self) {
        preserve_errno(|| {
            self.wake_waiters();
            if self.mode == Mode::Threaded {
                self.service_waker.notify();
            }
        });
    }

    fn register_waker(&self, seen: u32, waker: &TaskWaker) {
        let kept = {
            let mut g = lock(&self.wakers);
            // Read under the table's mutex: a wake that moved the counter
            // after this check drains the table after this insertion.
            self.epoch() == seen && g.insert(waker)
        };
        if !kept {
            // The counter moved already, or the table is full (the one
            // degraded path: the future polls again at once).
            waker.wake_by_ref();
        }
    }
}

impl Hosted {
    fn sleep(&self, seen: u32, deadline: Option<Instant>) {
        let mut g = lock(&self.sleepers.0);
        if self.epoch() != seen {
            return;
        }
        let left = match (self.mode, deadline) {
            (Mode::Threaded, Some(d)) => Some(self.clock.until(d)),
            // Driven time only moves in `service`, which wakes everyone.
            _ => None,
        };
        g = match left {
            Some(t) if t.is_zero() => return,
            Some(t) => self
                .sleepers
                .1
                .wait_timeout(g, t)
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0),
            None => self.sleepers.1.wait(g).unwrap_or_else(|e| e.into_inner()),
        };
        drop(g);
    }
}

static RUNTIME: OnceLock<Engine<Hosted>> = OnceLock::new();

fn build(mode: Mode) -> Result<Engine<Hosted>, Errno> {
    let stack = boxed_stack().map_err(|_| Errno::ENOMEM)?;
    let service_waker = Waker::new().map_err(io_errno)?;
    Ok(Engine::new(Hosted {
        mode,
        inner: Mutex::new(Inner {
            stack,
            sockets: Sockets::new(),
            taps: Vec::new(),
            drivers: Vec::new(),
        }),
        epoch: AtomicU32::new(0),
        sleepers: (Mutex::new(()), Condvar::new()),
        wakers: Mutex::new(Wakers::new()),
        service_waker,
        clock: Clock::new(),
        driven_now: AtomicU64::new(0),
    }))
}

fn start(mode: Mode) -> Result<&'static Engine<Hosted>, Errno> {
    static START: Mutex<()> = Mutex::new(());
    let _g = lock(&START);
    if let Some(e) = RUNTIME.get() {
        return Ok(e);
    }
    let engine = build(mode)?;
    let _ = RUNTIME.set(engine);
    let engine = RUNTIME.get().ok_or(Errno::ENOMEM)?;
    if mode == Mode::Threaded {
        std::thread::Builder::new()
            .name("wolfip-service".into())
            .spawn(|| {
                if let Some(e) = RUNTIME.get() {
                    e.port().serve_forever();
                }
            })
            .map_err(|_| Errno::EAGAIN)?;
    }
    Ok(engine)
}

/// Brings the stack up with its service thread (loopback 127.0.0.1/8 is
/// ready at once). Calling it again, or after [`init_driven`], returns the
/// running stack.
pub fn init() -> Result<&'static Engine<Hosted>, Errno> {
    start(Mode::Threaded)
}

/// Brings the stack up without a service thread: the application feeds
/// frames with [`input`] and time with [`service`], as on an embedded
/// port.
pub fn init_driven() -> Result<&'static Engine<Hosted>, Errno> {
    start(Mode::Driven)
}

/// The running stack, started with [`init`] if nobody did.
pub fn engine() -> Result<&'static Engine<Hosted>, Errno> {
    match RUNTIME.get() {
        Some(e) => Ok(e),
        None => init(),
    }
}

/// An I/O error as errno.
pub fn io_errno(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EIO))
}

fn random_mac() -> EthernetAddress {
    let mut b = [0u8; 6];
    OsEntropy.fill_bytes(&mut b);
    // Locally administered, unicast.
    b[0] = (b[0] & 0xfe) | 0x02;
    EthernetAddress(b)
}

fn configure(
    stack: &mut Stack,
    id: IfaceId,
    cidr: Option<Ipv4Cidr>,
    gateway: Option<Ipv4Addr>,
) -> Result<(), Errno> {
    stack.set_ipv4(id, cidr).map_err(|_| Errno::EINVAL)?;
    if let Some(gw) = gateway {
        stack
            .set_default_gateway(gw)
            .map_err(|_| Errno::ENETUNREACH)?;
    }
    Ok(())
}

/// Attaches the TAP interface `ifname` (created if it does not exist, set
/// up) with address `cidr` (none: to be configured later, by DHCP say)
/// and, if given, a default gateway; returns the interface.
pub fn tap_attach(
    ifname: &str,
    cidr: Option<Ipv4Cidr>,
    gateway: Option<Ipv4Addr>,
) -> Result<IfaceId, Errno> {
    let e = engine()?;
    let tap = TapDevice::open(ifname).map_err(io_errno)?;
    tap.set_up().map_err(io_errno)?;
    let id = {
        let mut g = e.port().inner();
        let id = g
            .stack
            .add_interface(IfaceConfig::ethernet(random_mac()))
            .map_err(|_| Errno::ENOBUFS)?;
        if let Err(err) = configure(&mut g.stack, id, cidr, gateway) {
            let _ = g.stack.remove_interface(id);
            return Err(err);
        }
        g.taps.push((id, tap));
        id
    };
    e.port().wake();
    Ok(id)
}

/// Registers a driver (embedded bring-up): frames the stack sends go to
/// `dev.transmit`; received frames are handed in with [`input`].
pub fn driver_register(dev: Driver, mac: EthernetAddress, mtu: usize) -> Result<IfaceId, Errno> {
    let e = engine()?;
    let mut g = e.port().inner();
    let mut cfg = IfaceConfig::ethernet(mac);
    if mtu != 0 {
        cfg.mtu = mtu;
    }
    let id = g.stack.add_interface(cfg).map_err(|err| match err {
        wolfip_core::IfaceError::TableFull => Errno::ENOBUFS,
        _ => Errno::EINVAL,
    })?;
    g.drivers.push((id, dev));
    Ok(id)
}

/// Sets the address (and default gateway) of an interface.
pub fn if_config(
    id: IfaceId,
    cidr: Option<Ipv4Cidr>,
    gateway: Option<Ipv4Addr>,
) -> Result<(), Errno> {
    let e = engine()?;
    let r = configure(&mut e.port().inner().stack, id, cidr, gateway);
    e.port().wake();
    r
}

/// A frame received by a registered driver.
pub fn input(id: IfaceId, frame: &[u8]) -> Result<(), Errno> {
    let e = engine()?;
    e.port().with(|stack, _, now| stack.receive(now, id, frame));
    e.port().wake_waiters();
    Ok(())
}

/// Runs the timers at `now` (driven mode: the application's time; in the
/// threaded mode the clock's) and transmits; returns when the stack next
/// needs to run.
pub fn service(now: Instant) -> Result<Option<Instant>, Errno> {
    let e = engine()?;
    let p = e.port();
    if p.mode == Mode::Driven {
        p.driven_now.fetch_max(now.total_micros(), Ordering::SeqCst);
    }
    let next = p.turn();
    Ok(next)
}
