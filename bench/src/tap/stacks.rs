//! The two stacks under test on the TAP, behind one interface: a client
//! connection to a Linux socket, and a one-byte echo server for the accept
//! scenario. Both get the same settings: 256 KiB socket buffers each way,
//! CUBIC, Nagle off.

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::IpAddress;
use wolfip_core::phy::sim::Side;
use wolfip_core::{Instant, Ipv4Addr, SocketAddrV4, Stack, TcpHandle, TcpRecvError, TcpState};

use super::{TapLink, STACK_IP, STACK_MAC};
use crate::smol::{self, Node};
use crate::{wolf, Impl};

/// Socket buffers, each way.
pub(crate) const BUFFER: usize = 256 * 1024;

/// What a connection is doing.
#[derive(Debug, PartialEq)]
pub(crate) enum ConnState {
    /// The handshake is under way.
    Connecting,
    /// Data can flow.
    Established,
    /// Reset, refused or otherwise gone.
    Failed(String),
}

/// A stack on the TAP with its sockets.
pub(crate) trait TapStack {
    /// Runs the stack once at `now` on the TAP (receive, dispatch, send).
    fn poll(&mut self, link: &mut TapLink, now: Instant);
    /// Starts the benchmark's one client connection, from `local_port`, to
    /// `remote`.
    fn connect(
        &mut self,
        remote: SocketAddrV4,
        local_port: u16,
        now: Instant,
    ) -> Result<(), String>;
    /// How the client connection is doing.
    fn state(&mut self) -> ConnState;
    /// Offers `data` to the client connection; returns how much it took.
    fn send(&mut self, data: &[u8]) -> usize;
    /// Takes received data into `buf`; `Ok(0)` when there is none yet.
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, String>;
    /// Resets the client connection.
    fn abort(&mut self, now: Instant);
    /// Listens on `port` with `slots` connections at a time (see
    /// [`serve`](Self::serve)).
    fn listen(&mut self, port: u16, slots: usize) -> Result<(), String>;
    /// The accept scenario's server: accepts, echoes one byte, closes when
    /// the client has closed. Returns how many connections it accepted.
    fn serve(&mut self, now: Instant) -> u64;
}

/// wolfip: a boxed [`Stack`] with one interface.
pub(crate) struct WolfTap {
    stack: Box<Stack>,
    iface: wolfip_core::IfaceId,
    client: Option<TcpHandle>,
    listener: Option<TcpHandle>,
    conns: Vec<TcpHandle>,
}

impl WolfTap {
    /// A stack at [`STACK_IP`], seeded from `seed`.
    pub(crate) fn new(seed: u64) -> WolfTap {
        let (stack, iface) = wolf::stack(seed, STACK_MAC, STACK_IP);
        WolfTap {
            stack,
            iface,
            client: None,
            listener: None,
            conns: Vec::new(),
        }
    }

    /// The benchmark's socket settings, as smoltcp's (see the module docs).
    fn setup(&mut self, h: TcpHandle) {
        wolf::apply(&mut self.stack, h, BUFFER);
        self.stack.tcp_set_nodelay(h, true).unwrap();
    }
}

impl TapStack for WolfTap {
    fn poll(&mut self, link: &mut TapLink, now: Instant) {
        self.stack.poll(now, self.iface, &mut link.0);
    }

