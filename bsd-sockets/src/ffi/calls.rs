//! The socket calls. Each one: a descriptor that is not ours goes to the
//! host's libc; ours go to the [`Engine`](crate::engine::Engine), and the
//! answer comes back as the value or -1 with errno.

use super::addr::{self, Dest};
use super::{eng, ours, pipe_signal, ret, ret_int};
use crate::engine::MsgFlags;
use crate::errno::Errno;
use crate::ops::Received;
use libc::{c_int, c_long, c_void, msghdr, size_t, sockaddr, socklen_t, ssize_t};
use wolfip_core::{Ipv4Addr, SocketAddrV4};

/// EBADF unless `fd` is an open descriptor of ours (Linux looks the
/// descriptor up before it reads any other argument).
fn open(fd: c_int) -> Result<(), Errno> {
    eng()?.table(|s| s.table.get(fd).map(|_| ()))
}

/// A byte count as `ssize_t`.
fn len_ret(r: Result<usize, Errno>) -> ssize_t {
    ret(r.map(|n| n as i64)) as ssize_t
}

/// `socket(2)`: `AF_INET` with `SOCK_STREAM` or `SOCK_DGRAM`
/// (`SOCK_NONBLOCK`, `SOCK_CLOEXEC` accepted).
#[no_mangle]
pub extern "C" fn wolfip_socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    ret_int(eng().and_then(|e| e.call(|stack, s, _| s.socket(stack, domain, ty, protocol))))
}

/// `bind(2)`.
///
/// # Safety
/// `addr` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::bind(fd, addr, len) };
    }
    let r = (|| {
        open(fd)?;
        // SAFETY: contract.
        let a = match unsafe { addr::read(addr, len) }? {
            Dest::Inet(a) => a,
            // Linux accepts AF_UNSPEC with INADDR_ANY (a quirk kept for
            // old programs); anything else is EAFNOSUPPORT.
            Dest::Unspec if len >= addr::SIN_LEN => {
                // SAFETY: `len` >= sizeof(sockaddr_in) readable bytes.
                let sin = unsafe { core::ptr::read_unaligned(addr.cast::<libc::sockaddr_in>()) };
                let a = addr::from_sin(&sin);
                if *a.ip() != Ipv4Addr::UNSPECIFIED {
                    return Err(Errno::EAFNOSUPPORT);
                }
                a
            }
            Dest::Unspec => return Err(Errno::EINVAL),
        };
        eng()?.call(|stack, s, _| s.bind(stack, fd, a)).map(|()| 0)
    })();
    ret_int(r)
}

/// `listen(2)`.
#[no_mangle]
pub extern "C" fn wolfip_listen(fd: c_int, backlog: c_int) -> c_int {
    if !ours(fd) {
        // SAFETY: no pointers.
        return unsafe { libc::listen(fd, backlog) };
    }
    ret_int(eng().and_then(|e| e.call(|stack, s, _| s.listen(stack, fd, backlog).map(|()| 0))))
}

/// `accept4(2)`.
///
/// # Safety
/// `addr`/`len` as for [`addr::write`]: both null, or `len` valid and
/// `addr` with `*len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_accept4(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::accept4(fd, addr, len, flags) };
    }
    let r = (|| {
        let e = eng()?;
        let (new, peer) = e.accept(fd, flags)?;
        // SAFETY: contract.
        if let Err(err) = unsafe { addr::write(peer, addr, len) } {
            let _ = e.close(new);
            return Err(err);
        }
        Ok(new)
    })();
    ret_int(r)
}

/// `accept(2)`.
///
/// # Safety
/// As [`wolfip_accept4`].
#[no_mangle]
pub unsafe extern "C" fn wolfip_accept(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    // SAFETY: same contract.
    unsafe { wolfip_accept4(fd, addr, len, 0) }
}

/// `connect(2)`: blocking unless `O_NONBLOCK` (then `EINPROGRESS`).
///
/// # Safety
/// `addr` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::connect(fd, addr, len) };
    }
    let r = (|| {
        open(fd)?;
        // SAFETY: contract.
        let dest = match unsafe { addr::read(addr, len) }? {
            Dest::Inet(a) => Some(a),
            Dest::Unspec => None,
        };
        eng()?.connect(fd, dest).map(|()| 0)
    })();
    ret_int(r)
}

