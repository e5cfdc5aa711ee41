//! Waking a thread that sleeps in poll(2): an eventfd that can be waited
//! on together with TAP devices.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::sys;

/// An eventfd: [`notify`](Self::notify) makes it readable until
/// [`drain`](Self::drain).
#[derive(Debug)]
pub struct Waker {
    fd: OwnedFd,
}

impl Waker {
    /// A new waker, not notified.
    pub fn new() -> io::Result<Waker> {
        Ok(Waker {
            fd: sys::eventfd()?,
        })
    }

    /// Makes the waker readable (wakes a thread polling it).
    pub fn notify(&self) {
        // An eventfd counter only overflows after 2^64 - 2 notifications;
        // a full counter (EAGAIN) is readable anyway.
        let _ = sys::write(self.fd.as_fd(), &1u64.to_ne_bytes());
    }

    /// Clears the notification.
    pub fn drain(&self) {
        let mut buf = [0u8; 8];
        let _ = sys::read(self.fd.as_fd(), &mut buf);
    }
}

impl AsFd for Waker {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Waits until one of `fds` is readable or `timeout` passes (`None`:
/// forever). Returns how many are readable (0 on timeout or a signal).
/// A descriptor that is not open is reported ready (`POLLNVAL`), never
/// waited on.
pub fn wait_readable_any(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<usize> {
    const MAX: usize = 64;
    if fds.len() > MAX {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut set = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; MAX];
    for (p, fd) in set.iter_mut().zip(fds) {
        p.fd = *fd;
        p.events = libc::POLLIN;
    }
    let ms = match timeout {
        None => -1,
        // Round up so a short wait does not become a busy spin.
        Some(t) => libc::c_int::try_from(t.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX),
    };
    sys::poll_many(&mut set[..fds.len()], ms)
}

/// poll(2) on host descriptors, as given (`revents` filled in); `ms` < 0
/// waits forever. A signal counts as nothing ready.
pub fn poll_host(fds: &mut [libc::pollfd], ms: i32) -> io::Result<usize> {
    sys::poll_many(fds, ms)
}

/// Runs `f` and gives the calling thread's `errno` back the value it had
/// before: the system calls a library makes on its own behalf (a futex
/// wait that times out, a TAP write that finds the queue full) must not
/// leave traces in the `errno` a C caller sees after a successful call.
pub fn preserve_errno<R>(f: impl FnOnce() -> R) -> R {
    let saved = sys::errno();
    let r = f();
    sys::set_errno(saved);
    r
}
