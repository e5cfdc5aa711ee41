//! errno: the one place where the core's typed errors become errno values.
//!
//! Linux is the reference, case by case (`shared/reference/linux-errno.md`);
//! the numbers come from the target's libc through the `libc` crate, never
//! from a table of our own. Each `From` below belongs to one operation's
//! error type, so the same condition can map differently per call where
//! Linux does so (a send on an unconnected TCP socket is EPIPE, a recv is
//! ENOTCONN).
//!
//! `getaddrinfo`'s codes are not errno values: the DNS errors become
//! `EAI_*` codes in [`crate::resolve::Eai`].

use core::fmt;
use wolfip_core::dhcp::DhcpError;
use wolfip_core::dns::DnsServersError;
use wolfip_core::wire::DstUnreachable;
use wolfip_core::{
    TcpAcceptError, TcpBindError, TcpConnectError, TcpError, TcpListenError, TcpOpenError,
    TcpRecvError, TcpSendError, UdpBindError, UdpConnectError, UdpOpenError, UdpRecvError,
    UdpSendError,
};

/// An errno value of the target's libc.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` of the target's libc.")]
                pub const $name: Errno = Errno(libc::$name);
            )*

            /// The symbolic name, as C's `strerrorname_np` gives it.
            pub fn name(self) -> &'static str {
                $(if self.0 == libc::$name { return stringify!($name); })*
                "E?"
            }
        }
    };
}

errnos!(
    EBADF,
    ENOTSOCK,
    EMFILE,
    ENFILE,
    ENOBUFS,
    EAFNOSUPPORT,
    EINVAL,
    EPROTONOSUPPORT,
    EPROTOTYPE,
    EADDRINUSE,
    EADDRNOTAVAIL,
    EOPNOTSUPP,
    EAGAIN,
    EINPROGRESS,
    EALREADY,
    EISCONN,
    ENOTCONN,
    ECONNREFUSED,
    ECONNABORTED,
    ECONNRESET,
    ETIMEDOUT,
    ENETUNREACH,
    EHOSTUNREACH,
    EPIPE,
    EDESTADDRREQ,
    EMSGSIZE,
    ENOPROTOOPT,
    EDOM,
    EFAULT,
    EINTR,
    ENOENT,
    ENOMEM,
    EIO,
    ENODEV,
    EPERM,
    EEXIST,
    ENETDOWN,
    ENOTSUP,
);

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A connection's failure as Linux reports it.
impl From<TcpError> for Errno {
    fn from(e: TcpError) -> Errno {
        match e {
            TcpError::Refused => Errno::ECONNREFUSED,
            TcpError::Reset => Errno::ECONNRESET,
            TcpError::TimedOut => Errno::ETIMEDOUT,
            TcpError::BrokenPipe => Errno::EPIPE,
        }
    }
}

/// An ICMP error reported to a connected UDP socket (Linux's
/// `icmp_err_convert`).
pub fn from_unreachable(reason: DstUnreachable) -> Errno {
    match reason {
        DstUnreachable::PortUnreachable => Errno::ECONNREFUSED,
        DstUnreachable::HostUnreachable => Errno::EHOSTUNREACH,
        DstUnreachable::NetUnreachable => Errno::ENETUNREACH,
        DstUnreachable::ProtoUnreachable => Errno::ENOPROTOOPT,
        DstUnreachable::FragRequired => Errno::EMSGSIZE,
        DstUnreachable::Other(_) => Errno::EHOSTUNREACH,
    }
}

impl From<TcpOpenError> for Errno {
    fn from(e: TcpOpenError) -> Errno {
        match e {
            // The protocol's sockets are all in use (Linux: ENOBUFS when
            // it cannot allocate one).
            TcpOpenError::NoSocketsLeft => Errno::ENOBUFS,
        }
    }
}

impl From<UdpOpenError> for Errno {
    fn from(e: UdpOpenError) -> Errno {
        match e {
            UdpOpenError::NoSocketsLeft => Errno::ENOBUFS,
        }
    }
}

impl From<TcpBindError> for Errno {
    fn from(e: TcpBindError) -> Errno {
        match e {
            TcpBindError::BadHandle => Errno::EBADF,
            TcpBindError::AlreadyBound => Errno::EINVAL,
            TcpBindError::AddrInUse | TcpBindError::NoPortsLeft => Errno::EADDRINUSE,
            TcpBindError::AddrNotAvailable => Errno::EADDRNOTAVAIL,
        }
    }
}

impl From<UdpBindError> for Errno {
    fn from(e: UdpBindError) -> Errno {
        match e {
            UdpBindError::BadHandle => Errno::EBADF,
            UdpBindError::AlreadyBound => Errno::EINVAL,
            UdpBindError::AddrInUse | UdpBindError::NoPortsLeft => Errno::EADDRINUSE,
            UdpBindError::AddrNotAvailable => Errno::EADDRNOTAVAIL,
        }
    }
}

impl From<TcpListenError> for Errno {
    fn from(e: TcpListenError) -> Errno {
        match e {
            TcpListenError::BadHandle => Errno::EBADF,
            TcpListenError::InvalidState => Errno::EINVAL,
            TcpListenError::AddrInUse | TcpListenError::NoPortsLeft => Errno::EADDRINUSE,
        }
    }
}

