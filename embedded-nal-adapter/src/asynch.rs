//! The `embedded-nal-async` 0.9 stack and its sockets.
//!
//! Every operation is one non-blocking attempt under the port's lock. When
//! it would block, the same locked section reads the port's wake counter;
//! the task's waker is registered with that value
//! ([`Port::register_waker`]) and the future returns `Pending`. Whatever
//! changes socket state after the attempt advances the counter, so the
//! registration either is drained by that wake or sees the counter moved
//! and wakes at once: no wake-up is lost, nothing polls in a loop and no
//! thread waits per call.

use core::future::poll_fn;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::task::{Context, Poll};

use crate::{v4, would_block, Error};
use wolfip_bsd::engine::{Engine, Port};
use wolfip_bsd::ops::Sockets;
use wolfip_bsd::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use wolfip_bsd::table::Proto;
use wolfip_bsd::Errno;
use wolfip_core::{Instant, Stack, TcpState};

/// `embedded-nal-async` 0.9 stack over an engine: [`embedded_nal_async::TcpConnect`],
/// [`embedded_nal_async::UdpStack`] and [`embedded_nal_async::Dns`].
///
/// `Copy`: it is only the `&'static Engine<P>`. Its futures are woken by
/// the port's wakers ([`Port::register_waker`]), never by a polling loop
/// or a thread per call.
pub struct AsyncStack<P: Port + 'static> {
    engine: &'static Engine<P>,
}

impl<P: Port> Clone for AsyncStack<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Port> Copy for AsyncStack<P> {}

impl<P: Port> core::fmt::Debug for AsyncStack<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncStack").finish_non_exhaustive()
    }
}

impl<P: Port> AsyncStack<P> {
    /// A stack over `engine`.
    pub fn new(engine: &'static Engine<P>) -> Self {
        AsyncStack { engine }
    }

    /// The engine, for calls the traits do not have.
    pub fn engine(&self) -> &'static Engine<P> {
        self.engine
    }
}

#[cfg(feature = "hosted")]
impl AsyncStack<wolfip_bsd::hosted::Hosted> {
    /// The stack of the hosted (Linux) port: [`wolfip_bsd::hosted::init`],
    /// or the engine already running.
    pub fn hosted() -> Result<Self, Error> {
        Ok(AsyncStack::new(wolfip_bsd::hosted::init()?))
    }
}

/// One attempt of `f` under the port's lock. `EAGAIN` registers the task's
/// waker with the wake counter read in the same locked section and is
/// `Pending`; any other outcome wakes the port's waiters (it may have
/// changed what they wait for), as the blocking engine does.
fn attempt<P: Port, R>(
    engine: &Engine<P>,
    cx: &mut Context<'_>,
    f: impl FnOnce(&mut Stack, &mut Sockets, Instant) -> Result<R, Errno>,
) -> Poll<Result<R, Error>> {
    let port = engine.port();
    let (r, seen) = port.with(|stack, s, now| {
        let r = f(stack, s, now);
        (r, port.epoch())
    });
    if would_block(&r) {
        // Registered after the lock is released (a waker woken at once
        // runs the executor's code), with the counter read under it: a
        // change since then has moved the counter and wakes at once.
        port.register_waker(seen, cx.waker());
        return Poll::Pending;
    }
    port.wake();
    Poll::Ready(r.map_err(Error))
}

/// Readiness of `fd` now: whether any of `events` (or an error, a hang-up)
/// is set; `EBADF` for a closed descriptor.
pub(crate) fn ready<P: Port>(engine: &Engine<P>, fd: i32, events: i16) -> Result<bool, Error> {
    let revents = engine.port().with(|stack, s, _| s.revents(stack, fd));
    if revents & POLLNVAL != 0 {
        return Err(Error(Errno::EBADF));
    }
    Ok(revents & (events | POLLERR | POLLHUP) != 0)
}

