//! The TCP calls on [`Stack`], one error type per call. The BSD socket
//! layer maps these errors to errno in one place.

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::tcp::congestion::Algorithm;
use crate::tcp::demux::{Key, Owner};
use crate::tcp::emit::{our_window_shift, send_reset};
use crate::tcp::tcb::Tcb;
use crate::tcp::{input, listen, Keepalive, TcpError, TcpHandle, TcpState};
use crate::time::{Duration, Instant};
use crate::Stack;

/// Errors of [`Stack::tcp_open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOpenError {
    /// All `TCP_SOCKETS` slots are held by the application or by
    /// connections still waiting to be accepted.
    NoSocketsLeft,
}

/// Errors of [`Stack::tcp_bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpBindError {
    /// The handle names no open socket.
    BadHandle,
    /// Already bound, listening or connected.
    AlreadyBound,
    /// Another socket holds the port.
    AddrInUse,
    /// The address is not one of ours.
    AddrNotAvailable,
    /// Every ephemeral port is taken.
    NoPortsLeft,
}

/// Errors of [`Stack::tcp_listen`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpListenError {
    /// The handle names no open socket.
    BadHandle,
    /// The socket is connecting or connected.
    InvalidState,
    /// Another socket holds the port: a listener, or one without
    /// `SO_REUSEADDR` on both (Linux checks again at listen: EADDRINUSE).
    AddrInUse,
    /// Every ephemeral port is taken (listen on an unbound socket).
    NoPortsLeft,
}

/// Errors of [`Stack::tcp_accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAcceptError {
    /// The handle names no open socket.
    BadHandle,
    /// The socket is not listening.
    NotListening,
    /// No connection is waiting.
    WouldBlock,
}

/// Errors of [`Stack::tcp_connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpConnectError {
    /// The handle names no open socket.
    BadHandle,
    /// The connection is already open.
    IsConnected,
    /// A connection attempt is under way.
    InProgress,
    /// The socket listens.
    Listening,
    /// No route to the peer, or a broadcast or multicast peer (Linux:
    /// ENETUNREACH).
    NoRoute,
    /// Not returned any more: port 0 is connected to (Linux sends the
    /// SYN), broadcast and multicast peers give `NoRoute`. Kept for
    /// callers that map it.
    BadAddress,
    /// Every ephemeral port is taken.
    NoPortsLeft,
    /// The 4-tuple is in use by another connection.
    AddrInUse,
}

/// Errors of [`Stack::tcp_send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpSendError {
    /// The handle names no open socket.
    BadHandle,
    /// Not connected (never connected, or listening).
    NotConnected,
    /// The send buffer is full: retry after the stack has run.
    WouldBlock,
    /// The send side is shut (shutdown or close): EPIPE.
    Shutdown,
    /// The connection failed with this error.
    Failed(TcpError),
}

/// Errors of [`Stack::tcp_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpRecvError {
    /// The handle names no open socket.
    BadHandle,
    /// Not connected.
    NotConnected,
    /// Nothing to read yet.
    WouldBlock,
    /// The connection failed with this error (reported once).
    Failed(TcpError),
}

/// Which direction [`Stack::tcp_shutdown`] closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending: FIN after the queued data.
    Write,
    /// Both.
    Both,
}

/// Connection figures for diagnostics (Linux's `tcp_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// State.
    pub state: TcpState,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Congestion window in bytes.
    pub cwnd: u32,
    /// Slow-start threshold in bytes.
    pub ssthresh: u32,
    /// Send MSS (payload bytes per segment).
    pub mss: u16,
    /// Peer's window, scaled.
    pub snd_wnd: u32,
    /// Segments retransmitted.
    pub retransmits: u32,
    /// Fast retransmits.
    pub fast_retransmits: u32,
    /// Retransmission timeouts.
    pub timeouts: u32,
    /// Negotiated options.
    pub window_scaling: bool,
    /// Timestamps in use.
    pub timestamps: bool,
    /// SACK in use.
    pub sack: bool,
    /// Bytes waiting to be read.
    pub recv_queue: usize,
    /// Bytes not yet acknowledged or not yet sent.
    pub send_queue: usize,
}

fn socket_err(s: &crate::tcp::TcpSocket) -> Option<TcpError> {
    s.error
}