impl From<TcpAcceptError> for Errno {
    fn from(e: TcpAcceptError) -> Errno {
        match e {
            TcpAcceptError::BadHandle => Errno::EBADF,
            TcpAcceptError::NotListening => Errno::EINVAL,
            TcpAcceptError::WouldBlock => Errno::EAGAIN,
        }
    }
}

impl From<TcpConnectError> for Errno {
    fn from(e: TcpConnectError) -> Errno {
        match e {
            TcpConnectError::BadHandle => Errno::EBADF,
            // Linux: connect on a connected or listening socket is EISCONN.
            TcpConnectError::IsConnected | TcpConnectError::Listening => Errno::EISCONN,
            TcpConnectError::InProgress => Errno::EALREADY,
            TcpConnectError::NoRoute => Errno::ENETUNREACH,
            TcpConnectError::BadAddress => Errno::EINVAL,
            TcpConnectError::NoPortsLeft | TcpConnectError::AddrInUse => Errno::EADDRNOTAVAIL,
        }
    }
}

impl From<UdpConnectError> for Errno {
    fn from(e: UdpConnectError) -> Errno {
        match e {
            UdpConnectError::BadHandle => Errno::EBADF,
            UdpConnectError::NoRoute => Errno::ENETUNREACH,
            UdpConnectError::BadAddress => Errno::EINVAL,
            UdpConnectError::NoPortsLeft => Errno::EAGAIN,
        }
    }
}

impl From<TcpSendError> for Errno {
    fn from(e: TcpSendError) -> Errno {
        match e {
            TcpSendError::BadHandle => Errno::EBADF,
            // Linux: send on a never-connected or listening TCP socket is
            // EPIPE (POSIX says ENOTCONN).
            TcpSendError::NotConnected | TcpSendError::Shutdown => Errno::EPIPE,
            TcpSendError::WouldBlock => Errno::EAGAIN,
            TcpSendError::Failed(e) => e.into(),
        }
    }
}

impl From<TcpRecvError> for Errno {
    fn from(e: TcpRecvError) -> Errno {
        match e {
            TcpRecvError::BadHandle => Errno::EBADF,
            TcpRecvError::NotConnected => Errno::ENOTCONN,
            TcpRecvError::WouldBlock => Errno::EAGAIN,
            TcpRecvError::Failed(e) => e.into(),
        }
    }
}

impl From<UdpSendError> for Errno {
    fn from(e: UdpSendError) -> Errno {
        match e {
            UdpSendError::BadHandle => Errno::EBADF,
            UdpSendError::DestinationRequired => Errno::EDESTADDRREQ,
            UdpSendError::NoRoute => Errno::ENETUNREACH,
            UdpSendError::TooBig => Errno::EMSGSIZE,
            UdpSendError::WouldBlock | UdpSendError::NoPortsLeft => Errno::EAGAIN,
            UdpSendError::BadAddress => Errno::EINVAL,
        }
    }
}

impl From<UdpRecvError> for Errno {
    fn from(e: UdpRecvError) -> Errno {
        match e {
            UdpRecvError::BadHandle => Errno::EBADF,
            UdpRecvError::WouldBlock => Errno::EAGAIN,
            UdpRecvError::Unreachable(reason) => from_unreachable(reason),
        }
    }
}

/// A DHCP call's failure (`wolfip_dhcp_start`, `_stop`, `_wait`).
impl From<DhcpError> for Errno {
    fn from(e: DhcpError) -> Errno {
        match e {
            // As for every call given an interface index that names none.
            DhcpError::NoSuchInterface => Errno::ENODEV,
            DhcpError::AlreadyRunning => Errno::EALREADY,
            DhcpError::NotRunning => Errno::EINVAL,
            DhcpError::BadHostname | DhcpError::BadClientId => Errno::EINVAL,
        }
    }
}

/// Setting the DNS servers by hand (`wolfip_dns_set_servers`).
impl From<DnsServersError> for Errno {
    fn from(e: DnsServersError) -> Errno {
        match e {
            // The fixed table (`WOLFIP_DNS_SERVERS`) is too small.
            DnsServersError::TooMany => Errno::ENOBUFS,
            DnsServersError::Invalid => Errno::EINVAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_come_from_libc() {
        assert_eq!(Errno::EAGAIN.0, libc::EAGAIN);
        assert_eq!(Errno::ECONNREFUSED.name(), "ECONNREFUSED");
        assert_eq!(
            format!("{:?}", Errno::EPIPE),
            format!("EPIPE({})", libc::EPIPE)
        );
        assert_eq!(Errno(-12345).name(), "E?");
    }

    #[test]
    fn send_and_recv_differ_where_linux_does() {
        assert_eq!(Errno::from(TcpSendError::NotConnected), Errno::EPIPE);
        assert_eq!(Errno::from(TcpRecvError::NotConnected), Errno::ENOTCONN);
        assert_eq!(Errno::from(TcpConnectError::Listening), Errno::EISCONN);
        assert_eq!(
            Errno::from(UdpRecvError::Unreachable(DstUnreachable::PortUnreachable)),
            Errno::ECONNREFUSED
        );
    }
}