/// Whether everything sent on the TCP descriptor `fd` was acknowledged:
/// `Ok(())` when it was, `EAGAIN` while some is in flight, the pending
/// error (not consumed) when the connection failed.
pub(crate) fn flushed(stack: &mut Stack, s: &mut Sockets, fd: i32) -> Result<(), Errno> {
    let Proto::Tcp(h) = s.table.get(fd)?.proto else {
        return Ok(());
    };
    if let Some(e) = stack.tcp_pending_error(h) {
        return Err(e.into());
    }
    let queued = stack.tcp_info(h).map_or(0, |i| i.send_queue);
    match stack.tcp_state(h) {
        _ if queued == 0 => Ok(()),
        // Closed with data never acknowledged: it is lost.
        Some(TcpState::Closed) | None => Err(Errno::EPIPE),
        _ => Err(Errno::EAGAIN),
    }
}

/// A connected TCP socket of [`AsyncStack`] (`TcpConnect::Connection`):
/// [`embedded_io_async::Read`] / [`embedded_io_async::Write`] and the
/// readiness checks. Dropping it closes the descriptor (a FIN to the
/// peer).
pub struct TcpConnection<P: Port + 'static> {
    engine: &'static Engine<P>,
    fd: i32,
}

impl<P: Port> core::fmt::Debug for TcpConnection<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpConnection")
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}

impl<P: Port> TcpConnection<P> {
    /// The descriptor, for the engine's other calls (`setsockopt`, ...).
    pub fn fd(&self) -> i32 {
        self.fd
    }
}

impl<P: Port> Drop for TcpConnection<P> {
    fn drop(&mut self) {
        let _ = self.engine.close(self.fd);
    }
}

impl<P: Port> embedded_io::ErrorType for TcpConnection<P> {
    type Error = Error;
}

impl<P: Port> embedded_io_async::Read for TcpConnection<P> {
    /// Waits for at least one byte; `Ok(0)` at the end of the stream (the
    /// peer's FIN), `ECONNRESET` after a reset.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let fd = self.fd;
        poll_fn(|cx| {
            attempt(self.engine, cx, |stack, s, _| {
                s.recv_with(stack, fd, buf, false).map(|r| r.len)
            })
        })
        .await
    }
}

impl<P: Port> embedded_io_async::Write for TcpConnection<P> {
    /// Waits until the send buffer takes at least one byte; returns how
    /// many it took.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let fd = self.fd;
        poll_fn(|cx| {
            attempt(self.engine, cx, |stack, s, now| {
                match s.sendto(stack, fd, buf, None, now) {
                    Ok(0) => Err(Errno::EAGAIN),
                    r => r,
                }
            })
        })
        .await
    }

    /// Waits until the peer acknowledged everything written (the send
    /// queue is empty), or the connection failed.
    async fn flush(&mut self) -> Result<(), Error> {
        let fd = self.fd;
        poll_fn(|cx| attempt(self.engine, cx, |stack, s, _| flushed(stack, s, fd))).await
    }
}

impl<P: Port> embedded_io::ReadReady for TcpConnection<P> {
    /// Whether a read would return at once (data, the end, or an error).
    fn read_ready(&mut self) -> Result<bool, Error> {
        ready(self.engine, self.fd, POLLIN)
    }
}

impl<P: Port> embedded_io::WriteReady for TcpConnection<P> {
    /// Whether a write would return at once (room, or an error).
    fn write_ready(&mut self) -> Result<bool, Error> {
        ready(self.engine, self.fd, POLLOUT)
    }
}

impl<P: Port> embedded_nal_async::TcpConnect for AsyncStack<P> {
    type Error = Error;
    type Connection<'a>
        = TcpConnection<P>
    where
        Self: 'a;

