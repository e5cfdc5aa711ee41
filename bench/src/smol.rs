//! smoltcp at both ends, over the same simulated link as wolfip.

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};
use wolfip_core::phy::sim::Side;
use wolfip_core::phy::Device as _;
use wolfip_core::Instant;

use crate::drive::{Bulk, Link, IP_A, IP_B, MAC_A, MAC_B, PORT};

/// Largest Ethernet frame, header included (1500-byte MTU).
const FRAME: usize = 1514;

fn smol_time(t: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(t.total_micros() as i64)
}

/// One port of the simulated link as a smoltcp device. It lives for one
/// poll; the scratch buffers are the stack's, reused across polls.
struct Port<'a, L: Link> {
    link: &'a mut L,
    side: Side,
    now: Instant,
    rx: &'a mut Vec<u8>,
    tx: &'a mut Vec<u8>,
}

struct Rx<'a> {
    frame: &'a [u8],
}

struct Tx<'a, L: Link> {
    link: &'a mut L,
    side: Side,
    now: Instant,
    buf: &'a mut Vec<u8>,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.frame)
    }
}

impl<L: Link> phy::TxToken for Tx<'_, L> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        self.buf.resize(len, 0);
        let r = f(&mut self.buf[..len]);
        // The simulated port never refuses a frame (a full queue is a tail
        // drop on the link); the memory scenario's ring refuses one only
        // when full, a drop too.
        let _ = self
            .link
            .port(self.side)
            .transmit(self.now, &self.buf[..len]);
        r
    }
}

impl<L: Link> phy::Device for Port<'_, L> {
    type RxToken<'b>
        = Rx<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = Tx<'b, L>
    where
        Self: 'b;

    fn receive(
        &mut self,
        _timestamp: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.rx.resize(FRAME, 0);
        let n = self.link.port(self.side).receive(self.now, self.rx)?;
        Some((
            Rx {
                frame: &self.rx[..n],
            },
            Tx {
                link: self.link,
                side: self.side,
                now: self.now,
                buf: self.tx,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(Tx {
            link: self.link,
            side: self.side,
            now: self.now,
            buf: self.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = FRAME;
        caps
    }
}

/// One smoltcp stack: an interface, its sockets and the device's scratch
/// buffers.
pub(crate) struct Node {
    pub(crate) iface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    side: Side,
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl Node {
    pub(crate) fn new<L: Link>(
        seed: u64,
        mac: [u8; 6],
        ip: [u8; 4],
        side: Side,
        link: &mut L,
    ) -> Node {
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        config.random_seed = seed;
        // Room for the largest frame from the start, so that the device's
        // scratch buffers never grow (and allocate) in the middle of a run.
        let (mut rx, mut tx) = (Vec::with_capacity(FRAME), Vec::with_capacity(FRAME));
        let mut port = Port {
            link,
            side,
            now: Instant::ZERO,
            rx: &mut rx,
            tx: &mut tx,
        };
        let mut iface = Interface::new(config, &mut port, smol_time(Instant::ZERO));
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::v4(ip[0], ip[1], ip[2], ip[3]), 24))
                .unwrap();
        });
        Node {
            iface,
            sockets: SocketSet::new(Vec::new()),
            side,
            rx,
            tx,
        }
    }

    pub(crate) fn poll<L: Link>(&mut self, now: Instant, link: &mut L) {
        let mut port = Port {
            link,
            side: self.side,
            now,
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.iface
            .poll(smol_time(now), &mut port, &mut self.sockets);
    }

    pub(crate) fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        self.iface
            .poll_at(smol_time(now), &self.sockets)
            .map(|t| Instant::from_micros(t.total_micros().max(0) as u64))
    }

    pub(crate) fn socket(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }
}

/// A TCP socket with `buffer`-byte buffers and CUBIC, otherwise as
/// smoltcp ships it (delayed ACK, Nagle, its default assembler).
pub(crate) fn socket(buffer: usize) -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; buffer]),
        tcp::SocketBuffer::new(vec![0; buffer]),
    );
    s.set_congestion_control(tcp::CongestionControl::Cubic);
    s
}

pub struct Smol {
    a: Node,
    b: Node,
    client: SocketHandle,
    server: SocketHandle,
}

impl Smol {
    /// Two stacks seeded from `seed`, B listening, A connecting.
    pub fn new<L: Link>(seed: u64, buffer: usize, link: &mut L) -> Smol {
        let mut a = Node::new(seed, MAC_A, IP_A, Side::A, link);
        let mut b = Node::new(seed ^ 0xabcdef, MAC_B, IP_B, Side::B, link);
        let server = b.sockets.add(socket(buffer));
        b.socket(server).listen(PORT).unwrap();
        let client = a.sockets.add(socket(buffer));
        let cx = a.iface.context();
        let [w, x, y, z] = IP_B;
        a.sockets
            .get_mut::<tcp::Socket>(client)
            .connect(cx, (IpAddress::v4(w, x, y, z), PORT), 49152)
            .unwrap();
        Smol {
            a,
            b,
            client,
            server,
        }
    }
}

impl Bulk for Smol {
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L) {
        self.a.poll(now, link);
        self.b.poll(now, link);
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        wolfip_core::time::earliest(self.a.poll_at(now), self.b.poll_at(now))
    }

    fn established(&mut self) -> bool {
        self.a.socket(self.client).state() == tcp::State::Established
            && self.b.socket(self.server).state() == tcp::State::Established
    }

    fn send(&mut self, data: &[u8]) -> usize {
        self.a.socket(self.client).send_slice(data).unwrap_or(0)
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.b.socket(self.server).recv_slice(buf).unwrap_or(0)
    }

    fn describe(&mut self) -> String {
        // smoltcp does not expose its congestion window or RTT estimate.
        let s = self.b.socket(self.server);
        format!("receiver window {}", s.recv_capacity())
    }
}