impl Stack {
    /// Opens a TCP socket.
    ///
    /// When every slot is taken, the slot of a connection the application
    /// has already closed is reclaimed: the oldest in TIME-WAIT, else the
    /// oldest still closing, which is reset (as lwIP's `tcp_alloc`; Linux
    /// has no such limit). Counted in `TcpStats::reclaimed`.
    pub fn tcp_open(&mut self) -> Result<TcpHandle, TcpOpenError> {
        let now = self.net.clock;
        let i = self
            .tcp
            .alloc(&mut self.net, now)
            .ok_or(TcpOpenError::NoSocketsLeft)?;
        Ok(self.tcp.handle(i))
    }

    /// Takes the oldest established connection from a listener.
    pub fn tcp_accept(
        &mut self,
        h: TcpHandle,
    ) -> Result<(TcpHandle, SocketAddrV4), TcpAcceptError> {
        let s = self.tcp.get(h).ok_or(TcpAcceptError::BadHandle)?;
        if s.backlog.is_none() {
            return Err(TcpAcceptError::NotListening);
        }
        let li = h.index() as u16;
        let counter = self.tcp.accept_counter;
        let (i, _) = self
            .tcp
            .sockets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.in_use && s.accept_of == Some(li))
            .max_by_key(|(_, s)| counter.wrapping_sub(s.accept_seq))
            .ok_or(TcpAcceptError::WouldBlock)?;
        let s = &mut self.tcp.sockets[i];
        s.accept_of = None;
        let remote = s
            .tcb
            .as_ref()
            .map(|t| t.remote)
            .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Ok((self.tcp.handle(i), remote))
    }

    /// Whether a listener has a connection waiting.
    pub fn tcp_can_accept(&mut self, h: TcpHandle) -> bool {
        let li = h.index() as u16;
        self.tcp.get(h).is_some_and(|s| s.backlog.is_some())
            && self
                .tcp
                .sockets
                .iter()
                .any(|s| s.in_use && s.accept_of == Some(li))
    }

    /// Starts connecting to `remote`. Returns at once; the state moves to
    /// `Established` (or the socket reports an error) as the stack runs.
    pub fn tcp_connect(
        &mut self,
        h: TcpHandle,
        remote: SocketAddrV4,
        now: Instant,
    ) -> Result<(), TcpConnectError> {
        let s = self.tcp.get(h).ok_or(TcpConnectError::BadHandle)?;
        if s.backlog.is_some() {
            return Err(TcpConnectError::Listening);
        }
        match s.tcb.as_ref().map(|t| t.state) {
            Some(TcpState::SynSent) | Some(TcpState::SynReceived) => {
                return Err(TcpConnectError::InProgress)
            }
            Some(TcpState::Closed) | None => {}
            Some(_) => return Err(TcpConnectError::IsConnected),
        }
        // Linux (tcp_v4_connect): a route to a broadcast or multicast
        // destination is ENETUNREACH. Port 0 is sent to like any other.
        if remote.ip().is_broadcast() || remote.ip().is_multicast() {
            return Err(TcpConnectError::NoRoute);
        }
        // Linux: 0.0.0.0 means this host.
        let remote = if remote.ip().is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, remote.port())
        } else {
            remote
        };
        let bound = s.bound;
        let src_hint = bound.map(|b| *b.ip()).filter(|a| !a.is_unspecified());
        let eg = self
            .net
            .route(*remote.ip(), src_hint, None, now)
            .map_err(|_| TcpConnectError::NoRoute)?;
        if eg.broadcast {
            return Err(TcpConnectError::NoRoute);
        }
        let local_ip = src_hint.unwrap_or(eg.src);
        let port = match bound {
            Some(b) => b.port(),
            None => {
                let tcp = &mut self.tcp;
                let mut ports = tcp.ports;
                let found = ports
                    .ephemeral_port(&mut self.net.rng, local_ip, remote, |p| tcp.port_in_use(p));
                tcp.ports = ports;
                found.ok_or(TcpConnectError::NoPortsLeft)?
            }
        };
        let local = SocketAddrV4::new(local_ip, port);
        if self.tcp.demux.get(&Key { local, remote }).is_some() {
            return Err(TcpConnectError::AddrInUse);
        }
        let iss = crate::tcp::isn::initial_sequence(&self.net.rng, local, remote, now);
        let ts_offset = self.net.rng.next_u32();
        let i = h.index();
        let s = &mut self.tcp.sockets[i];
        let mut t = Tcb::new(local, remote, iss, now, s.algo);
        t.state = TcpState::SynSent;
        t.rmss = (eg.mtu.saturating_sub(40)).min(65495) as u16;
        t.smss = t.rmss;
        t.opts.rcv_shift = our_window_shift(crate::config::TCP_RX_BUFFER);
        t.ts_offset = ts_offset;
        s.bound = Some(local);
        s.error = None;
        s.rx.clear();
        s.tx.clear();
        s.tcb = Some(t);
        self.tcp
            .demux
            .insert(Key { local, remote }, Owner::Socket(i as u16))
            .map_err(|_| TcpConnectError::NoPortsLeft)?;
        Ok(())
    }

    /// Queues data to send; returns how much was taken (maybe less than
    /// `data`, maybe 0 with `WouldBlock` when the buffer is full).
    pub fn tcp_send(&mut self, h: TcpHandle, data: &[u8]) -> Result<usize, TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        let Some(t) = s.tcb.as_ref() else {
            return Err(match s.error.take() {
                Some(e) => TcpSendError::Failed(e),
                None => TcpSendError::NotConnected,
            });
        };
        match t.state {
            TcpState::Established | TcpState::CloseWait => {}
            TcpState::SynSent | TcpState::SynReceived => return Err(TcpSendError::WouldBlock),
            TcpState::Closed => {
                return Err(match s.error.take() {
                    Some(e) => TcpSendError::Failed(e),
                    None => TcpSendError::Shutdown,
                })
            }
            _ => return Err(TcpSendError::Shutdown),
        }
        if t.fin_queued {
            return Err(TcpSendError::Shutdown);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = s.tx.enqueue_slice(data);
        if n == 0 {
            return Err(TcpSendError::WouldBlock);
        }
        Ok(n)
    }

    /// Reads received data. `Ok(0)` means the peer closed its side (end of
    /// stream) and everything was read, or `buf` is empty and data is
    /// waiting (as Linux's `recv` with length 0; with nothing waiting on
    /// an open stream it is `WouldBlock`).
    pub fn tcp_recv(&mut self, h: TcpHandle, buf: &mut [u8]) -> Result<usize, TcpRecvError> {
        self.tcp_read(h, buf, false)
    }

    /// Copies received data without consuming it (`MSG_PEEK`): the next
    /// read returns the same bytes. End of stream and errors are reported
    /// as by [`Stack::tcp_recv`].
    pub fn tcp_peek(&mut self, h: TcpHandle, buf: &mut [u8]) -> Result<usize, TcpRecvError> {
        self.tcp_read(h, buf, true)
    }

    fn tcp_read(
        &mut self,
        h: TcpHandle,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<usize, TcpRecvError> {
        let s = self.tcp.get(h).ok_or(TcpRecvError::BadHandle)?;
        let Some(t) = s.tcb.as_ref() else {
            return Err(match s.error.take() {
                Some(e) => TcpRecvError::Failed(e),
                None => TcpRecvError::NotConnected,
            });
        };
        if buf.is_empty() && !s.rx.is_empty() {
            return Ok(0);
        }
        let n = if peek {
            s.rx.peek(0, buf)
        } else {
            s.rx.dequeue_slice(buf)
        };
        if n > 0 {
            return Ok(n);
        }
        if let Some(e) = socket_err(s) {
            s.error = None;
            return Err(TcpRecvError::Failed(e));
        }
        match t.state {
            TcpState::SynSent | TcpState::SynReceived => Err(TcpRecvError::WouldBlock),
            _ if t.fin_received || t.rx_shutdown => Ok(0),
            TcpState::Closed => Ok(0),
            _ => Err(TcpRecvError::WouldBlock),
        }
    }

    /// Closes one or both directions.
    pub fn tcp_shutdown(&mut self, h: TcpHandle, how: Shutdown) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        let Some(t) = s.tcb.as_mut() else {
            return Err(TcpSendError::NotConnected);
        };
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            // Data already queued stays readable, then reads see the end
            // of the stream (Linux keeps the receive queue on SHUT_RD).
            t.rx_shutdown = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            match t.state {
                TcpState::SynSent => {
                    // Nothing was sent yet: just forget the attempt.
                    let i = h.index();
                    input::enter_closed(&mut self.tcp, i);
                }
                TcpState::Closed | TcpState::Listen => return Err(TcpSendError::NotConnected),
                _ => t.fin_queued = true,
            }
        }
        Ok(())
    }

    /// Closes the socket: the handle becomes invalid at once; an open
    /// connection is finished in the background (FIN after the queued
    /// data, then TIME-WAIT). If received data was never read, the
    /// connection is reset instead (RFC 9293 §3.10.4 via RFC 2525 §2.17,
    /// as Linux does).
    pub fn tcp_close(&mut self, h: TcpHandle, now: Instant) {
        let Some(s) = self.tcp.get(h) else { return };
        let i = h.index();
        if s.backlog.is_some() {
            listen::close_listener(&mut self.net, &mut self.tcp, i, now);
            self.tcp.free(i);
            return;
        }
        let unread = !s.rx.is_empty();
        match s.tcb.as_mut() {
            None => self.tcp.free(i),
            Some(t) => match t.state {
                TcpState::Closed | TcpState::SynSent | TcpState::Listen => self.tcp.free(i),
                TcpState::TimeWait
                | TcpState::FinWait2
                | TcpState::Closing
                | TcpState::LastAck
                | TcpState::FinWait1
                    if !unread =>
                {
                    s.orphaned = true;
                    crate::tcp::timers::arm_fin_wait_2(t, now);
                }
                _ if unread => {
                    send_reset(
                        &mut self.net,
                        now,
                        t.local,
                        t.remote,
                        t.snd_nxt,
                        Some(t.rcv_nxt),
                    );
                    self.tcp.free(i);
                }
                _ => {
                    t.fin_queued = true;
                    s.orphaned = true;
                }
            },
        }
    }

    /// Resets the connection and frees the socket (`SO_LINGER` 0).
    pub fn tcp_abort(&mut self, h: TcpHandle, now: Instant) {
        let Some(s) = self.tcp.get(h) else { return };
        if let Some(t) = s.tcb.as_ref() {
            if t.synchronized() || t.state == TcpState::SynReceived {
                send_reset(
                    &mut self.net,
                    now,
                    t.local,
                    t.remote,
                    t.snd_nxt,
                    Some(t.rcv_nxt),
                );
            }
        }
        let i = h.index();
        if self.tcp.sockets[i].backlog.is_some() {
            listen::close_listener(&mut self.net, &mut self.tcp, i, now);
        }
        self.tcp.free(i);
    }

    /// Drops the connection but keeps the socket, as Linux's
    /// `tcp_disconnect` (behind `connect` with `AF_UNSPEC`, and `shutdown`
    /// in SYN-SENT): the handle stays valid with its options and the state
    /// is `Closed`, ready for another `tcp_connect` or `tcp_listen`.
    ///
    /// - ESTABLISHED, CLOSE-WAIT, FIN-WAIT-1/2, SYN-RECEIVED: a RST goes to
    ///   the peer and the pending error becomes `Reset` (ECONNRESET).
    /// - SYN-SENT: nothing is sent; the pending error becomes `Reset`.
    /// - CLOSING, LAST-ACK, TIME-WAIT (our FIN is out): dropped silently.
    /// - LISTEN: listening stops; half-open connections are forgotten and
    ///   unaccepted ones reset.
    ///
    /// Buffers and the demultiplexing entry go. An address and port the
    /// application bound stay bound; a port chosen by the stack (and an
    /// address taken from the route) are released.
    pub fn tcp_disconnect(&mut self, h: TcpHandle, now: Instant) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        let i = h.index();
        if s.backlog.is_some() {
            listen::close_listener(&mut self.net, &mut self.tcp, i, now);
        } else if let Some(t) = s.tcb.as_ref() {
            let reset = matches!(
                t.state,
                TcpState::Established
                    | TcpState::CloseWait
                    | TcpState::FinWait1
                    | TcpState::FinWait2
                    | TcpState::SynReceived
            );
            if reset {
                send_reset(
                    &mut self.net,
                    now,
                    t.local,
                    t.remote,
                    t.snd_nxt,
                    Some(t.rcv_nxt),
                );
            }
            if reset || t.state == TcpState::SynSent {
                s.error = Some(TcpError::Reset);
            }
        }
        self.tcp.clear_connection(i);
        let s = &mut self.tcp.sockets[i];
        s.bound = match s.bound {
            Some(b) if s.port_locked => {
                let ip = if s.addr_locked {
                    *b.ip()
                } else {
                    Ipv4Addr::UNSPECIFIED
                };
                Some(SocketAddrV4::new(ip, b.port()))
            }
            // A bound address keeps the port it was bound with.
            Some(b) if s.addr_locked => Some(b),
            _ => None,
        };
        Ok(())
    }

    /// Slots free for `tcp_open` without reclaiming one (diagnostics).
    pub fn tcp_free_slots(&self) -> usize {
        self.tcp.sockets.iter().filter(|s| !s.in_use).count()
    }

    /// The state of a socket.
    pub fn tcp_state(&mut self, h: TcpHandle) -> Option<TcpState> {
        self.tcp.get(h).map(|s| s.state())
    }

    /// Takes the pending error (`SO_ERROR`).
    pub fn tcp_take_error(&mut self, h: TcpHandle) -> Option<TcpError> {
        self.tcp.get(h).and_then(|s| s.error.take())
    }

    /// The pending error, left in place (for `poll`'s POLLERR).
    pub fn tcp_pending_error(&mut self, h: TcpHandle) -> Option<TcpError> {
        self.tcp.get(h).and_then(|s| s.error)
    }

    /// Whether the peer's FIN has arrived (the receive side is at its end
    /// once the buffer is read).
    pub fn tcp_peer_closed(&mut self, h: TcpHandle) -> bool {
        self.tcp
            .get(h)
            .is_some_and(|s| s.tcb.as_ref().is_some_and(|t| t.fin_received))
    }

    /// Whether our FIN is queued or sent (`shutdown(SHUT_WR)` or close).
    pub fn tcp_local_closed(&mut self, h: TcpHandle) -> bool {
        self.tcp
            .get(h)
            .is_some_and(|s| s.tcb.as_ref().is_some_and(|t| t.fin_queued))
    }

    /// The local address.
    pub fn tcp_local_addr(&mut self, h: TcpHandle) -> Option<SocketAddrV4> {
        let s = self.tcp.get(h)?;
        s.tcb.as_ref().map(|t| t.local).or(s.bound)
    }

    /// The peer's address, once connecting or connected.
    pub fn tcp_peer_addr(&mut self, h: TcpHandle) -> Option<SocketAddrV4> {
        let s = self.tcp.get(h)?;
        s.tcb
            .as_ref()
            .filter(|t| t.state != TcpState::Closed)
            .map(|t| t.remote)
    }

    /// Bytes waiting to be read, and whether the peer has closed.
    pub fn tcp_recv_queue(&mut self, h: TcpHandle) -> usize {
        self.tcp.get(h).map_or(0, |s| s.rx.len())
    }

    /// Free room in the send buffer.
    pub fn tcp_send_room(&mut self, h: TcpHandle) -> usize {
        self.tcp.get(h).map_or(0, |s| s.tx.window())
    }

    /// Whether a `tcp_recv` would return without `WouldBlock`.
    pub fn tcp_can_recv(&mut self, h: TcpHandle) -> bool {
        self.tcp.get(h).is_some_and(|s| {
            !s.rx.is_empty()
                || s.error.is_some()
                || s.tcb
                    .as_ref()
                    .is_some_and(|t| t.fin_received || t.state == TcpState::Closed)
        })
    }

    /// Whether a `tcp_send` would take data now.
    pub fn tcp_can_send(&mut self, h: TcpHandle) -> bool {
        self.tcp.get(h).is_some_and(|s| {
            s.tx.window() > 0
                && s.tcb.as_ref().is_some_and(|t| {
                    matches!(t.state, TcpState::Established | TcpState::CloseWait) && !t.fin_queued
                })
        })
    }

    /// Turns Nagle's algorithm off (`TCP_NODELAY`).
    pub fn tcp_set_nodelay(&mut self, h: TcpHandle, nodelay: bool) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        s.nodelay = nodelay;
        Ok(())
    }

    /// Sets or clears keepalive (`SO_KEEPALIVE` with `TCP_KEEPIDLE`,
    /// `TCP_KEEPINTVL`, `TCP_KEEPCNT`).
    pub fn tcp_set_keepalive(
        &mut self,
        h: TcpHandle,
        ka: Option<Keepalive>,
    ) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        s.keepalive = crate::tcp::KeepaliveCfg::new(ka);
        if let Some(t) = s.tcb.as_mut() {
            t.keepalive_probes = 0;
        }
        Ok(())
    }

    /// Sets the user timeout (`TCP_USER_TIMEOUT`): how long sent data may
    /// stay unacknowledged before the connection fails with `TimedOut`.
    pub fn tcp_set_user_timeout(
        &mut self,
        h: TcpHandle,
        timeout: Option<Duration>,
    ) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        s.user_timeout_ms = timeout.map_or(0, |d| {
            u32::try_from(d.total_millis()).unwrap_or(u32::MAX).max(1)
        });
        Ok(())
    }

    /// Chooses the congestion control (`TCP_CONGESTION`).
    pub fn tcp_set_congestion(
        &mut self,
        h: TcpHandle,
        algo: Algorithm,
    ) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        s.algo = algo;
        if let Some(t) = s.tcb.as_mut() {
            t.cc.set_algorithm(algo);
        }
        Ok(())
    }

    /// Limits the receive buffer below its built-in size (`SO_RCVBUF`).
    pub fn tcp_set_recv_buffer(
        &mut self,
        h: TcpHandle,
        bytes: usize,
    ) -> Result<usize, TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        let n = bytes.clamp(536, crate::config::TCP_RX_BUFFER);
        s.rx.set_limit(n);
        Ok(n)
    }

    /// Limits the send buffer below its built-in size (`SO_SNDBUF`).
    pub fn tcp_set_send_buffer(
        &mut self,
        h: TcpHandle,
        bytes: usize,
    ) -> Result<usize, TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        let n = bytes.clamp(536, crate::config::TCP_TX_BUFFER);
        s.tx.set_limit(n);
        Ok(n)
    }

    /// Turns SYN cookies (RFC 4987 §3.6) on or off for every listener, as
    /// Linux's `net.ipv4.tcp_syncookies` (1 or 0); the default is
    /// `WOLFIP_TCP_SYN_COOKIES`. On, a SYN that finds no room in the SYN
    /// queue (or in its listener's backlog, while the accept queue itself
    /// has room) is answered with a SYN-ACK whose sequence number encodes
    /// the connection, and nothing is stored; the ACK that returns it
    /// makes the connection. Off, such SYNs are dropped and the peer
    /// retries, and ACKs of cookies already sent are answered with RST.
    /// See docs/tcp.md, "SYN cookies".
    pub fn set_tcp_syn_cookies(&mut self, on: bool) {
        self.tcp.syn_cookies = on;
    }

    /// Whether SYN cookies are on (see [`Stack::set_tcp_syn_cookies`]).
    pub fn tcp_syn_cookies(&self) -> bool {
        self.tcp.syn_cookies
    }

    /// Half-open connections waiting in the SYN queue, all listeners
    /// together (diagnostics; at most `TCP_SYN_BACKLOG`).
    pub fn tcp_half_open(&self) -> usize {
        usize::from(self.tcp.syn_len)
    }

    /// Connection figures.
    pub fn tcp_info(&mut self, h: TcpHandle) -> Option<TcpInfo> {
        let s = self.tcp.get(h)?;
        let state = s.state();
        let (rq, sq) = (s.rx.len(), s.tx.len());
        let t = s.tcb.as_ref()?;
        Some(TcpInfo {
            state,
            srtt: t.rtt.srtt(),
            rto: t.rtt.rto(),
            cwnd: t.cc.window(),
            ssthresh: t.cc.ssthresh(),
            mss: t.smss,
            snd_wnd: t.snd_wnd,
            retransmits: t.retransmits,
            fast_retransmits: t.fast_retransmits,
            timeouts: t.rto_count,
            window_scaling: t.opts.window_scaling,
            timestamps: t.opts.timestamps,
            sack: t.opts.sack,
            recv_queue: rq,
            send_queue: sq,
        })
    }
}
