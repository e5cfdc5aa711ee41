//! Thin, checked wrappers around the libc calls this crate needs. Every
//! `unsafe` block of the crate lives here, each with the reason it is sound.

use std::ffi::c_void;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Interface names are at most this many bytes including the final NUL.
pub(crate) const IFNAMSIZ: usize = libc::IFNAMSIZ;

/// `struct ifreq` with its union seen as plain bytes, so it can be built and
/// read without `unsafe`. Same size as libc's definition on every target
/// (the assertion below), and the kernel copies it with `copy_from_user`,
/// which has no alignment requirement; the `align(8)` only mirrors C.
#[repr(C, align(8))]
pub(crate) struct IfReq {
    name: [libc::c_char; IFNAMSIZ],
    data: [u8; size_of::<libc::ifreq>() - IFNAMSIZ],
}

const _: () = assert!(size_of::<IfReq>() == size_of::<libc::ifreq>());

impl IfReq {
    /// A zeroed request for interface `name` (already validated).
    pub(crate) fn new(name: &str) -> io::Result<Self> {
        check_ifname(name)?;
        let mut req = IfReq {
            name: [0; IFNAMSIZ],
            data: [0; size_of::<libc::ifreq>() - IFNAMSIZ],
        };
        for (dst, &src) in req.name.iter_mut().zip(name.as_bytes()) {
            *dst = src as libc::c_char;
        }
        Ok(req)
    }

    /// The interface name as the kernel left it (TUNSETIFF writes back the
    /// name it chose).
    pub(crate) fn name(&self) -> String {
        let bytes: Vec<u8> = self
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// `ifr_flags` (a C `short` at the start of the union).
    pub(crate) fn flags(&self) -> libc::c_short {
        libc::c_short::from_ne_bytes([self.data[0], self.data[1]])
    }

    /// Sets `ifr_flags`.
    pub(crate) fn set_flags(&mut self, flags: libc::c_short) {
        self.data[..2].copy_from_slice(&flags.to_ne_bytes());
    }

    /// `ifr_mtu` (a C `int` at the start of the union).
    pub(crate) fn mtu(&self) -> libc::c_int {
        libc::c_int::from_ne_bytes([self.data[0], self.data[1], self.data[2], self.data[3]])
    }

    /// Sets `ifr_mtu`.
    pub(crate) fn set_mtu(&mut self, mtu: libc::c_int) {
        self.data[..4].copy_from_slice(&mtu.to_ne_bytes());
    }
}

/// Rejects names the kernel would refuse or silently truncate.
pub(crate) fn check_ifname(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?} (1-15 printable ASCII, no '/' or ':')"),
        ))
    }
}

/// The current thread's `errno` as an error.
fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// Issues an interface ioctl (`request` takes a `struct ifreq *`) on `fd`.
pub(crate) fn ifreq_ioctl(
    fd: BorrowedFd<'_>,
    request: libc::c_ulong,
    req: &mut IfReq,
) -> io::Result<()> {
    // SAFETY: `fd` is a live descriptor for the duration of the borrow, and
    // every request passed here (TUNSETIFF, SIOC[GS]IFFLAGS, SIOC[GS]IFMTU)
    // takes a pointer to a `struct ifreq`; `req` is an exclusively borrowed
    // value with exactly that size and layout (asserted above), valid for
    // the kernel to read and write during the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, req as *mut IfReq) };
    if rc < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// An `AF_INET` datagram socket of the calling thread's network namespace,
/// used only as a handle for interface ioctls.
pub(crate) fn ctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; any return value is handled.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: `fd` was just returned by socket(2), is open, and nothing else
    // owns it, so the OwnedFd may close it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads the interface flags of `name`, applies `update`, and writes them
/// back if they changed.
pub(crate) fn update_if_flags(
    name: &str,
    update: impl FnOnce(libc::c_short) -> libc::c_short,
) -> io::Result<()> {
    let sock = ctl_socket()?;
    let mut req = IfReq::new(name)?;
    ifreq_ioctl(sock.as_fd(), libc::SIOCGIFFLAGS, &mut req)?;
    let old = req.flags();
    let new = update(old);
    if new != old {
        req.set_flags(new);
        ifreq_ioctl(sock.as_fd(), libc::SIOCSIFFLAGS, &mut req)?;
    }
    Ok(())
}

/// One non-blocking read(2) into `buf`. `Ok(None)` when nothing is waiting
/// (`EAGAIN`); `EINTR` is retried.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<usize>> {
    loop {
        // SAFETY: `buf` is an exclusively borrowed, initialised byte slice of
        // `buf.len()` bytes, so the kernel may write up to that many bytes at
        // its start; `fd` stays open for the borrow.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast::<c_void>(), buf.len()) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let err = last_error();
        match err.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(err),
        }
    }
}

/// One write(2) of `buf`; `EINTR` is retried, other errors returned.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a borrowed, initialised slice of `buf.len()`
        // bytes, which the kernel only reads; `fd` stays open for the borrow.
        let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast::<c_void>(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = last_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Waits until `fd` has one of `events` or `timeout` passes (`None` waits
/// forever). Returns whether it became ready; `EINTR` restarts the wait
/// with the remaining time. An error condition without the wanted event
/// (`POLLERR`, `POLLHUP`, `POLLNVAL`) is reported as an error.
pub(crate) fn poll_one(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so a short wait does not become a busy spin.
                let ms = left.as_micros().div_ceil(1000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid, exclusively borrowed `pollfd`, matching
        // the count of 1; the kernel writes only its `revents`.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let err = last_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if rc == 0 {
            return Ok(false);
        }
        if pfd.revents & events != 0 {
            return Ok(true);
        }
        return Err(io::Error::other(format!(
            "poll: error condition (revents {:#x})",
            pfd.revents
        )));
    }
}

/// unshare(2) with `flags` for the calling thread.
pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare(2) takes no pointers and only changes the calling
    // thread's namespace membership, which Rust's safety model does not
    // depend on.
    if unsafe { libc::unshare(flags) } < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// The effective user id of the process.
pub(crate) fn geteuid() -> libc::uid_t {
    // SAFETY: geteuid(2) has no arguments, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Set by [`on_termination`]'s handler.
pub(crate) static TERMINATE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

extern "C" fn set_terminate(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    TERMINATE.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Installs a handler for SIGINT and SIGTERM that sets [`TERMINATE`].
pub(crate) fn on_termination() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed `sigaction` is a valid "no flags, empty mask"
        // value; we then set a handler that only performs an atomic store,
        // which is async-signal-safe. `sigaction` reads the struct we pass
        // and writes nothing (old action pointer is null).
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = set_terminate as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// poll(2) over `fds` (their `revents` are filled), with a timeout in
/// milliseconds (-1: forever); `EINTR` counts as "nothing ready".
pub(crate) fn poll_many(fds: &mut [libc::pollfd], ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()`
    // `pollfd`s; the kernel writes only their `revents`.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let err = last_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(rc as usize)
}

/// A new non-blocking, close-on-exec eventfd with a zero counter.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: `fd` was just returned by eventfd and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The calling thread's errno.
pub(crate) fn errno() -> libc::c_int {
    // SAFETY: __errno_location returns the calling thread's errno slot,
    // valid for the life of the thread.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling thread's errno.
pub(crate) fn set_errno(v: libc::c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = v };
}