    /// Opens a descriptor and waits for the handshake. Dropping the
    /// future closes the descriptor.
    async fn connect(&self, remote: SocketAddr) -> Result<TcpConnection<P>, Error> {
        let addr = v4(remote)?;
        let engine = self.engine;
        let fd = engine.socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0)?;
        // Owns the descriptor from here: an error or a dropped future
        // closes it.
        let conn = TcpConnection { engine, fd };
        poll_fn(|cx| {
            attempt(engine, cx, |stack, s, now| {
                match s.connect(stack, fd, Some(addr), now) {
                    Err(e) if e == Errno::EINPROGRESS || e == Errno::EALREADY => Err(Errno::EAGAIN),
                    Err(e) if e == Errno::EISCONN => Ok(()),
                    r => r,
                }
            })
        })
        .await?;
        Ok(conn)
    }
}

/// A UDP descriptor owned by one of the socket types below.
struct Udp<P: Port + 'static> {
    engine: &'static Engine<P>,
    fd: i32,
}

impl<P: Port> Drop for Udp<P> {
    fn drop(&mut self) {
        let _ = self.engine.close(self.fd);
    }
}

impl<P: Port> Udp<P> {
    fn open(engine: &'static Engine<P>) -> Result<Udp<P>, Error> {
        let fd = engine.socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK, 0)?;
        Ok(Udp { engine, fd })
    }

    async fn send(&self, to: Option<SocketAddrV4>, data: &[u8]) -> Result<(), Error> {
        let fd = self.fd;
        poll_fn(|cx| {
            attempt(self.engine, cx, |stack, s, now| {
                s.sendto(stack, fd, data, to, now).map(|_| ())
            })
        })
        .await
    }

    /// One datagram: its full length, the address it was sent to, and its
    /// sender.
    async fn receive(&self, buf: &mut [u8]) -> Result<(usize, Ipv4Addr, SocketAddrV4), Error> {
        let fd = self.fd;
        poll_fn(|cx| {
            attempt(self.engine, cx, |stack, s, _| {
                let Proto::Udp(h) = s.table.get(fd)?.proto else {
                    return Err(Errno::ENOTSOCK);
                };
                let (_, meta) = stack.udp_recv_from(h, buf).map_err(Errno::from)?;
                Ok((meta.len, meta.to, meta.from))
            })
        })
        .await
    }

    fn local(&self) -> Result<SocketAddrV4, Error> {
        Ok(self.engine.getsockname(self.fd)?)
    }
}

/// A UDP socket with a fixed peer ([`embedded_nal_async::UdpStack::connect`]);
/// closes its descriptor when dropped.
pub struct ConnectedUdp<P: Port + 'static> {
    udp: Udp<P>,
}

/// A UDP socket bound to one local address
/// ([`embedded_nal_async::UdpStack::bind_single`]); closes its descriptor
/// when dropped.
pub struct BoundUdp<P: Port + 'static> {
    udp: Udp<P>,
    local: SocketAddrV4,
}

/// A UDP socket bound to a port on every local address
/// ([`embedded_nal_async::UdpStack::bind_multiple`]); closes its descriptor
/// when dropped.
pub struct UnconnectedUdp<P: Port + 'static> {
    udp: Udp<P>,
    local: SocketAddrV4,
}

macro_rules! udp_common {
    ($($t:ident),*) => {$(
        impl<P: Port> core::fmt::Debug for $t<P> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &self.udp.fd)
                    .finish_non_exhaustive()
            }
        }

        impl<P: Port> $t<P> {
            /// The descriptor, for the engine's other calls.
            pub fn fd(&self) -> i32 {
                self.udp.fd
            }
        }
    )*};
}

udp_common!(ConnectedUdp, BoundUdp, UnconnectedUdp);

impl<P: Port> embedded_nal_async::ConnectedUdp for ConnectedUdp<P> {
    type Error = Error;

    /// One datagram to the peer (waits while the send queue is full).
    async fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.udp.send(None, data).await
    }

    /// One datagram: its full length (more than `buffer` when it was cut).
    async fn receive_into(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        Ok(self.udp.receive(buffer).await?.0)
    }
}

