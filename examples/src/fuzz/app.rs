//! The application side of the stack under test: UDP sockets, two TCP
//! listeners with small backlogs, and connections that it opens, writes,
//! reads, shuts down, closes and aborts at random.

use wolfip_core::{
    Duration, Instant, Ipv4Addr, Keepalive, Shutdown, SocketAddrV4, Stack, TcpHandle, TcpRecvError,
    TcpState, UdpHandle,
};

use super::gen::{LISTEN_PORTS, UDP_PORT};
use super::wire::{OTHER_IP, PEER_IP};
use super::Rng;

/// Most connections the application holds at once.
pub const MAX_CONNS: usize = 10;

/// Every TCP state, in coverage-table order.
pub const STATES: [TcpState; 11] = [
    TcpState::Closed,
    TcpState::Listen,
    TcpState::SynSent,
    TcpState::SynReceived,
    TcpState::Established,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::CloseWait,
    TcpState::Closing,
    TcpState::LastAck,
    TcpState::TimeWait,
];

/// The index of `s` in [`STATES`].
pub fn state_index(s: TcpState) -> usize {
    STATES.iter().position(|&x| x == s).unwrap_or(0)
}

/// The application's sockets.
pub struct App {
    /// Listeners, one per port of [`LISTEN_PORTS`] (None while closed).
    pub listeners: Vec<Option<TcpHandle>>,
    /// Open connections (accepted or connected).
    pub conns: Vec<TcpHandle>,
    /// UDP sockets: bound, connected, unbound sender.
    pub udp: Vec<UdpHandle>,
    buf: Vec<u8>,
}

