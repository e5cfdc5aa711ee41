//! `poll` and `select` over our descriptors, the host's, or both.
//!
//! Only ours: the caller sleeps on the stack's wake counter (no spinning).
//! Only the host's: the host's `poll` as is. Both: the host's `poll` in
//! slices of [`MIXED_SLICE_MS`], our descriptors checked between slices;
//! documented in `docs/c-api.md`.

use super::{eng, ours, ret_int, set_errno};
use crate::engine::PollEntry;
use crate::errno::Errno;
use crate::table::POLL_MAX;
use libc::{c_int, fd_set, nfds_t, pollfd, timeval};

/// How long one host `poll` slice lasts when a set mixes host descriptors
/// with ours.
const MIXED_SLICE_MS: c_int = 5;

/// `poll(2)`. More than `WOLFIP_POLL_MAX` entries is `EINVAL`.
///
/// # Safety
/// `fds` must point to `nfds` valid `pollfd`s.
#[no_mangle]
pub unsafe extern "C" fn wolfip_poll(fds: *mut pollfd, nfds: nfds_t, timeout: c_int) -> c_int {
    if nfds == 0 {
        // SAFETY: no descriptors: only the timeout matters.
        return unsafe { libc::poll(fds, 0, timeout) };
    }
    if fds.is_null() {
        set_errno(Errno::EFAULT);
        return -1;
    }
    if nfds as usize > POLL_MAX {
        set_errno(Errno::EINVAL);
        return -1;
    }
    // SAFETY: `nfds` valid pollfds (contract).
    let set = unsafe { core::slice::from_raw_parts_mut(fds, nfds as usize) };
    ret_int(poll_set(set, timeout))
}

fn poll_set(set: &mut [pollfd], timeout: c_int) -> Result<c_int, Errno> {
    let n_ours = set.iter().filter(|p| ours(p.fd)).count();
    if n_ours == 0 {
        return host_poll(set, timeout);
    }
    let mut mine = [PollEntry {
        fd: -1,
        events: 0,
        revents: 0,
    }; POLL_MAX];
    for (m, p) in mine.iter_mut().zip(set.iter()) {
        if ours(p.fd) {
            m.fd = p.fd;
            m.events = p.events;
        }
    }
    let mine = &mut mine[..set.len()];
    let e = eng()?;
    let hosts = set.iter().any(|p| p.fd >= 0 && !ours(p.fd));
    if !hosts {
        let n = e.poll(mine, timeout)?;
        for (p, m) in set.iter_mut().zip(mine.iter()) {
            p.revents = m.revents;
        }
        return Ok(n as c_int);
    }
    // Mixed: hide ours from the host (a negative fd is skipped by poll(2)).
    for p in set.iter_mut().filter(|p| ours(p.fd)) {
        p.fd = -1;
    }
    let start = std::time::Instant::now();
    let result = loop {
        let ready_ours = e.poll(mine, 0)?;
        let left = if timeout < 0 {
            MIXED_SLICE_MS
        } else {
            let spent = start.elapsed().as_millis().min(c_int::MAX as u128) as c_int;
            (timeout - spent).clamp(0, MIXED_SLICE_MS)
        };
        let slice = if ready_ours > 0 { 0 } else { left };
        let ready_host = host_poll(set, slice);
        let total = match ready_host {
            Ok(h) => h as usize + ready_ours,
            Err(err) => break Err(err),
        };
        if total > 0 || (timeout >= 0 && left == 0) {
            break Ok(total as c_int);
        }
    };
    for (p, m) in set.iter_mut().zip(mine.iter()) {
        if m.fd >= 0 {
            p.fd = m.fd;
            p.revents = m.revents;
        }
    }
    result
}

fn host_poll(set: &mut [pollfd], timeout: c_int) -> Result<c_int, Errno> {
    wolfip_tap::poll_host(set, timeout)
        .map(|n| n as c_int)
        .map_err(crate::hosted::io_errno)
}

/// The `poll` events that make a descriptor readable, writable or
/// exceptional for `select` (Linux's `POLLIN_SET`, `POLLOUT_SET`,
/// `POLLEX_SET`).
const IN_SET: i16 =
    libc::POLLIN | libc::POLLRDNORM | libc::POLLRDBAND | libc::POLLHUP | libc::POLLERR;