/// Reads an optional destination (`sendto` with a null address is `send`).
///
/// # Safety
/// `addr` null or `len` readable bytes.
unsafe fn dest(addr: *const sockaddr, len: socklen_t) -> Result<Option<SocketAddrV4>, Errno> {
    if addr.is_null() {
        return Ok(None);
    }
    // SAFETY: contract.
    match unsafe { addr::read(addr, len) }? {
        Dest::Inet(a) => Ok(Some(a)),
        Dest::Unspec => Err(Errno::EAFNOSUPPORT),
    }
}

/// The caller's buffer as a slice; null is EFAULT unless empty.
///
/// # Safety
/// `p` null or `len` readable bytes.
unsafe fn bytes<'a>(p: *const c_void, len: size_t) -> Result<&'a [u8], Errno> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `len` readable bytes (contract).
    Ok(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// The caller's buffer as a mutable slice.
///
/// # Safety
/// `p` null or `len` writable bytes.
unsafe fn bytes_mut<'a>(p: *mut c_void, len: size_t) -> Result<&'a mut [u8], Errno> {
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `len` writable bytes (contract).
    Ok(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), len) })
}

/// `sendto(2)`.
///
/// # Safety
/// `buf` must point to `len` readable bytes, `addr` (if not null) to
/// `alen`.
#[no_mangle]
pub unsafe extern "C" fn wolfip_sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    alen: socklen_t,
) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::sendto(fd, buf, len, flags, addr, alen) };
    }
    let r = (|| {
        open(fd)?;
        // SAFETY: contract.
        let to = unsafe { dest(addr, alen) }?;
        // SAFETY: contract.
        let data = unsafe { bytes(buf, len) }?;
        eng()?.sendto(fd, data, to, MsgFlags::from_bits(flags))
    })();
    pipe_signal(&r, flags);
    len_ret(r)
}

/// `send(2)`.
///
/// # Safety
/// `buf` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_send(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
) -> ssize_t {
    // SAFETY: same contract, no address.
    unsafe { wolfip_sendto(fd, buf, len, flags, core::ptr::null(), 0) }
}

/// `write(2)`: `send` with no flags on our descriptors.
///
/// # Safety
/// `buf` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_write(fd: c_int, buf: *const c_void, len: size_t) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::write(fd, buf, len) };
    }
    // SAFETY: same contract.
    unsafe { wolfip_sendto(fd, buf, len, 0, core::ptr::null(), 0) }
}

/// Receives into `buf`, writing the sender to `addr`/`alen` when asked.
///
/// # Safety
/// As [`wolfip_recvfrom`].
unsafe fn recv_into(
    fd: c_int,
    buf: &mut [u8],
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> Result<Received, Errno> {
    let r = eng()?.recvfrom(fd, buf, MsgFlags::from_bits(flags))?;
    if !addr.is_null() || !alen.is_null() {
        match r.from {
            // SAFETY: contract.
            Some(from) => unsafe { addr::write(from, addr, alen) }?,
            // A stream socket has no sender to report: Linux sets the
            // length to 0.
            None if !alen.is_null() => {
                // SAFETY: valid for writes (contract).
                unsafe { *alen = 0 };
            }
            None => {}
        }
    }
    Ok(r)
}

/// The byte count a read returns: with `MSG_TRUNC` a datagram's full
/// length.
fn read_len(r: Received, flags: c_int) -> usize {
    if flags & libc::MSG_TRUNC != 0 {
        r.full_len
    } else {
        r.len
    }
}

/// `recvfrom(2)`.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `addr`/`alen` both null, or
/// `alen` valid and `addr` with `*alen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::recvfrom(fd, buf, len, flags, addr, alen) };
    }
    let r = (|| {
        open(fd)?;
        // SAFETY: contract.
        let b = unsafe { bytes_mut(buf, len) }?;
        // SAFETY: contract.
        unsafe { recv_into(fd, b, flags, addr, alen) }.map(|r| read_len(r, flags))
    })();
    len_ret(r)
}

/// `recv(2)`.
///
/// # Safety
/// `buf` must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_recv(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
) -> ssize_t {
    // SAFETY: same contract, no address.
    unsafe {
        wolfip_recvfrom(
            fd,
            buf,
            len,
            flags,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    }
}

/// `read(2)`: `recv` with no flags on our descriptors.
///
/// # Safety
/// `buf` must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_read(fd: c_int, buf: *mut c_void, len: size_t) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::read(fd, buf, len) };
    }
    // SAFETY: same contract.
    unsafe { wolfip_recv(fd, buf, len, 0) }
}