    fn connect(
        &mut self,
        remote: SocketAddrV4,
        local_port: u16,
        now: Instant,
    ) -> Result<(), String> {
        let h = self.stack.tcp_open().map_err(|e| format!("{e:?}"))?;
        self.setup(h);
        self.stack
            .tcp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, local_port))
            .map_err(|e| format!("tcp_bind: {e:?}"))?;
        self.stack
            .tcp_connect(h, remote, now)
            .map_err(|e| format!("tcp_connect: {e:?}"))?;
        self.client = Some(h);
        Ok(())
    }

    fn state(&mut self) -> ConnState {
        let Some(h) = self.client else {
            return ConnState::Failed("no connection".into());
        };
        match self.stack.tcp_state(h) {
            Some(TcpState::SynSent) | Some(TcpState::SynReceived) => ConnState::Connecting,
            Some(TcpState::Established) => ConnState::Established,
            s => ConnState::Failed(format!(
                "state {s:?}, error {:?}",
                self.stack.tcp_pending_error(h)
            )),
        }
    }

    fn send(&mut self, data: &[u8]) -> usize {
        match self.client {
            Some(h) => self.stack.tcp_send(h, data).unwrap_or(0),
            None => 0,
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        let h = self.client.ok_or("no connection")?;
        match self.stack.tcp_recv(h, buf) {
            Ok(0) => Err("end of stream".into()),
            Ok(n) => Ok(n),
            Err(TcpRecvError::WouldBlock) => Ok(0),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    fn abort(&mut self, now: Instant) {
        if let Some(h) = self.client.take() {
            self.stack.tcp_abort(h, now);
        }
    }

    fn listen(&mut self, port: u16, slots: usize) -> Result<(), String> {
        let h = self.stack.tcp_open().map_err(|e| format!("{e:?}"))?;
        self.setup(h);
        self.stack
            .tcp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
            .map_err(|e| format!("tcp_bind: {e:?}"))?;
        self.stack
            .tcp_listen(h, slots)
            .map_err(|e| format!("tcp_listen: {e:?}"))?;
        self.listener = Some(h);
        Ok(())
    }

    fn serve(&mut self, now: Instant) -> u64 {
        let Some(l) = self.listener else { return 0 };
        let mut accepted = 0;
        while let Ok((h, _)) = self.stack.tcp_accept(l) {
            accepted += 1;
            self.conns.push(h);
        }
        let stack = &mut self.stack;
        self.conns.retain(|&h| {
            let mut b = [0u8; 16];
            loop {
                match stack.tcp_recv(h, &mut b) {
                    Ok(0) => {
                        // The client closed: FIN back, the slot is freed
                        // once it is acknowledged.
                        stack.tcp_close(h, now);
                        return false;
                    }
                    Ok(n) => {
                        let _ = stack.tcp_send(h, &b[..n]);
                    }
                    Err(TcpRecvError::WouldBlock) => return true,
                    Err(_) => {
                        stack.tcp_close(h, now);
                        return false;
                    }
                }
            }
        });
        accepted
    }
}

/// smoltcp: one interface ([`smol::Node`]) on the same TAP device.
pub(crate) struct SmolTap {
    node: Node,
    client: Option<SocketHandle>,
    /// The accept scenario's listening sockets (smoltcp has no backlog:
    /// one socket per connection at a time) and whether each has been
    /// counted as accepted since it last listened.
    servers: Vec<(SocketHandle, bool)>,
    port: u16,
}

/// A smoltcp socket as [`smol::socket`] makes it, Nagle off.
fn sock(buffer: usize) -> tcp::Socket<'static> {
    let mut s = smol::socket(buffer);
    s.set_nagle_enabled(false);
    s
}

impl SmolTap {
    /// An interface at [`STACK_IP`] on the TAP, seeded from `seed`.
    pub(crate) fn new(seed: u64, link: &mut TapLink) -> SmolTap {
        SmolTap {
            node: Node::new(seed, STACK_MAC, STACK_IP, Side::A, link),
            client: None,
            servers: Vec::new(),
            port: 0,
        }
    }
}

impl TapStack for SmolTap {
    fn poll(&mut self, link: &mut TapLink, now: Instant) {
        self.node.poll(now, link);
    }

    fn connect(
        &mut self,
        remote: SocketAddrV4,
        local_port: u16,
        _now: Instant,
    ) -> Result<(), String> {
        let h = self.node.sockets.add(sock(BUFFER));
        let cx = self.node.iface.context();
        let [a, b, c, d] = remote.ip().octets();
        self.node
            .sockets
            .get_mut::<tcp::Socket>(h)
            .connect(cx, (IpAddress::v4(a, b, c, d), remote.port()), local_port)
            .map_err(|e| format!("connect: {e:?}"))?;
        self.client = Some(h);
        Ok(())
    }

    fn state(&mut self) -> ConnState {
        let Some(h) = self.client else {
            return ConnState::Failed("no connection".into());
        };
        match self.node.socket(h).state() {
            tcp::State::SynSent | tcp::State::SynReceived => ConnState::Connecting,
            tcp::State::Established => ConnState::Established,
            s => ConnState::Failed(format!("state {s}")),
        }
    }

    fn send(&mut self, data: &[u8]) -> usize {
        match self.client {
            Some(h) => self.node.socket(h).send_slice(data).unwrap_or(0),
            None => 0,
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        let h = self.client.ok_or("no connection")?;
        let s = self.node.socket(h);
        if s.can_recv() {
            return s.recv_slice(buf).map_err(|e| format!("{e:?}"));
        }
        if s.may_recv() {
            Ok(0)
        } else {
            Err(format!("state {}", s.state()))
        }
    }

    fn abort(&mut self, _now: Instant) {
        if let Some(h) = self.client.take() {
            self.node.socket(h).abort();
        }
    }

    fn listen(&mut self, port: u16, slots: usize) -> Result<(), String> {
        self.port = port;
        for _ in 0..slots {
            let h = self.node.sockets.add(sock(BUFFER));
            self.node
                .socket(h)
                .listen(port)
                .map_err(|e| format!("listen: {e:?}"))?;
            self.servers.push((h, false));
        }
        Ok(())
    }

    fn serve(&mut self, _now: Instant) -> u64 {
        let mut accepted = 0;
        for (h, counted) in &mut self.servers {
            let s = self.node.sockets.get_mut::<tcp::Socket>(*h);
            match s.state() {
                tcp::State::Listen | tcp::State::SynReceived => {}
                tcp::State::Closed | tcp::State::TimeWait => {
                    // Done (or reset): listen again.
                    s.abort();
                    let _ = s.listen(self.port);
                    *counted = false;
                }
                _ => {
                    if !*counted {
                        *counted = true;
                        accepted += 1;
                    }
                    let mut b = [0u8; 16];
                    while s.can_recv() && s.can_send() {
                        match s.recv_slice(&mut b) {
                            Ok(n) if n > 0 => {
                                let _ = s.send_slice(&b[..n]);
                            }
                            _ => break,
                        }
                    }
                    if !s.may_recv() && s.state() == tcp::State::CloseWait {
                        s.close();
                    }
                }
            }
        }
        accepted
    }
}

/// A fresh stack of kind `imp` on `link`, seeded from `seed`.
pub(crate) fn make(imp: Impl, seed: u64, link: &mut TapLink) -> Box<dyn TapStack> {
    match imp {
        Impl::Wolfip => Box::new(WolfTap::new(seed)),
        Impl::Smoltcp => Box::new(SmolTap::new(seed, link)),
    }
}
