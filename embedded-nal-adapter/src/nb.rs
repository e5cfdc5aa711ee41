//! The `nb` (non-blocking) `embedded-nal` 0.9 stack.
//!
//! Every socket is a non-blocking descriptor of wolfip-bsd's table; every
//! call runs once under the port's lock and answers at once:
//! `nb::Error::WouldBlock` where the socket layer says `EAGAIN`,
//! `EINPROGRESS` or `EALREADY`.

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::{v4, Error};
use wolfip_bsd::engine::{Engine, MsgFlags, Port};
use wolfip_bsd::Errno;

/// How many connections a listener of [`embedded_nal::TcpFullStack`] keeps
/// waiting for `accept` (the `listen` backlog).
pub(crate) const BACKLOG: i32 = 8;

/// Flags of every call of this module: never wait.
pub(crate) const DONTWAIT: MsgFlags = MsgFlags {
    dontwait: true,
    peek: false,
    waitall: false,
    oob: false,
};

/// Blocking (`nb`) `embedded-nal` 0.9 stack over an engine.
///
/// `Copy`: it is only the `&'static Engine<P>`; every copy works on the
/// same stack and descriptor table.
pub struct NalStack<P: Port + 'static> {
    engine: &'static Engine<P>,
}

impl<P: Port> Clone for NalStack<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Port> Copy for NalStack<P> {}

impl<P: Port> core::fmt::Debug for NalStack<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NalStack").finish_non_exhaustive()
    }
}

impl<P: Port> NalStack<P> {
    /// A stack over `engine`.
    pub fn new(engine: &'static Engine<P>) -> Self {
        NalStack { engine }
    }

    /// The engine, for calls the traits do not have (socket options,
    /// `poll`, the blocking calls).
    pub fn engine(&self) -> &'static Engine<P> {
        self.engine
    }
}

#[cfg(feature = "hosted")]
impl NalStack<wolfip_bsd::hosted::Hosted> {
    /// The stack of the hosted (Linux) port: [`wolfip_bsd::hosted::init`]
    /// (the service thread and loopback 127.0.0.1/8), or the engine already
    /// running.
    pub fn hosted() -> Result<Self, Error> {
        Ok(NalStack::new(wolfip_bsd::hosted::init()?))
    }
}

/// Where a TCP socket is in its life, as far as the traits care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Opened (maybe bound), not connecting.
    Fresh,
    /// A `connect` started the handshake; not yet reported done.
    Connecting,
    /// Connected (a `connect` returned `Ok`, or accepted).
    Connected,
    /// Listening.
    Listening,
}

/// The `TcpSocket` of [`NalStack`]'s traits: a non-blocking descriptor of
/// wolfip-bsd's table and where it is in its life.
///
/// It does not close itself when dropped (it does not know its engine):
/// give it back with `close`, or to [`crate::TcpStream::from_socket`],
/// which closes on drop. A dropped socket keeps its descriptor.
#[derive(Debug, PartialEq, Eq)]
pub struct TcpSocket {
    fd: i32,
    phase: Phase,
}

impl TcpSocket {
    /// The descriptor, for the engine's other calls (`setsockopt`, `poll`).
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Gives the descriptor up to a new owner (the socket is not closed).
    pub(crate) fn into_fd(self) -> i32 {
        self.fd
    }
}

/// The `UdpSocket` of [`NalStack`]'s traits: a non-blocking descriptor of
/// wolfip-bsd's table. Like [`TcpSocket`] it keeps its descriptor when
/// dropped: give it back with `close`.
#[derive(Debug, PartialEq, Eq)]
pub struct UdpSocket {
    fd: i32,
    /// `connect` was called: `send` goes to that peer.
    connected: bool,
    /// The last destination of `send_to`, where `send` on an unconnected
    /// socket goes (`embedded-nal`'s contract).
    last_to: Option<SocketAddrV4>,
}

impl UdpSocket {
    /// The descriptor, for the engine's other calls.
    pub fn fd(&self) -> i32 {
        self.fd
    }
}