impl App {
    /// Opens the UDP sockets and the listeners.
    pub fn new(stack: &mut Stack, now: Instant) -> App {
        let bound = stack.udp_open().expect("udp_open");
        stack
            .udp_bind(bound, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, UDP_PORT))
            .expect("udp_bind");
        let connected = stack.udp_open().expect("udp_open");
        stack
            .udp_connect(connected, Some(SocketAddrV4::new(PEER_IP, 53)), now)
            .expect("udp_connect");
        let sender = stack.udp_open().expect("udp_open");
        let mut app = App {
            listeners: vec![None; LISTEN_PORTS.len()],
            conns: Vec::new(),
            udp: vec![bound, connected, sender],
            buf: vec![0; 4096],
        };
        for i in 0..LISTEN_PORTS.len() {
            app.open_listener(stack, i);
        }
        app
    }

    fn open_listener(&mut self, stack: &mut Stack, i: usize) {
        let Ok(h) = stack.tcp_open() else { return };
        let port = LISTEN_PORTS[i];
        let ok = stack
            .tcp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
            .is_ok()
            && stack.tcp_listen(h, 1 + i).is_ok();
        if ok {
            self.listeners[i] = Some(h);
        } else {
            stack.tcp_close(h, Instant::from_millis(0));
        }
    }

    /// Counts the state of every socket the application holds.
    pub fn sample_states(&self, stack: &mut Stack, counts: &mut [u64; 11]) {
        for &h in self.listeners.iter().flatten().chain(&self.conns) {
            if let Some(s) = stack.tcp_state(h) {
                counts[state_index(s)] += 1;
            }
        }
    }

    /// One random application action.
    pub fn act(&mut self, stack: &mut Stack, rng: &mut Rng, now: Instant) {
        // Accept what is waiting (not always: let the backlog fill up).
        if !rng.chance(4) {
            for l in self.listeners.iter().flatten() {
                while let Ok((h, _)) = stack.tcp_accept(*l) {
                    self.conns.push(h);
                }
            }
        }
        let pick = |rng: &mut Rng, n: usize| rng.below(n);
        match rng.below(20) {
            0..=2 if self.conns.len() < MAX_CONNS => {
                let Ok(h) = stack.tcp_open() else { return };
                if rng.chance(4) {
                    let _ = stack.tcp_bind(
                        h,
                        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 6000 + rng.below(4) as u16),
                    );
                }
                let ip = if rng.chance(20) { OTHER_IP } else { PEER_IP };
                let port = 7000 + rng.below(4) as u16;
                if stack
                    .tcp_connect(h, SocketAddrV4::new(ip, port), now)
                    .is_ok()
                {
                    self.conns.push(h);
                } else {
                    stack.tcp_close(h, now);
                }
            }
            3..=6 if !self.conns.is_empty() => {
                let h = self.conns[pick(rng, self.conns.len())];
                let n = [1, 10, 536, 1460, 3000, 4096][rng.below(6)];
                let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
                let _ = stack.tcp_send(h, &data);
            }
            7..=10 if !self.conns.is_empty() => {
                let h = self.conns[pick(rng, self.conns.len())];
                let n = 1 + rng.below(self.buf.len());
                let _ = stack.tcp_recv(h, &mut self.buf[..n]);
            }
            11 | 12 if !self.conns.is_empty() => {
                let h = self.conns[pick(rng, self.conns.len())];
                let how = [
                    Shutdown::Write,
                    Shutdown::Write,
                    Shutdown::Read,
                    Shutdown::Both,
                ][rng.below(4)];
                let _ = stack.tcp_shutdown(h, how);
            }
            13 if !self.conns.is_empty() => {
                let i = pick(rng, self.conns.len());
                let h = self.conns.swap_remove(i);
                match rng.below(6) {
                    0 => stack.tcp_abort(h, now),
                    1 => {
                        let _ = stack.tcp_disconnect(h, now);
                        stack.tcp_close(h, now);
                    }
                    _ => stack.tcp_close(h, now),
                }
            }
            14 if !self.conns.is_empty() => {
                let h = self.conns[pick(rng, self.conns.len())];
                let _ = match rng.below(4) {
                    0 => stack.tcp_set_keepalive(
                        h,
                        Some(Keepalive {
                            idle: Duration::from_secs(1 + rng.below(5) as u64),
                            interval: Duration::from_secs(1),
                            count: 1 + rng.below(3) as u8,
                        }),
                    ),
                    1 => stack.tcp_set_user_timeout(
                        h,
                        Some(Duration::from_millis(500 + rng.below(5000) as u64)),
                    ),
                    2 => stack.tcp_set_nodelay(h, rng.chance(2)),
                    _ => stack.tcp_set_keepalive(h, None),
                };
            }
            15 if rng.chance(20) => {
                // Close a listener (its queue is reset) and open it again.
                let i = pick(rng, self.listeners.len());
                if let Some(l) = self.listeners[i].take() {
                    stack.tcp_close(l, now);
                }
                self.open_listener(stack, i);
            }
            16 => self.udp_traffic(stack, rng, now),
            _ => {}
        }
        // Drop the connections that are over, sometimes only after a while
        // (so that TIME-WAIT and CLOSED are seen).
        let mut i = 0;
        while i < self.conns.len() {
            let h = self.conns[i];
            let done = match stack.tcp_state(h) {
                None => true,
                Some(TcpState::Closed) | Some(TcpState::TimeWait) => rng.chance(8),
                Some(_) => false,
            };
            if done {
                let _ = stack.tcp_take_error(h);
                stack.tcp_close(h, now);
                self.conns.swap_remove(i);
            } else {
                i += 1;
            }
        }
        for l in 0..self.listeners.len() {
            if self.listeners[l].is_none() {
                self.open_listener(stack, l);
            }
        }
    }

    fn udp_traffic(&mut self, stack: &mut Stack, rng: &mut Rng, now: Instant) {
        let len = [0, 1, 100, 1472, 1473, 3000][rng.below(6)];
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let to = [PEER_IP, OTHER_IP, Ipv4Addr::LOCALHOST][rng.below(3)];
        let _ = stack.udp_send_to(self.udp[2], &data, Some(SocketAddrV4::new(to, 7)), now);
        let _ = stack.udp_send_to(self.udp[1], &data[..len.min(64)], None, now);
        for &h in &self.udp {
            while stack.udp_can_recv(h) {
                if stack.udp_recv_from(h, &mut self.buf).is_err() {
                    break;
                }
            }
            let _ = stack.udp_take_error(h);
        }
    }

    /// Closes every socket (the end of the run).
    pub fn close_all(&mut self, stack: &mut Stack, now: Instant) {
        for h in self.conns.drain(..) {
            // Read what is left so that the close is a FIN, not a RST.
            loop {
                match stack.tcp_recv(h, &mut self.buf) {
                    Ok(n) if n > 0 => {}
                    Ok(_) | Err(TcpRecvError::WouldBlock) | Err(_) => break,
                }
            }
            stack.tcp_close(h, now);
        }
        for l in self.listeners.iter_mut() {
            if let Some(h) = l.take() {
                stack.tcp_close(h, now);
            }
        }
        for h in self.udp.drain(..) {
            stack.udp_close(h);
        }
    }
}
