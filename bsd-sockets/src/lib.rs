//! # wolfip-bsd
//!
//! The BSD socket layer over [`wolfip_core`]: a fixed-size descriptor
//! table and the socket calls with Linux's errno semantics
//! (`shared/reference/linux-errno.md`), the typed errors of the core being
//! mapped to errno in exactly one place ([`errno`]).
//!
//! * [`ops`], [`options`], [`poll`]: the calls over a
//!   [`wolfip_core::Stack`], answered at once;
//! * [`engine`]: blocking calls, timeouts and waits over any platform's
//!   lock and wait/wake pair ([`engine::Port`]);
//! * [`resolve`]: `getaddrinfo`'s rules (glibc's) over the core's DNS
//!   resolver;
//! * `hosted` and `ffi` (feature `hosted`): the Linux port with its service
//!   thread, and the C ABI of `libwolfip_bsd.a` (`include/`).

#![deny(unsafe_code)]

pub mod engine;
pub mod errno;
#[cfg(feature = "hosted")]
#[allow(unsafe_code)]
pub mod ffi;
#[cfg(feature = "hosted")]
pub mod hosted;
pub mod ops;
pub mod options;
pub mod poll;
pub mod resolve;
pub mod table;

pub use errno::Errno;
pub use ops::Sockets;
pub use table::{FD_BASE, FD_MAX};