/// `EAGAIN` as `WouldBlock`, anything else as the error.
fn nb_err(e: Errno) -> nb::Error<Error> {
    if e == Errno::EAGAIN {
        nb::Error::WouldBlock
    } else {
        nb::Error::Other(Error(e))
    }
}

const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

impl<P: Port> embedded_nal::TcpClientStack for NalStack<P> {
    type TcpSocket = TcpSocket;
    type Error = Error;

    /// A new non-blocking TCP descriptor; `EMFILE` when the descriptor
    /// table is full, `ENOBUFS` when the core has no TCP socket left.
    fn socket(&mut self) -> Result<TcpSocket, Error> {
        let fd = self
            .engine
            .socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0)?;
        Ok(TcpSocket {
            fd,
            phase: Phase::Fresh,
        })
    }

    /// The first call starts the handshake and returns `WouldBlock`, the
    /// next ones `WouldBlock` until it is done, then `Ok`; again on a
    /// connected socket `Ok`. A failure is reported once (`ECONNREFUSED`,
    /// `ETIMEDOUT`, ...); the call after it starts a new attempt.
    fn connect(&mut self, socket: &mut TcpSocket, remote: SocketAddr) -> nb::Result<(), Error> {
        let addr = v4(remote)?;
        match socket.phase {
            Phase::Connected => return Ok(()),
            Phase::Listening => return Err(nb::Error::Other(Error(Errno::EISCONN))),
            Phase::Fresh | Phase::Connecting => {}
        }
        match self.engine.connect(socket.fd, Some(addr)) {
            // EISCONN: another caller took the success report.
            Err(e) if e == Errno::EISCONN => {
                socket.phase = Phase::Connected;
                Ok(())
            }
            Ok(()) => {
                socket.phase = Phase::Connected;
                Ok(())
            }
            Err(e) if e == Errno::EINPROGRESS || e == Errno::EALREADY => {
                socket.phase = Phase::Connecting;
                Err(nb::Error::WouldBlock)
            }
            Err(e) => {
                if socket.phase == Phase::Connecting {
                    // Reported once: the next call starts a new attempt
                    // (Linux would answer ECONNABORTED first).
                    let fd = socket.fd;
                    self.engine.table(|s| {
                        if let Ok(entry) = s.table.get(fd) {
                            entry.connect_failed_reported = false;
                        }
                    });
                }
                socket.phase = Phase::Fresh;
                Err(nb::Error::Other(Error(e)))
            }
        }
    }

    /// Queues what fits in the send buffer (maybe part of `buffer`);
    /// `WouldBlock` when nothing fits, or while the handshake runs.
    fn send(&mut self, socket: &mut TcpSocket, buffer: &[u8]) -> nb::Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        match self.engine.sendto(socket.fd, buffer, None, DONTWAIT) {
            Ok(0) => Err(nb::Error::WouldBlock),
            Ok(n) => Ok(n),
            Err(e) => Err(nb_err(e)),
        }
    }

    /// What was received; `WouldBlock` when nothing is there. The end of
    /// the stream (the peer's FIN, once everything was read) is
    /// [`Error::CLOSED`], a reset `ECONNRESET`: both of kind `PipeClosed`,
    /// never `Ok(0)`.
    fn receive(&mut self, socket: &mut TcpSocket, buffer: &mut [u8]) -> nb::Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        match self.engine.recvfrom(socket.fd, buffer, DONTWAIT) {
            Ok(r) if r.len == 0 => Err(nb::Error::Other(Error::CLOSED)),
            Ok(r) => Ok(r.len),
            Err(e) => Err(nb_err(e)),
        }
    }

    /// Closes the descriptor (a FIN to a connected peer).
    fn close(&mut self, socket: TcpSocket) -> Result<(), Error> {
        Ok(self.engine.close(socket.fd)?)
    }
}

impl<P: Port> embedded_nal::TcpFullStack for NalStack<P> {
    /// Binds to `0.0.0.0:local_port`, with `SO_REUSEADDR` as std's
    /// listeners have it.
    fn bind(&mut self, socket: &mut TcpSocket, local_port: u16) -> Result<(), Error> {
        self.engine.setsockopt(
            socket.fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &1i32.to_ne_bytes(),
        )?;
        self.engine
            .bind(socket.fd, SocketAddrV4::new(ANY, local_port))?;
        Ok(())
    }

