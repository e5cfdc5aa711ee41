//! The C ABI: every call as `wolfip_` + its POSIX name, with the POSIX
//! signature and the platform's own types, over the hosted stack
//! ([`crate::hosted`]). `include/wolfip_bsd.h` is generated from this
//! module by cbindgen; `include/wolfip_posix.h` maps the POSIX names onto
//! these.
//!
//! Descriptors outside our range (files, stdio, host sockets) go to the
//! host's libc unchanged, so a program can mix them. Errors set the
//! ordinary `errno`. This module and its children are the only place of
//! the crate with `unsafe`: raw pointers from C.

mod addr;
mod bringup;
mod calls;
mod dhcp;
mod multiplex;
mod netdb;

pub use bringup::*;
pub use calls::*;
pub use dhcp::*;
pub use multiplex::*;
pub use netdb::*;

use crate::engine::Engine;
use crate::errno::Errno;
use crate::hosted::{engine, Hosted};
use crate::table::FdTable;
use libc::c_int;

/// Sets the calling thread's `errno`.
pub(crate) fn set_errno(e: Errno) {
    // SAFETY: __errno_location returns the calling thread's errno slot,
    // valid for the life of the thread.
    unsafe { *libc::__errno_location() = e.0 };
}

/// A call's `Result` as C sees it: the value, or -1 with errno set.
pub(crate) fn ret<T: Into<i64>>(r: Result<T, Errno>) -> i64 {
    match r {
        Ok(v) => v.into(),
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// `c_int` flavour of [`ret`].
pub(crate) fn ret_int(r: Result<c_int, Errno>) -> c_int {
    ret(r) as c_int
}

/// Whether `fd` belongs to us (else it goes to the host's libc).
pub(crate) fn ours(fd: c_int) -> bool {
    FdTable::is_ours(fd)
}

/// The running engine, for a call on one of our descriptors.
pub(crate) fn eng() -> Result<&'static Engine<Hosted>, Errno> {
    engine()
}

/// `EPIPE` raises `SIGPIPE` unless the caller passed `MSG_NOSIGNAL`, as
/// Linux does.
pub(crate) fn pipe_signal<T>(r: &Result<T, Errno>, flags: c_int) {
    if matches!(r, Err(e) if *e == Errno::EPIPE) && flags & libc::MSG_NOSIGNAL == 0 {
        // SAFETY: raise takes no pointers.
        unsafe { libc::raise(libc::SIGPIPE) };
    }
}