/// Largest datagram gathered from several `iovec`s.
const GATHER: usize = 65536;

/// The `iovec`s of a message as slices.
///
/// # Safety
/// `msg` must be a valid `msghdr` whose `msg_iov` holds `msg_iovlen`
/// valid `iovec`s.
unsafe fn iovecs<'a>(msg: &msghdr) -> Result<&'a [libc::iovec], Errno> {
    if msg.msg_iovlen == 0 {
        return Ok(&[]);
    }
    if msg.msg_iov.is_null() {
        return Err(Errno::EFAULT);
    }
    if msg.msg_iovlen > libc::UIO_MAXIOV as usize {
        return Err(Errno::EMSGSIZE);
    }
    // SAFETY: contract.
    Ok(unsafe { core::slice::from_raw_parts(msg.msg_iov, msg.msg_iovlen) })
}

/// `sendmsg(2)`: the `iovec`s are sent as one datagram (UDP) or in order
/// (TCP); no control messages.
///
/// # Safety
/// `msg` must point to a valid `msghdr` with valid buffers.
#[no_mangle]
pub unsafe extern "C" fn wolfip_sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::sendmsg(fd, msg, flags) };
    }
    let r = (|| {
        open(fd)?;
        if msg.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: valid msghdr (contract).
        let m = unsafe { &*msg };
        // SAFETY: contract.
        let to = unsafe { dest(m.msg_name as *const sockaddr, m.msg_namelen) }?;
        // SAFETY: contract.
        let iov = unsafe { iovecs(m) }?;
        let e = eng()?;
        let f = MsgFlags::from_bits(flags);
        if iov.len() <= 1 {
            let data = match iov.first() {
                // SAFETY: contract.
                Some(v) => unsafe { bytes(v.iov_base, v.iov_len) }?,
                None => &[],
            };
            return e.sendto(fd, data, to, f);
        }
        let mut gathered = [0u8; GATHER];
        let mut n = 0;
        for v in iov {
            // SAFETY: contract.
            let b = unsafe { bytes(v.iov_base, v.iov_len) }?;
            let room = GATHER - n;
            if b.len() > room {
                return Err(Errno::EMSGSIZE);
            }
            gathered[n..n + b.len()].copy_from_slice(b);
            n += b.len();
        }
        e.sendto(fd, &gathered[..n], to, f)
    })();
    pipe_signal(&r, flags);
    len_ret(r)
}

/// `recvmsg(2)`: scatters into the `iovec`s, sets `MSG_TRUNC` in
/// `msg_flags` for a cut datagram; no control messages.
///
/// # Safety
/// `msg` must point to a valid, writable `msghdr` with valid buffers.
#[no_mangle]
pub unsafe extern "C" fn wolfip_recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::recvmsg(fd, msg, flags) };
    }
    let r = (|| {
        open(fd)?;
        if msg.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: valid msghdr (contract).
        let m = unsafe { &mut *msg };
        // SAFETY: contract.
        let iov = unsafe { iovecs(m) }?;
        let total: usize = iov.iter().map(|v| v.iov_len).sum();
        let mut buf = [0u8; GATHER];
        let take = total.min(GATHER);
        let name = m.msg_name as *mut sockaddr;
        let mut namelen = m.msg_namelen;
        let lenp = if name.is_null() {
            core::ptr::null_mut()
        } else {
            &mut namelen as *mut socklen_t
        };
        // SAFETY: `name` has msg_namelen writable bytes (contract).
        let r = unsafe { recv_into(fd, &mut buf[..take], flags, name, lenp) }?;
        m.msg_namelen = if name.is_null() { 0 } else { namelen };
        let mut off = 0;
        for v in iov {
            if off == r.len {
                break;
            }
            let n = v.iov_len.min(r.len - off);
            // SAFETY: contract.
            let out = unsafe { bytes_mut(v.iov_base, n) }?;
            out.copy_from_slice(&buf[off..off + n]);
            off += n;
        }
        m.msg_controllen = 0;
        m.msg_flags = if r.full_len > r.len {
            libc::MSG_TRUNC
        } else {
            0
        };
        Ok(read_len(r, flags))
    })();
    len_ret(r)
}

