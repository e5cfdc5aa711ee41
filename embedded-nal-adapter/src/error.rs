//! The one error type of every call, with the kind mappings the client
//! crates look at.

use core::fmt;
use embedded_io::ErrorKind;
use embedded_nal::TcpErrorKind;
use wolfip_bsd::Errno;
use wolfip_core::dns::{DnsError, DnsStartError};

/// Errors of every call: an errno from the socket layer, with `kind()`
/// mappings for `embedded-nal` ([`embedded_nal::TcpError`]) and
/// `embedded-io` ([`embedded_io::Error`]).
///
/// The end of a TCP stream seen by the `nb` stack's `receive` is
/// [`Error::CLOSED`] (`EPIPE`): `embedded-nal` clients read `Ok(0)` as "no
/// data yet", so the end must be an error whose kind is
/// [`TcpErrorKind::PipeClosed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub Errno);

impl Error {
    /// The peer closed the connection (end of stream in the `nb` stack),
    /// or the socket can no longer send: `EPIPE`.
    pub const CLOSED: Error = Error(Errno::EPIPE);

    /// The errno.
    pub fn errno(self) -> Errno {
        self.0
    }

    /// Whether the error means that the connection is gone: `EPIPE`,
    /// `ECONNRESET`, `ENOTCONN`, `ECONNABORTED`, `ETIMEDOUT` (the kind
    /// [`TcpErrorKind::PipeClosed`]).
    pub fn is_closed(self) -> bool {
        [
            Errno::EPIPE,
            Errno::ECONNRESET,
            Errno::ENOTCONN,
            Errno::ECONNABORTED,
            Errno::ETIMEDOUT,
        ]
        .contains(&self.0)
    }

    /// A query that could not start.
    pub(crate) fn from_dns_start(e: DnsStartError) -> Error {
        Error(match e {
            DnsStartError::InvalidName => Errno::EINVAL,
            // No server to ask (none configured, none from DHCP).
            DnsStartError::NoServers => Errno::ENETUNREACH,
            DnsStartError::TableFull => Errno::ENOBUFS,
        })
    }

    /// A query that ended without an address.
    pub(crate) fn from_dns(e: DnsError) -> Error {
        Error(match e {
            DnsError::NxDomain | DnsError::NoData => Errno::ENOENT,
            DnsError::Refused => Errno::ECONNREFUSED,
            DnsError::Timeout => Errno::ETIMEDOUT,
            DnsError::ServFail | DnsError::Malformed | DnsError::UnknownQuery => Errno::EIO,
        })
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0.name(), self.0 .0)
    }
}

impl core::error::Error for Error {}

impl embedded_nal::TcpError for Error {
    /// [`TcpErrorKind::PipeClosed`] when the connection is gone (see
    /// [`Error::is_closed`]), [`TcpErrorKind::Other`] for anything else.
    fn kind(&self) -> TcpErrorKind {
        if self.is_closed() {
            TcpErrorKind::PipeClosed
        } else {
            TcpErrorKind::Other
        }
    }
}

impl embedded_io::Error for Error {
    /// The errno's nearest [`ErrorKind`]; the table is in
    /// `docs/rust-api.md`.
    fn kind(&self) -> ErrorKind {
        let e = self.0;
        match e {
            _ if e == Errno::ECONNRESET => ErrorKind::ConnectionReset,
            _ if e == Errno::ECONNREFUSED => ErrorKind::ConnectionRefused,
            _ if e == Errno::ECONNABORTED => ErrorKind::ConnectionAborted,
            _ if e == Errno::ETIMEDOUT => ErrorKind::TimedOut,
            _ if e == Errno::EPIPE => ErrorKind::BrokenPipe,
            _ if e == Errno::ENOTCONN => ErrorKind::NotConnected,
            _ if e == Errno::EADDRINUSE => ErrorKind::AddrInUse,
            _ if e == Errno::EADDRNOTAVAIL => ErrorKind::AddrNotAvailable,
            _ if [Errno::ENOBUFS, Errno::ENOMEM, Errno::EMFILE, Errno::ENFILE].contains(&e) => {
                ErrorKind::OutOfMemory
            }
            _ if [Errno::EINVAL, Errno::EDESTADDRREQ, Errno::EMSGSIZE].contains(&e) => {
                ErrorKind::InvalidInput
            }
            _ if e == Errno::EINTR => ErrorKind::Interrupted,
            _ if [
                Errno::EOPNOTSUPP,
                Errno::ENOTSUP,
                Errno::EAFNOSUPPORT,
                Errno::EPROTONOSUPPORT,
            ]
            .contains(&e) =>
            {
                ErrorKind::Unsupported
            }
            _ if e == Errno::ENOENT => ErrorKind::NotFound,
            _ if e == Errno::EPERM => ErrorKind::PermissionDenied,
            _ if e == Errno::EEXIST => ErrorKind::AlreadyExists,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(e: Errno) -> ErrorKind {
        embedded_io::Error::kind(&Error(e))
    }

    #[test]
    fn kinds() {
        assert_eq!(
            embedded_nal::TcpError::kind(&Error::CLOSED),
            TcpErrorKind::PipeClosed
        );
        assert_eq!(
            embedded_nal::TcpError::kind(&Error(Errno::ECONNRESET)),
            TcpErrorKind::PipeClosed
        );
        assert_eq!(
            embedded_nal::TcpError::kind(&Error(Errno::ECONNREFUSED)),
            TcpErrorKind::Other
        );
        assert_eq!(io(Errno::ECONNREFUSED), ErrorKind::ConnectionRefused);
        assert_eq!(io(Errno::EMFILE), ErrorKind::OutOfMemory);
        assert_eq!(io(Errno::ENOBUFS), ErrorKind::OutOfMemory);
        assert_eq!(io(Errno::EAGAIN), ErrorKind::Other);
        assert_eq!(io(Errno::EOPNOTSUPP), ErrorKind::Unsupported);
        assert_eq!(
            format!("{}", Error(Errno::EPIPE)).split(' ').next(),
            Some("EPIPE")
        );
    }
}
