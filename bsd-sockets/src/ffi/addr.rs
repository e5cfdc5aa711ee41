//! `struct sockaddr` in and out, with Linux's length rules: a too short
//! address is `EINVAL`, a family other than `AF_INET` `EAFNOSUPPORT`, and an
//! output buffer shorter than the address gets the address truncated while
//! the length reports the full size.

use crate::errno::Errno;
use core::mem::size_of;
use libc::{sockaddr, sockaddr_in, socklen_t};
use wolfip_core::{Ipv4Addr, SocketAddrV4};

/// The size of `struct sockaddr_in`.
pub const SIN_LEN: socklen_t = size_of::<sockaddr_in>() as socklen_t;

/// A destination as `connect`/`sendto`/`bind` read it: `None` for
/// `AF_UNSPEC` (dissolve an association).
pub enum Dest {
    /// An IPv4 address and port.
    Inet(SocketAddrV4),
    /// `AF_UNSPEC`.
    Unspec,
}

/// Reads the address the caller passed.
///
/// # Safety
/// `addr` must be null or point to `len` readable bytes.
pub unsafe fn read(addr: *const sockaddr, len: socklen_t) -> Result<Dest, Errno> {
    if addr.is_null() {
        return Err(Errno::EFAULT);
    }
    // The family comes first in every sockaddr; reading it needs 2 bytes.
    if (len as usize) < size_of::<libc::sa_family_t>() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: at least the family's bytes are readable (checked above);
    // read_unaligned because the caller's buffer may be any byte array.
    let family = unsafe { core::ptr::read_unaligned(addr.cast::<libc::sa_family_t>()) };
    if i32::from(family) == libc::AF_UNSPEC {
        return Ok(Dest::Unspec);
    }
    if len < SIN_LEN {
        return Err(Errno::EINVAL);
    }
    if i32::from(family) != libc::AF_INET {
        return Err(Errno::EAFNOSUPPORT);
    }
    // SAFETY: `len` >= sizeof(sockaddr_in) bytes are readable.
    let sin = unsafe { core::ptr::read_unaligned(addr.cast::<sockaddr_in>()) };
    Ok(Dest::Inet(from_sin(&sin)))
}

/// A `sockaddr_in` as the stack's address.
pub fn from_sin(sin: &sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
        u16::from_be(sin.sin_port),
    )
}

/// The stack's address as a `sockaddr_in`.
pub fn to_sin(a: SocketAddrV4) -> sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all zeroes is a valid value.
    let mut sin: sockaddr_in = unsafe { core::mem::zeroed() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_port = a.port().to_be();
    sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
    sin
}

/// Writes `a` to the caller's buffer of `*len` bytes (truncating) and sets
/// `*len` to the full size. Null `out` is allowed when `len` is null too
/// (`accept(fd, NULL, NULL)`).
///
/// # Safety
/// `len` must be null or valid for reads and writes; `out` must be null or
/// point to `*len` writable bytes.
pub unsafe fn write(a: SocketAddrV4, out: *mut sockaddr, len: *mut socklen_t) -> Result<(), Errno> {
    if len.is_null() {
        return if out.is_null() {
            Ok(())
        } else {
            Err(Errno::EFAULT)
        };
    }
    // SAFETY: `len` is valid for reads (contract).
    let room = unsafe { *len };
    if (room as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if out.is_null() && room > 0 {
        return Err(Errno::EFAULT);
    }
    let sin = to_sin(a);
    let n = (room as usize).min(SIN_LEN as usize);
    // SAFETY: `sin` is SIN_LEN bytes; `out` has `room` >= n writable bytes
    // (contract); the regions cannot overlap (one is on our stack).
    unsafe {
        core::ptr::copy_nonoverlapping(
            (&sin as *const sockaddr_in).cast::<u8>(),
            out.cast::<u8>(),
            n,
        );
        *len = SIN_LEN;
    }
    Ok(())
}