/// `close(2)`.
#[no_mangle]
pub extern "C" fn wolfip_close(fd: c_int) -> c_int {
    if !ours(fd) {
        // SAFETY: no pointers.
        return unsafe { libc::close(fd) };
    }
    ret_int(eng().and_then(|e| e.close(fd)).map(|()| 0))
}

/// `shutdown(2)`.
#[no_mangle]
pub extern "C" fn wolfip_shutdown(fd: c_int, how: c_int) -> c_int {
    if !ours(fd) {
        // SAFETY: no pointers.
        return unsafe { libc::shutdown(fd, how) };
    }
    ret_int(eng().and_then(|e| e.shutdown(fd, how).map(|()| 0)))
}

/// `getsockopt(2)`.
///
/// # Safety
/// `len` must be valid; `val` must have `*len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::getsockopt(fd, level, name, val, len) };
    }
    let r = (|| {
        open(fd)?;
        if len.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: valid (contract).
        let room = unsafe { *len } as c_int;
        if room < 0 {
            return Err(Errno::EINVAL);
        }
        // SAFETY: `room` writable bytes (contract).
        let out = unsafe { bytes_mut(val, room as usize) }?;
        let n = eng()?.call(|stack, s, _| s.getsockopt(stack, fd, level, name, out))?;
        // SAFETY: valid (contract).
        unsafe { *len = n as socklen_t };
        Ok(0)
    })();
    ret_int(r)
}

/// `setsockopt(2)`.
///
/// # Safety
/// `val` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::setsockopt(fd, level, name, val, len) };
    }
    let r = (|| {
        open(fd)?;
        if (len as c_int) < 0 {
            return Err(Errno::EINVAL);
        }
        // SAFETY: contract.
        let v = unsafe { bytes(val, len as usize) }?;
        eng()?
            .call(|stack, s, _| s.setsockopt(stack, fd, level, name, v))
            .map(|()| 0)
    })();
    ret_int(r)
}

/// `getsockname(2)`.
///
/// # Safety
/// `len` must be valid; `addr` must have `*len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_getsockname(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::getsockname(fd, addr, len) };
    }
    let r = (|| {
        let a = eng()?.call(|stack, s, _| s.getsockname(stack, fd))?;
        if len.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: contract.
        unsafe { addr::write(a, addr, len) }.map(|()| 0)
    })();
    ret_int(r)
}

/// `getpeername(2)`.
///
/// # Safety
/// `len` must be valid; `addr` must have `*len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_getpeername(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    if !ours(fd) {
        // SAFETY: the caller's arguments, passed on unchanged.
        return unsafe { libc::getpeername(fd, addr, len) };
    }
    let r = (|| {
        let a = eng()?.call(|stack, s, _| s.getpeername(stack, fd))?;
        if len.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: contract.
        unsafe { addr::write(a, addr, len) }.map(|()| 0)
    })();
    ret_int(r)
}

/// `fcntl(2)` with one integer argument (declared variadic in the header,
/// as POSIX has it; on the supported ABIs an integer variadic argument is
/// passed like a fixed one). On our descriptors: `F_GETFL`/`F_SETFL`
/// (`O_NONBLOCK`), `F_GETFD`/`F_SETFD` (`FD_CLOEXEC`, remembered; our
/// descriptors never survive an exec); other commands `EINVAL`.
#[no_mangle]
pub extern "C" fn wolfip_fcntl(fd: c_int, cmd: c_int, arg: c_long) -> c_int {
    if !ours(fd) {
        // SAFETY: an integer argument, as every command we pass on takes.
        return unsafe { libc::fcntl(fd, cmd, arg) };
    }
    let r = eng().and_then(|e| {
        e.table(|s| match cmd {
            libc::F_GETFL => s.get_flags(fd),
            libc::F_SETFL => s.set_flags(fd, arg as c_int).map(|()| 0),
            libc::F_GETFD => s.get_fd_flags(fd),
            libc::F_SETFD => s.set_fd_flags(fd, arg as c_int).map(|()| 0),
            _ => s.table.get(fd).and(Err(Errno::EINVAL)),
        })
    });
    ret_int(r)
}
