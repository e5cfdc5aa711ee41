//! The socket calls over a [`Stack`], non-blocking, with Linux's errno
//! semantics per case (`shared/reference/linux-errno.md`). A blocking call
//! is built on top by waiting and retrying where these return `EAGAIN`,
//! `EINPROGRESS` or `EALREADY`.

use crate::errno::Errno;
use crate::table::{Entry, FdTable, Proto};
use wolfip_core::{Instant, Ipv4Addr, Shutdown, SocketAddrV4, Stack, TcpState};

/// The descriptor table with the calls that use it.
#[derive(Debug, Default)]
pub struct Sockets {
    /// The descriptors.
    pub table: FdTable,
}

/// Errors that end a connection (Linux `tcp_done`: both directions shut).
fn is_connection_error(e: Errno) -> bool {
    [
        Errno::ECONNRESET,
        Errno::ECONNREFUSED,
        Errno::ETIMEDOUT,
        Errno::EHOSTUNREACH,
        Errno::ENETUNREACH,
    ]
    .contains(&e)
}

/// What a read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes copied into the buffer; 0 on TCP is the end of the stream.
    pub len: usize,
    /// A datagram's whole length (more than `len` when it was truncated).
    pub full_len: usize,
    /// The sender of a datagram.
    pub from: Option<SocketAddrV4>,
}

/// `SOCK_NONBLOCK` and `SOCK_CLOEXEC` may be or'ed into the type.
const TYPE_FLAGS: i32 = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

const UNSPECIFIED: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);

impl Sockets {
    /// An empty table.
    pub const fn new() -> Sockets {
        Sockets {
            table: FdTable::new(),
        }
    }

    /// `socket(AF_INET, SOCK_STREAM | SOCK_DGRAM [| flags], protocol)`.
    pub fn socket(
        &mut self,
        stack: &mut Stack,
        domain: i32,
        ty: i32,
        protocol: i32,
    ) -> Result<i32, Errno> {
        if domain != libc::AF_INET {
            return Err(Errno::EAFNOSUPPORT);
        }
        let nonblock = ty & libc::SOCK_NONBLOCK != 0;
        let proto = match (ty & !TYPE_FLAGS, protocol) {
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP) => None,
            (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => Some(()),
            (libc::SOCK_STREAM | libc::SOCK_DGRAM, _) => return Err(Errno::EPROTONOSUPPORT),
            _ => return Err(Errno::EINVAL),
        };
        // A full table costs no protocol socket.
        if !self.table.has_room() {
            return Err(Errno::EMFILE);
        }
        let p = match proto {
            None => Proto::Tcp(stack.tcp_open()?),
            Some(()) => Proto::Udp(stack.udp_open()?),
        };
        let mut entry = Entry::new(p, nonblock);
        entry.cloexec = ty & libc::SOCK_CLOEXEC != 0;
        self.table.alloc(entry)
    }

    /// `bind`.
    pub fn bind(&mut self, stack: &mut Stack, fd: i32, addr: SocketAddrV4) -> Result<(), Errno> {
        match self.table.get(fd)?.proto {
            Proto::Tcp(h) => stack.tcp_bind(h, addr).map(|_| ()).map_err(Errno::from),
            Proto::Udp(h) => stack.udp_bind(h, addr).map(|_| ()).map_err(Errno::from),
        }
    }

    /// `listen`: again on a listener updates the backlog; on an unbound
    /// socket it binds an ephemeral port (Linux).
    pub fn listen(&mut self, stack: &mut Stack, fd: i32, backlog: i32) -> Result<(), Errno> {
        let e = self.table.get(fd)?;
        let Proto::Tcp(h) = e.proto else {
            return Err(Errno::EOPNOTSUPP);
        };
        let backlog = usize::try_from(backlog).unwrap_or(0).clamp(1, 4096);
        stack.tcp_listen(h, backlog).map_err(Errno::from)?;
        e.listening = true;
        Ok(())
    }