/// Checks the local address a caller passes to an unconnected socket
/// bound at `bound`: the port must be the bound one (or 0), the address
/// the bound one (or unspecified, or anything when bound to every
/// address); the stack picks the source address by the route.
fn check_local(bound: SocketAddrV4, local: SocketAddr) -> Result<(), Error> {
    let local = v4(local)?;
    let port_ok = local.port() == 0 || local.port() == bound.port();
    let ip_ok =
        local.ip().is_unspecified() || bound.ip().is_unspecified() || local.ip() == bound.ip();
    if port_ok && ip_ok {
        Ok(())
    } else {
        Err(Error(Errno::EINVAL))
    }
}

macro_rules! unconnected {
    ($t:ident) => {
        impl<P: Port> embedded_nal_async::UnconnectedUdp for $t<P> {
            type Error = Error;

            /// One datagram to `remote`; `local` must agree with the
            /// bound address (`EINVAL` otherwise).
            async fn send(
                &mut self,
                local: SocketAddr,
                remote: SocketAddr,
                data: &[u8],
            ) -> Result<(), Error> {
                check_local(self.local, local)?;
                self.udp.send(Some(v4(remote)?), data).await
            }

            /// One datagram: its full length, the local address it was
            /// sent to, its sender.
            async fn receive_into(
                &mut self,
                buffer: &mut [u8],
            ) -> Result<(usize, SocketAddr, SocketAddr), Error> {
                let (len, to, from) = self.udp.receive(buffer).await?;
                let local = SocketAddrV4::new(to, self.local.port());
                Ok((len, SocketAddr::V4(local), SocketAddr::V4(from)))
            }
        }
    };
}

unconnected!(BoundUdp);
unconnected!(UnconnectedUdp);

fn is_unspecified(a: SocketAddrV4) -> bool {
    a.ip().is_unspecified() && a.port() == 0
}

impl<P: Port> embedded_nal_async::UdpStack for AsyncStack<P> {
    type Error = Error;
    type Connected = ConnectedUdp<P>;
    type UniquelyBound = BoundUdp<P>;
    type MultiplyBound = UnconnectedUdp<P>;

    /// A socket bound to `local` (unless it is `0.0.0.0:0`: the stack
    /// picks) and connected to `remote`; returns the local address the
    /// stack chose.
    async fn connect_from(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<(SocketAddr, ConnectedUdp<P>), Error> {
        let local = v4(local)?;
        let remote = v4(remote)?;
        let udp = Udp::open(self.engine)?;
        if !is_unspecified(local) {
            self.engine.bind(udp.fd, local)?;
        }
        self.engine.connect(udp.fd, Some(remote))?;
        let chosen = udp.local()?;
        Ok((SocketAddr::V4(chosen), ConnectedUdp { udp }))
    }

    /// A socket bound to `local` (port 0: an ephemeral port). An
    /// unspecified address binds every local address (this stack has no
    /// way to pick one); the address returned is then `0.0.0.0`, while
    /// each received datagram names the address it came to.
    async fn bind_single(&self, local: SocketAddr) -> Result<(SocketAddr, BoundUdp<P>), Error> {
        let local = v4(local)?;
        let udp = Udp::open(self.engine)?;
        self.engine.bind(udp.fd, local)?;
        let local = udp.local()?;
        Ok((SocketAddr::V4(local), BoundUdp { udp, local }))
    }

    /// A socket bound to `local`, usually `0.0.0.0:port`.
    async fn bind_multiple(&self, local: SocketAddr) -> Result<UnconnectedUdp<P>, Error> {
        let local = v4(local)?;
        let udp = Udp::open(self.engine)?;
        self.engine.bind(udp.fd, local)?;
        let local = udp.local()?;
        Ok(UnconnectedUdp { udp, local })
    }
}
