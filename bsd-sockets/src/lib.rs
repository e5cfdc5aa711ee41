//! # wolfip-bsd
//!
//! The BSD socket layer over [`wolfip_core`]: a fixed-size descriptor
//! table and the socket calls with Linux's errno semantics
//! (`shared/reference/linux-errno.md`), the typed errors of the core being
//! mapped to errno in exactly one place ([`errno`]).
//!
//! Status: the non-blocking calls over a [`wolfip_core::Stack`] ([`ops`]),
//! `poll` readiness per descriptor ([`poll`]) and the socket options
//! ([`options`]). Still to come (issue 4): blocking calls with timeouts,
//! poll/select over many descriptors, the hosted service thread, the C ABI
//! (`wolfip_*` functions, `libwolfip_bsd.a`, headers) and the C conformance
//! suite.

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
pub mod table;

pub use errno::Errno;
pub use ops::Sockets;
pub use table::{FD_BASE, FD_MAX};