    /// Listens, with a backlog of 8 connections.
    fn listen(&mut self, socket: &mut TcpSocket) -> Result<(), Error> {
        self.engine.listen(socket.fd, BACKLOG)?;
        socket.phase = Phase::Listening;
        Ok(())
    }

    /// The oldest established connection as a new connected socket;
    /// `WouldBlock` when none waits.
    fn accept(&mut self, socket: &mut TcpSocket) -> nb::Result<(TcpSocket, SocketAddr), Error> {
        match self.engine.accept(socket.fd, libc::SOCK_NONBLOCK) {
            Ok((fd, peer)) => Ok((
                TcpSocket {
                    fd,
                    phase: Phase::Connected,
                },
                SocketAddr::V4(peer),
            )),
            Err(e) => Err(nb_err(e)),
        }
    }
}

impl<P: Port> embedded_nal::UdpClientStack for NalStack<P> {
    type UdpSocket = UdpSocket;
    type Error = Error;

    /// A new non-blocking UDP descriptor (`EMFILE` / `ENOBUFS` when none
    /// is left).
    fn socket(&mut self) -> Result<UdpSocket, Error> {
        let fd = self
            .engine
            .socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK, 0)?;
        Ok(UdpSocket {
            fd,
            connected: false,
            last_to: None,
        })
    }

    /// Fixes the peer (binding an ephemeral port if unbound).
    fn connect(&mut self, socket: &mut UdpSocket, remote: SocketAddr) -> Result<(), Error> {
        self.engine.connect(socket.fd, Some(v4(remote)?))?;
        socket.connected = true;
        Ok(())
    }

    /// One datagram to the connected peer (or to the last `send_to`
    /// destination); `WouldBlock` when the send queue is full.
    fn send(&mut self, socket: &mut UdpSocket, buffer: &[u8]) -> nb::Result<(), Error> {
        let to = if socket.connected {
            None
        } else {
            socket.last_to
        };
        match self.engine.sendto(socket.fd, buffer, to, DONTWAIT) {
            Ok(_) => Ok(()),
            Err(e) => Err(nb_err(e)),
        }
    }

    /// One datagram and its sender; `WouldBlock` when none waits. A
    /// datagram longer than `buffer` is cut to it (the rest is dropped).
    fn receive(
        &mut self,
        socket: &mut UdpSocket,
        buffer: &mut [u8],
    ) -> nb::Result<(usize, SocketAddr), Error> {
        match self.engine.recvfrom(socket.fd, buffer, DONTWAIT) {
            Ok(r) => Ok((
                r.len,
                SocketAddr::V4(r.from.unwrap_or(SocketAddrV4::new(ANY, 0))),
            )),
            Err(e) => Err(nb_err(e)),
        }
    }

    /// Closes the descriptor.
    fn close(&mut self, socket: UdpSocket) -> Result<(), Error> {
        Ok(self.engine.close(socket.fd)?)
    }
}

impl<P: Port> embedded_nal::UdpFullStack for NalStack<P> {
    /// Binds to `0.0.0.0:local_port`.
    fn bind(&mut self, socket: &mut UdpSocket, local_port: u16) -> Result<(), Error> {
        self.engine
            .bind(socket.fd, SocketAddrV4::new(ANY, local_port))?;
        Ok(())
    }

    /// One datagram to `remote`; `WouldBlock` when the send queue is full.
    fn send_to(
        &mut self,
        socket: &mut UdpSocket,
        remote: SocketAddr,
        buffer: &[u8],
    ) -> nb::Result<(), Error> {
        let to = v4(remote)?;
        socket.last_to = Some(to);
        match self.engine.sendto(socket.fd, buffer, Some(to), DONTWAIT) {
            Ok(_) => Ok(()),
            Err(e) => Err(nb_err(e)),
        }
    }
}