const OUT_SET: i16 = libc::POLLOUT | libc::POLLWRNORM | libc::POLLWRBAND | libc::POLLERR;
const EX_SET: i16 = libc::POLLPRI;

/// Whether `fd` is in the set.
///
/// # Safety
/// `set` null or a valid `fd_set`; `fd` < `FD_SETSIZE`.
unsafe fn isset(fd: c_int, set: *mut fd_set) -> bool {
    // SAFETY: contract.
    !set.is_null() && unsafe { libc::FD_ISSET(fd, set) }
}

/// `select(2)`, built on `poll`: a closed descriptor in a set is `EBADF`,
/// negative `nfds` `EINVAL`; the timeout is updated with the time left.
///
/// # Safety
/// The sets must be null or valid `fd_set`s; `timeout` null or valid.
#[no_mangle]
pub unsafe extern "C" fn wolfip_select(
    nfds: c_int,
    readfds: *mut fd_set,
    writefds: *mut fd_set,
    exceptfds: *mut fd_set,
    timeout: *mut timeval,
) -> c_int {
    // SAFETY: contract.
    ret_int(unsafe { select(nfds, readfds, writefds, exceptfds, timeout) })
}

/// [`wolfip_select`] with a `Result`.
// time_t and suseconds_t are i32 on some targets: the conversions are not
// useless everywhere.
#[allow(clippy::useless_conversion)]
///
/// # Safety
/// As [`wolfip_select`].
unsafe fn select(
    nfds: c_int,
    readfds: *mut fd_set,
    writefds: *mut fd_set,
    exceptfds: *mut fd_set,
    timeout: *mut timeval,
) -> Result<c_int, Errno> {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let nfds = nfds.min(libc::FD_SETSIZE as c_int);
    let ms = if timeout.is_null() {
        -1
    } else {
        // SAFETY: valid (contract).
        let t = unsafe { *timeout };
        if t.tv_sec < 0 || t.tv_usec < 0 {
            return Err(Errno::EINVAL);
        }
        let ms = i64::from(t.tv_sec).saturating_mul(1000) + (i64::from(t.tv_usec) + 999) / 1000;
        ms.min(c_int::MAX as i64) as c_int
    };
    let mut set = [pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; POLL_MAX];
    let mut n = 0;
    for fd in 0..nfds {
        // SAFETY: the sets are valid and fd < FD_SETSIZE.
        let (r, w, x) = unsafe {
            (
                isset(fd, readfds),
                isset(fd, writefds),
                isset(fd, exceptfds),
            )
        };
        if !(r || w || x) {
            continue;
        }
        if n == POLL_MAX {
            return Err(Errno::EINVAL);
        }
        let mut events = 0;
        if r {
            events |= libc::POLLIN;
        }
        if w {
            events |= libc::POLLOUT;
        }
        if x {
            events |= libc::POLLPRI;
        }
        set[n] = pollfd {
            fd,
            events,
            revents: 0,
        };
        n += 1;
    }
    let start = std::time::Instant::now();
    let set = &mut set[..n];
    poll_set(set, ms)?;
    if set.iter().any(|p| p.revents & libc::POLLNVAL != 0) {
        return Err(Errno::EBADF);
    }
    let mut count = 0;
    for p in set.iter() {
        for (sel, mask) in [(readfds, IN_SET), (writefds, OUT_SET), (exceptfds, EX_SET)] {
            // SAFETY: valid sets, fd < FD_SETSIZE.
            if unsafe { isset(p.fd, sel) } {
                if p.revents & mask != 0 {
                    count += 1;
                } else {
                    // SAFETY: as above.
                    unsafe { libc::FD_CLR(p.fd, sel) };
                }
            }
        }
    }
    if !timeout.is_null() && ms >= 0 {
        let left = (ms as u128).saturating_sub(start.elapsed().as_millis());
        // SAFETY: valid (contract).
        unsafe {
            (*timeout).tv_sec = (left / 1000) as libc::time_t;
            (*timeout).tv_usec = ((left % 1000) * 1000) as libc::suseconds_t;
        }
    }
    Ok(count)
}
