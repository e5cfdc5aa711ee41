//! `poll` readiness of one descriptor, as Linux computes it (`tcp_poll`,
//! `datagram_poll`) and as `shared/reference/linux-errno.md` records it:
//! a fresh TCP socket is OUT+HUP, a listener IN when a connection waits,
//! SYN_SENT nothing, a peer FIN IN+OUT+RDHUP, both FINs add HUP, a reset
//! or a refused connect IN+OUT+ERR+HUP+RDHUP.

use crate::errno::Errno;
use crate::ops::Sockets;
use crate::table::Proto;
use wolfip_core::{Stack, TcpState};

/// The poll bits, from the target's libc.
pub const POLLIN: i16 = libc::POLLIN;
/// Writable.
pub const POLLOUT: i16 = libc::POLLOUT;
/// An error is pending.
pub const POLLERR: i16 = libc::POLLERR;
/// Hung up.
pub const POLLHUP: i16 = libc::POLLHUP;
/// The peer closed its sending side.
pub const POLLRDHUP: i16 = libc::POLLRDHUP;
/// Not an open descriptor.
pub const POLLNVAL: i16 = libc::POLLNVAL;

impl Sockets {
    /// The events ready on `fd` now (all of them; the caller masks with the
    /// requested ones, keeping ERR, HUP and NVAL as poll(2) does). A closed
    /// descriptor is `POLLNVAL`.
    pub fn revents(&mut self, stack: &mut Stack, fd: i32) -> i16 {
        match self.ready(stack, fd) {
            Ok(mask) => mask,
            Err(_) => POLLNVAL,
        }
    }

    fn ready(&mut self, stack: &mut Stack, fd: i32) -> Result<i16, Errno> {
        let e = *self.table.get(fd)?;
        let mut mask = 0;
        match e.proto {
            Proto::Udp(h) => {
                if stack.udp_has_datagram(h) {
                    mask |= POLLIN;
                }
                if stack.udp_pending_error(h).is_some() {
                    mask |= POLLERR;
                }
                if e.shut_rd {
                    mask |= POLLIN | POLLRDHUP;
                }
                if e.shut_rd && e.shut_wr {
                    mask |= POLLHUP;
                }
                if stack.udp_can_send(h, 1) {
                    mask |= POLLOUT;
                }
            }
            Proto::Tcp(h) => {
                let state = stack.tcp_state(h);
                if state == Some(TcpState::Listen) {
                    return Ok(if stack.tcp_can_accept(h) && !e.shut_rd {
                        POLLIN
                    } else {
                        0
                    });
                }
                let error = stack.tcp_pending_error(h);
                let closed = matches!(state, Some(TcpState::Closed) | None);
                // Linux shuts both directions when a connection ends by an
                // error (tcp_done: reset, refused, timed out), and they stay
                // shut after the error was reported.
                let reset = closed
                    && !e.disconnected
                    && (e.reset_seen || e.error_closed || error.is_some());
                let rcv_shut = e.shut_rd || stack.tcp_peer_closed(h) || reset;
                let snd_shut = e.shut_wr || stack.tcp_local_closed(h) || reset;
                if (rcv_shut && snd_shut) || closed {
                    mask |= POLLHUP;
                }
                if rcv_shut {
                    mask |= POLLIN | POLLRDHUP;
                }
                if !matches!(state, Some(TcpState::SynSent | TcpState::SynReceived)) {
                    if stack.tcp_recv_queue(h) > 0 {
                        mask |= POLLIN;
                    }
                    if snd_shut || closed || stack.tcp_send_room(h) > 0 {
                        mask |= POLLOUT;
                    }
                }
                if error.is_some() {
                    mask |= POLLERR;
                }
            }
        }
        Ok(mask)
    }
}
