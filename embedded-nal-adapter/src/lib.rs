//! # wolfip-nal
//!
//! The `embedded-nal` 0.9, `embedded-nal-async` 0.9 and `embedded-io` /
//! `embedded-io-async` 0.7 traits over wolfip's BSD socket layer
//! ([`wolfip_bsd::engine::Engine`]), for any platform [`Port`]:
//!
//! * [`NalStack`], the `nb` stack ([`embedded_nal::TcpClientStack`],
//!   [`embedded_nal::TcpFullStack`], [`embedded_nal::UdpClientStack`],
//!   [`embedded_nal::UdpFullStack`], [`embedded_nal::Dns`]): every call
//!   returns at once, `WouldBlock` when it would wait;
//! * [`TcpStream`], a blocking [`embedded_io::Read`] /
//!   [`embedded_io::Write`] over a connected TCP socket;
//! * [`AsyncStack`], with [`embedded_nal_async::TcpConnect`],
//!   [`embedded_nal_async::UdpStack`] and [`embedded_nal_async::Dns`], whose
//!   futures wait through the port's wakers ([`Port::register_waker`]),
//!   never by polling in a loop or by a thread per call.
//!
//! Sockets are descriptors of wolfip-bsd's fixed table: running out is an
//! error (`EMFILE`, `ENOBUFS`: kind `OutOfMemory`), never a panic, and
//! nothing here allocates. `docs/rust-api.md` describes the whole API.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod asynch;
mod dns;
mod error;
mod io;
mod nb;

pub use asynch::{AsyncStack, BoundUdp, ConnectedUdp, TcpConnection, UnconnectedUdp};
pub use error::Error;
pub use io::TcpStream;
pub use nb::{NalStack, TcpSocket, UdpSocket};
pub use wolfip_bsd::engine::Port;

use core::net::{SocketAddr, SocketAddrV4};
use wolfip_bsd::Errno;

/// An IPv4 socket address, or `EAFNOSUPPORT` (this stack has no IPv6).
fn v4(addr: SocketAddr) -> Result<SocketAddrV4, Error> {
    match addr {
        SocketAddr::V4(a) => Ok(a),
        SocketAddr::V6(_) => Err(Error(Errno::EAFNOSUPPORT)),
    }
}

/// Whether a result is "would block".
fn would_block<T>(r: &Result<T, Errno>) -> bool {
    matches!(r, Err(e) if *e == Errno::EAGAIN)
}
