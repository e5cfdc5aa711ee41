//! Shared by the adapter's test binaries: the hosted engine, a tiny
//! `block_on` executor (a thread-parker waker, no dependency), deadlines.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use wolfip_bsd::engine::Engine;
use wolfip_bsd::hosted::Hosted;

/// The process's hosted engine (service thread, loopback 127.0.0.1/8).
pub fn eng() -> &'static Engine<Hosted> {
    wolfip_bsd::hosted::init().expect("hosted init")
}

/// 127.0.0.1:port.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// 127.0.0.1:port as the engine takes it.
pub fn local4(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

/// Wakes the thread that runs `block_on`, counting the wakes.
struct Parker {
    thread: Thread,
    wakes: AtomicUsize,
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Runs `f` to completion on this thread; also returns how many times it
/// was polled.
pub fn block_on_counted<F: Future>(f: F) -> (F::Output, usize) {
    let mut f = pin!(f);
    let parker = Arc::new(Parker {
        thread: thread::current(),
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        // Read before the poll: a wake during the poll counts.
        let seen = parker.wakes.load(Ordering::SeqCst);
        polls += 1;
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return (v, polls);
        }
        // Sleep until a wake (park may also return spuriously).
        while parker.wakes.load(Ordering::SeqCst) == seen {
            thread::park();
        }
    }
}

/// Runs `f` to completion on this thread.
pub fn block_on<F: Future>(f: F) -> F::Output {
    block_on_counted(f).0
}

/// Calls `f` until it gives `Some`, sleeping 1 ms between calls; panics
/// after 10 s.
pub fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Retries an `nb` call until it is not `WouldBlock`.
pub fn nb_until<T, E>(what: &str, mut f: impl FnMut() -> nb::Result<T, E>) -> Result<T, E> {
    until(what, || match f() {
        Err(nb::Error::WouldBlock) => None,
        Ok(v) => Some(Ok(v)),
        Err(nb::Error::Other(e)) => Some(Err(e)),
    })
}

/// FNV-1a over a byte stream.
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `len` bytes of a pattern that depends on `seed`.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    let mut x = u32::from(seed) | 0x9e37_0000;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// CPU time of the whole process (all threads).
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec pointer for the call to fill.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `SO_LINGER` on with a zero timeout: `close` resets the connection.
pub fn linger_zero(fd: i32) {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&1i32.to_ne_bytes());
    eng()
        .setsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER, &v)
        .unwrap();
}