    /// `accept4`: a new descriptor for the oldest established connection.
    pub fn accept(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        flags: i32,
    ) -> Result<(i32, SocketAddrV4), Errno> {
        let e = *self.table.get(fd)?;
        let Proto::Tcp(h) = e.proto else {
            return Err(Errno::EOPNOTSUPP);
        };
        if !e.listening || e.shut_rd {
            return Err(Errno::EINVAL);
        }
        if flags & !TYPE_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        if !stack.tcp_can_accept(h) {
            return Err(Errno::EAGAIN);
        }
        // With a full table the connection stays queued (Linux: EMFILE).
        if !self.table.has_room() {
            return Err(Errno::EMFILE);
        }
        let (child, peer) = stack.tcp_accept(h)?;
        // The options are inherited from the listener, as the core does for
        // its own (Linux: the child is a clone of the listener).
        let mut entry = Entry::new(Proto::Tcp(child), flags & libc::SOCK_NONBLOCK != 0);
        entry.cloexec = flags & libc::SOCK_CLOEXEC != 0;
        entry.reuse_addr = e.reuse_addr;
        entry.opts = e.opts;
        let fd = self.table.alloc(entry)?;
        Ok((fd, peer))
    }

    /// `connect`. For TCP it starts the handshake and returns
    /// `EINPROGRESS`; later calls report the outcome as Linux does:
    /// `EALREADY` while it runs, 0 once after a success, `EISCONN` after
    /// that, the error once after a failure, then `ECONNABORTED`, then a new
    /// attempt. `None` dissolves a UDP association (`AF_UNSPEC`).
    pub fn connect(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        addr: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<(), Errno> {
        let e = self.table.get(fd)?;
        match e.proto {
            Proto::Udp(h) => stack.udp_connect(h, addr, now).map_err(Errno::from),
            Proto::Tcp(h) => {
                let Some(addr) = addr else {
                    // Linux: connect(AF_UNSPEC) disconnects (tcp_disconnect:
                    // a RST to a synchronized peer) and the socket can
                    // connect again.
                    if e.listening {
                        return Err(Errno::EISCONN);
                    }
                    stack.tcp_disconnect(h, now).map_err(Errno::from)?;
                    e.connecting = false;
                    e.connect_failed_reported = false;
                    e.reset_seen = false;
                    e.error_closed = false;
                    e.shut_rd = false;
                    e.shut_wr = false;
                    e.disconnected = true;
                    return Ok(());
                };
                match stack.tcp_state(h) {
                    Some(TcpState::Listen) => Err(Errno::EISCONN),
                    Some(TcpState::SynSent | TcpState::SynReceived) => Err(Errno::EALREADY),
                    Some(TcpState::Closed) | None if e.reset_seen => Err(Errno::EISCONN),
                    Some(TcpState::Closed) | None => {
                        if let Some(err) = stack.tcp_take_error(h) {
                            e.connecting = false;
                            e.connect_failed_reported = true;
                            e.error_closed = true;
                            return Err(err.into());
                        }
                        if e.connect_failed_reported {
                            e.connect_failed_reported = false;
                            return Err(Errno::ECONNABORTED);
                        }
                        stack.tcp_connect(h, addr, now).map_err(Errno::from)?;
                        e.connecting = true;
                        e.error_closed = false;
                        e.disconnected = false;
                        Err(Errno::EINPROGRESS)
                    }
                    Some(_) if e.connecting => {
                        e.connecting = false;
                        Ok(())
                    }
                    Some(_) => Err(Errno::EISCONN),
                }
            }
        }
    }

    /// `sendto` (and `send` with `to` = `None`). On a connected TCP socket
    /// the address is ignored, as on Linux.
    pub fn sendto(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        data: &[u8],
        to: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<usize, Errno> {
        let e = *self.table.get(fd)?;
        if e.shut_wr {
            return Err(Errno::EPIPE);
        }
        match e.proto {
            Proto::Tcp(h) => {
                let r = stack.tcp_send(h, data).map_err(Errno::from);
                self.note_reset(fd, &r);
                r
            }
            Proto::Udp(h) => {
                if data.len() > 65507 {
                    return Err(Errno::EMSGSIZE);
                }
                stack.udp_send_to(h, data, to, now).map_err(Errno::from)
            }
        }
    }

    /// `recvfrom` (and `recv`): the bytes read and, for UDP, the sender.
    /// `Ok((0, _))` on TCP is the end of the stream.
    pub fn recvfrom(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        buf: &mut [u8],
    ) -> Result<(usize, Option<SocketAddrV4>), Errno> {
        self.recv_with(stack, fd, buf, false)
            .map(|r| (r.len, r.from))
    }

    /// `recvfrom` with `MSG_PEEK` (`peek`: the data stays queued); also
    /// gives a datagram's full length (`MSG_TRUNC`).
    pub fn recv_with(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<Received, Errno> {
        let e = *self.table.get(fd)?;
        let eof = Received {
            len: 0,
            full_len: 0,
            from: None,
        };
        match e.proto {
            Proto::Tcp(h) => {
                if e.listening {
                    return Err(Errno::ENOTCONN);
                }
                // After SHUT_RD the data already queued is still read
                // (Linux), then the end of the stream.
                if e.shut_rd && stack.tcp_recv_queue(h) == 0 {
                    return Ok(eof);
                }
                let r = if peek {
                    stack.tcp_peek(h, buf)
                } else {
                    stack.tcp_recv(h, buf)
                };
                let r = r
                    .map(|n| Received {
                        len: n,
                        full_len: n,
                        from: None,
                    })
                    .map_err(Errno::from);
                self.note_reset(fd, &r);
                r
            }
            Proto::Udp(h) => {
                if e.shut_rd && !stack.udp_has_datagram(h) {
                    return Ok(eof);
                }
                let r = if peek {
                    stack.udp_peek_from(h, buf)
                } else {
                    stack.udp_recv_from(h, buf)
                };
                r.map(|(n, m)| Received {
                    len: n,
                    full_len: m.len,
                    from: Some(m.from),
                })
                .map_err(Errno::from)
            }
        }
    }

    /// `shutdown(fd, SHUT_RD | SHUT_WR | SHUT_RDWR)`.
    pub fn shutdown(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        how: i32,
        now: Instant,
    ) -> Result<(), Errno> {
        let (rd, wr) = match how {
            libc::SHUT_RD => (true, false),
            libc::SHUT_WR => (false, true),
            libc::SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        let e = self.table.get(fd)?;
        match e.proto {
            Proto::Udp(h) => {
                if stack.udp_peer_addr(h).is_none() {
                    return Err(Errno::ENOTCONN);
                }
            }
            Proto::Tcp(h) => {
                if e.listening {
                    // Linux: a listener's SHUT_RD makes accept fail with
                    // EINVAL.
                    e.shut_rd |= rd;
                    return Ok(());
                }
                let which = match (rd, wr) {
                    (true, true) => Shutdown::Both,
                    (true, false) => Shutdown::Read,
                    _ => Shutdown::Write,
                };
                match stack.tcp_state(h) {
                    Some(TcpState::Closed) | None | Some(TcpState::Listen) => {
                        return Err(Errno::ENOTCONN)
                    }
                    // Linux (inet_shutdown): in SYN-SENT any shutdown
                    // abandons the attempt (tcp_disconnect, ECONNRESET
                    // pending) and leaves the socket unconnected.
                    Some(TcpState::SynSent) => {
                        stack.tcp_disconnect(h, now).map_err(Errno::from)?;
                        e.connecting = false;
                        e.disconnected = true;
                        return Ok(());
                    }
                    _ => stack.tcp_shutdown(h, which).map_err(Errno::from)?,
                }
            }
        }
        e.shut_rd |= rd;
        e.shut_wr |= wr;
        Ok(())
    }

    /// `close`. With `SO_LINGER` on and a zero timeout a TCP connection is
    /// reset instead of finished (Linux, socket(7)); a nonzero linger time
    /// is the blocking layer's to wait for.
    pub fn close(&mut self, stack: &mut Stack, fd: i32, now: Instant) -> Result<(), Errno> {
        if let Some(e) = self.table.remove(fd)? {
            Self::release(stack, e, now);
        }
        Ok(())
    }

    /// Closes the protocol socket of a freed descriptor.
    pub fn release(stack: &mut Stack, e: Entry, now: Instant) {
        match e.proto {
            Proto::Tcp(h) if e.opts.linger_on && e.opts.linger_secs == 0 => stack.tcp_abort(h, now),
            Proto::Tcp(h) => stack.tcp_close(h, now),
            Proto::Udp(h) => stack.udp_close(h),
        }
    }

    /// `getsockname`: 0.0.0.0:0 while unbound (Linux).
    pub fn getsockname(&mut self, stack: &mut Stack, fd: i32) -> Result<SocketAddrV4, Errno> {
        Ok(match self.table.get(fd)?.proto {
            Proto::Tcp(h) => stack.tcp_local_addr(h),
            Proto::Udp(h) => stack.udp_local_addr(h),
        }
        .unwrap_or(UNSPECIFIED))
    }

    /// `getpeername`: `ENOTCONN` unless connected (also while the
    /// handshake runs, as on Linux).
    pub fn getpeername(&mut self, stack: &mut Stack, fd: i32) -> Result<SocketAddrV4, Errno> {
        match self.table.get(fd)?.proto {
            Proto::Tcp(h) => match stack.tcp_state(h) {
                Some(
                    TcpState::Established
                    | TcpState::CloseWait
                    | TcpState::FinWait1
                    | TcpState::FinWait2,
                ) => stack.tcp_peer_addr(h).ok_or(Errno::ENOTCONN),
                _ => Err(Errno::ENOTCONN),
            },
            // A datagram socket connected to port 0 sends there but has no
            // peer to name (Linux).
            Proto::Udp(h) => stack
                .udp_peer_addr(h)
                .filter(|a| a.port() != 0)
                .ok_or(Errno::ENOTCONN),
        }
    }

    /// `fcntl(fd, F_GETFL)`: `O_RDWR`, plus `O_NONBLOCK` when set.
    pub fn get_flags(&mut self, fd: i32) -> Result<i32, Errno> {
        let e = self.table.get(fd)?;
        Ok(libc::O_RDWR | if e.nonblock { libc::O_NONBLOCK } else { 0 })
    }

    /// `fcntl(fd, F_SETFL, flags)`: only `O_NONBLOCK` matters.
    pub fn set_flags(&mut self, fd: i32, flags: i32) -> Result<(), Errno> {
        self.table.get(fd)?.nonblock = flags & libc::O_NONBLOCK != 0;
        Ok(())
    }

    /// Remembers that a call reported the end of the connection by an
    /// error (see [`Entry::reset_seen`], [`Entry::error_closed`]).
    fn note_reset<T>(&mut self, fd: i32, r: &Result<T, Errno>) {
        let Err(err) = r else { return };
        if let Ok(e) = self.table.get(fd) {
            if is_connection_error(*err) {
                e.error_closed = true;
            }
            if *err == Errno::ECONNRESET {
                e.reset_seen = true;
            }
        }
    }

    /// `fcntl(fd, F_GETFD)`.
    pub fn get_fd_flags(&mut self, fd: i32) -> Result<i32, Errno> {
        Ok(if self.table.get(fd)?.cloexec {
            libc::FD_CLOEXEC
        } else {
            0
        })
    }

    /// `fcntl(fd, F_SETFD, flags)`.
    pub fn set_fd_flags(&mut self, fd: i32, flags: i32) -> Result<(), Errno> {
        self.table.get(fd)?.cloexec = flags & libc::FD_CLOEXEC != 0;
        Ok(())
    }

    /// `getsockopt(SO_ERROR)`: the pending error, consumed.
    pub fn take_error(&mut self, stack: &mut Stack, fd: i32) -> Result<Option<Errno>, Errno> {
        let e = self.table.get(fd)?;
        Ok(match e.proto {
            Proto::Tcp(h) => {
                let err = stack.tcp_take_error(h).map(Errno::from);
                if err == Some(Errno::ECONNRESET) && !e.connecting {
                    e.reset_seen = true;
                }
                if err.is_some_and(is_connection_error) {
                    e.error_closed = true;
                }
                if err.is_some() && e.connecting {
                    e.connecting = false;
                    e.connect_failed_reported = true;
                }
                err
            }
            Proto::Udp(h) => stack.udp_take_error(h).map(crate::errno::from_unreachable),
        })
    }
}
