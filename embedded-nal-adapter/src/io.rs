//! A blocking `embedded-io` 0.7 stream over a connected TCP socket.
//!
//! The descriptor stays non-blocking: every call tries once under the
//! port's lock and, when it would block, waits with the engine's `poll`
//! (the port's wait/wake pair, no spinning) before trying again.

use core::net::SocketAddr;

use crate::asynch::{flushed, ready};
use crate::nb::DONTWAIT;
use crate::{v4, Error, NalStack, TcpSocket};
use wolfip_bsd::engine::{Engine, PollEntry, Port};
use wolfip_bsd::poll::{POLLIN, POLLOUT};
use wolfip_bsd::Errno;

/// Blocking `embedded-io` 0.7 stream over a connected TCP socket.
///
/// * [`embedded_io::Read::read`] blocks until at least one byte is there,
///   or the end of the stream (`Ok(0)`);
/// * [`embedded_io::Write::write`] blocks until the send buffer takes at
///   least one byte, and returns how many it took;
/// * [`embedded_io::Write::flush`] blocks until the peer **acknowledged**
///   everything written (the send queue is empty), or the connection
///   failed;
/// * [`embedded_io::ReadReady`] / [`embedded_io::WriteReady`] check
///   without blocking.
///
/// Waits have no timeout (the connection's own timers end a dead one with
/// `ETIMEDOUT`). Dropping the stream closes the descriptor (a FIN to the
/// peer).
pub struct TcpStream<P: Port + 'static> {
    engine: &'static Engine<P>,
    fd: i32,
}

impl<P: Port> core::fmt::Debug for TcpStream<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}

impl<P: Port> TcpStream<P> {
    /// Opens a descriptor and connects it to `remote`, blocking until the
    /// handshake ends (`ECONNREFUSED`, `ETIMEDOUT`, ... when it fails).
    pub fn connect(stack: NalStack<P>, remote: SocketAddr) -> Result<Self, Error> {
        let addr = v4(remote)?;
        let engine = stack.engine();
        let fd = engine.socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0)?;
        // Owns the descriptor from here: an error closes it.
        let stream = TcpStream { engine, fd };
        loop {
            match engine.connect(fd, Some(addr)) {
                Ok(()) => return Ok(stream),
                Err(e) if e == Errno::EISCONN => return Ok(stream),
                Err(e) if e == Errno::EINPROGRESS || e == Errno::EALREADY => {
                    stream.wait(POLLOUT)?
                }
                Err(e) => return Err(Error(e)),
            }
        }
    }

    /// A stream over a socket of [`NalStack`] (connected, accepted, or
    /// still connecting: the calls then wait for the handshake). The
    /// stream owns the descriptor from now on.
    pub fn from_socket(stack: NalStack<P>, socket: TcpSocket) -> Self {
        TcpStream {
            engine: stack.engine(),
            fd: socket.into_fd(),
        }
    }

    /// Closes the descriptor (as dropping the stream does).
    pub fn close(self) {
        drop(self)
    }

    /// The descriptor, for the engine's other calls (`setsockopt`, ...).
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Blocks until `events` (or an error, a hang-up) are set on the
    /// descriptor.
    fn wait(&self, events: i16) -> Result<(), Error> {
        let mut set = [PollEntry {
            fd: self.fd,
            events,
            revents: 0,
        }];
        self.engine.poll(&mut set, -1)?;
        Ok(())
    }
}

impl<P: Port> Drop for TcpStream<P> {
    fn drop(&mut self) {
        let _ = self.engine.close(self.fd);
    }
}

impl<P: Port> embedded_io::ErrorType for TcpStream<P> {
    type Error = Error;
}

impl<P: Port> embedded_io::Read for TcpStream<P> {
    /// Blocks until at least one byte is there; `Ok(0)` at the end of the
    /// stream, `ECONNRESET` (kind `ConnectionReset`) after a reset.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.engine.recvfrom(self.fd, buf, DONTWAIT) {
                Ok(r) => return Ok(r.len),
                Err(e) if e == Errno::EAGAIN => self.wait(POLLIN)?,
                Err(e) => return Err(Error(e)),
            }
        }
    }
}

impl<P: Port> embedded_io::Write for TcpStream<P> {
    /// Blocks until the send buffer takes at least one byte; returns how
    /// many it took. `EPIPE` (kind `BrokenPipe`) once the connection can
    /// no longer send.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.engine.sendto(self.fd, buf, None, DONTWAIT) {
                Ok(0) => self.wait(POLLOUT)?,
                Ok(n) => return Ok(n),
                Err(e) if e == Errno::EAGAIN => self.wait(POLLOUT)?,
                Err(e) => return Err(Error(e)),
            }
        }
    }

    /// Blocks until the peer acknowledged everything written.
    fn flush(&mut self) -> Result<(), Error> {
        let fd = self.fd;
        let r = self
            .engine
            .wait_until(None, |stack, s, _| match flushed(stack, s, fd) {
                Err(e) if e == Errno::EAGAIN => None,
                r => Some(r),
            });
        match r {
            Some(r) => Ok(r?),
            // Without a deadline the wait only ends with an answer.
            None => Err(Error(Errno::ETIMEDOUT)),
        }
    }
}

impl<P: Port> embedded_io::ReadReady for TcpStream<P> {
    /// Whether a read would return at once (data, the end, or an error).
    fn read_ready(&mut self) -> Result<bool, Error> {
        ready(self.engine, self.fd, POLLIN)
    }
}

impl<P: Port> embedded_io::WriteReady for TcpStream<P> {
    /// Whether a write would return at once (room, or an error).
    fn write_ready(&mut self) -> Result<bool, Error> {
        ready(self.engine, self.fd, POLLOUT)
    }
}
