//! Local addresses: `bind` and `listen` with Linux's conflict rules
//! (`inet_csk_bind_conflict`) and `SO_REUSEADDR`, and reclaiming a socket
//! slot from a connection the application has let go of when the table is
//! full (as lwIP's `tcp_alloc` does).
//!
//! The conflict rule, as Linux applies it at `bind` and again at `listen`:
//! two sockets on the same port conflict when their addresses overlap
//! (equal, or either is 0.0.0.0), unless both have `SO_REUSEADDR` and the
//! socket already there is not listening. Sockets the application has
//! closed (TIME-WAIT and the other orphaned states) and connections
//! waiting in an accept queue hold their port too, with the `SO_REUSEADDR`
//! of the socket they came from (accepted connections inherit the
//! listener's).

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::net::Net;
use crate::tcp::api::{TcpBindError, TcpListenError, TcpSendError};
use crate::tcp::demux::{Key, Owner};
use crate::tcp::emit::send_reset;
use crate::tcp::{TcpHandle, TcpSockets, TcpState};
use crate::time::Instant;
use crate::Stack;

impl TcpSockets {
    /// Whether socket `me` taking `addr` (a port other than 0) conflicts
    /// with another socket (Linux's `inet_csk_bind_conflict`).
    pub fn bind_conflict(&self, me: usize, addr: SocketAddrV4) -> bool {
        let reuse = self.sockets[me].reuse_addr;
        self.sockets
            .iter()
            .enumerate()
            .filter(|(j, s)| *j != me && s.in_use)
            .any(|(_, s)| {
                let Some(l) = TcpSockets::local_of(s) else {
                    return false;
                };
                let overlap =
                    l.ip().is_unspecified() || addr.ip().is_unspecified() || l.ip() == addr.ip();
                l.port() == addr.port()
                    && overlap
                    && !(reuse && s.reuse_addr && s.backlog.is_none())
            })
    }

    /// Frees a slot when the table is full: the oldest connection in
    /// TIME-WAIT the application has closed (freed as its timer would),
    /// else the oldest other connection the application has closed
    /// (FIN-WAIT-1/2, CLOSING, LAST-ACK, or ESTABLISHED/CLOSE-WAIT with
    /// its FIN still queued), which is reset first. "Oldest" is the one
    /// that heard from its peer longest ago (TIME-WAIT: the one whose
    /// timer ends first). A slot the application still holds, or a
    /// connection waiting in an accept queue, is never taken.
    pub(crate) fn reclaim(&mut self, net: &mut Net, now: Instant) -> Option<usize> {
        let orphans = || {
            self.sockets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.in_use && s.orphaned)
                .filter_map(|(i, s)| s.tcb.as_ref().map(|t| (i, t)))
        };
        let time_wait = orphans()
            .filter(|(_, t)| t.state == TcpState::TimeWait)
            .min_by_key(|(_, t)| t.time_wait_until.get())
            .map(|(i, _)| i);
        let i = match time_wait {
            Some(i) => i,
            None => {
                let i = orphans()
                    .filter(|(_, t)| t.state != TcpState::Closed)
                    .min_by_key(|(_, t)| t.last_rx)
                    .map(|(i, _)| i)?;
                if let Some(t) = &self.sockets[i].tcb {
                    send_reset(net, now, t.local, t.remote, t.snd_nxt, Some(t.rcv_nxt));
                }
                i
            }
        };
        self.free(i);
        net.stats.tcp.reclaimed += 1;
        Some(i)
    }
}

impl Stack {
    /// Binds a local address and port; port 0 picks an ephemeral one. A
    /// port another socket holds is refused with `AddrInUse` unless both
    /// have `SO_REUSEADDR` and the other is not listening (Linux's rule;
    /// see [`Stack::tcp_set_reuse_addr`]).
    pub fn tcp_bind(
        &mut self,
        h: TcpHandle,
        local: SocketAddrV4,
    ) -> Result<SocketAddrV4, TcpBindError> {
        let ip = *local.ip();
        if !(ip.is_unspecified() || self.net.is_local(ip)) {
            return Err(TcpBindError::AddrNotAvailable);
        }
        let s = self.tcp.get(h).ok_or(TcpBindError::BadHandle)?;
        if s.bound.is_some() || s.tcb.is_some() {
            return Err(TcpBindError::AlreadyBound);
        }
        let port = if local.port() == 0 {
            let tcp = &mut self.tcp;
            let mut ports = tcp.ports;
            let found = ports.ephemeral_port(
                &mut self.net.rng,
                ip,
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                |p| tcp.port_in_use(p),
            );
            tcp.ports = ports;
            found.ok_or(TcpBindError::NoPortsLeft)?
        } else if self.tcp.bind_conflict(h.index(), local) {
            return Err(TcpBindError::AddrInUse);
        } else {
            local.port()
        };
        let bound = SocketAddrV4::new(ip, port);
        if let Some(s) = self.tcp.get(h) {
            s.bound = Some(bound);
            s.addr_locked = !ip.is_unspecified();
            s.port_locked = local.port() != 0;
        }
        Ok(bound)
    }

    /// Listens for connections; up to `backlog` may wait (half-open plus
    /// not yet accepted). An unbound socket gets an ephemeral port, as on
    /// Linux. Calling it again changes the backlog. As on Linux, the
    /// address is checked again: of two sockets sharing a port through
    /// `SO_REUSEADDR`, the first to listen gets it and the second's
    /// listen fails with `AddrInUse`.
    pub fn tcp_listen(&mut self, h: TcpHandle, backlog: usize) -> Result<(), TcpListenError> {
        let s = self.tcp.get(h).ok_or(TcpListenError::BadHandle)?;
        if s.tcb.is_some() {
            return Err(TcpListenError::InvalidState);
        }
        if s.bound.is_none() {
            self.tcp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
                .map_err(|e| match e {
                    TcpBindError::NoPortsLeft => TcpListenError::NoPortsLeft,
                    _ => TcpListenError::AddrInUse,
                })?;
        }
        let i = h.index();
        let s = &self.tcp.sockets[i];
        let bound = s.bound.ok_or(TcpListenError::InvalidState)?;
        let was_listening = s.backlog.is_some();
        if !was_listening && self.tcp.bind_conflict(i, bound) {
            return Err(TcpListenError::AddrInUse);
        }
        let s = &mut self.tcp.sockets[i];
        s.backlog = Some(backlog.clamp(1, u16::MAX as usize) as u16);
        if !was_listening {
            self.tcp
                .demux
                .insert(Key::listener(bound), Owner::Socket(i as u16))
                .map_err(|_| TcpListenError::AddrInUse)?;
        }
        Ok(())
    }

    /// Sets `SO_REUSEADDR`: with it on both sockets, a port held by a
    /// socket that is not listening (bound, connected, or closed and in
    /// TIME-WAIT) may be bound again. Connections accepted later from a
    /// listener inherit the listener's setting.
    pub fn tcp_set_reuse_addr(&mut self, h: TcpHandle, on: bool) -> Result<(), TcpSendError> {
        let s = self.tcp.get(h).ok_or(TcpSendError::BadHandle)?;
        s.reuse_addr = on;
        Ok(())
    }

    /// Whether `SO_REUSEADDR` is set (false for a stale handle).
    pub fn tcp_reuse_addr(&mut self, h: TcpHandle) -> bool {
        self.tcp.get(h).is_some_and(|s| s.reuse_addr)
    }
}
