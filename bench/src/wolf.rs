//! wolfip at both ends.

use wolfip_core::phy::sim::Side;
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{
    CongestionAlgorithm, IfaceConfig, IfaceId, Instant, Ipv4Addr, SocketAddrV4, Stack, TcpHandle,
    TcpState,
};

use crate::drive::{Bulk, Link, IP_A, IP_B, MAC_A, MAC_B, PORT};

pub struct Wolf {
    a: Box<Stack>,
    b: Box<Stack>,
    ia: IfaceId,
    ib: IfaceId,
    client: TcpHandle,
    listener: TcpHandle,
    server: Option<TcpHandle>,
}

/// A stack with one Ethernet interface.
pub(crate) fn stack(seed: u64, mac: [u8; 6], ip: [u8; 4]) -> (Box<Stack>, IfaceId) {
    let mut s = Box::new(Stack::new(&mut FixedSeed(seed)));
    let i = s
        .add_interface(IfaceConfig::ethernet(EthernetAddress(mac)))
        .unwrap();
    let cidr = format!("{}.{}.{}.{}/24", ip[0], ip[1], ip[2], ip[3]);
    s.set_ipv4(i, Some(cidr.parse().unwrap())).unwrap();
    (s, i)
}

/// Socket buffers of `buffer` bytes (below the built-in size) and CUBIC.
pub(crate) fn apply(s: &mut Stack, h: TcpHandle, buffer: usize) {
    assert_eq!(s.tcp_set_recv_buffer(h, buffer), Ok(buffer));
    assert_eq!(s.tcp_set_send_buffer(h, buffer), Ok(buffer));
    s.tcp_set_congestion(h, CongestionAlgorithm::Cubic).unwrap();
}

impl Wolf {
    /// Two stacks seeded from `seed`, B listening, A connecting.
    pub fn new(seed: u64, buffer: usize, now: Instant) -> Wolf {
        let (mut a, ia) = stack(seed, MAC_A, IP_A);
        let (mut b, ib) = stack(seed ^ 0xabcdef, MAC_B, IP_B);
        let listener = b.tcp_open().unwrap();
        apply(&mut b, listener, buffer);
        b.tcp_bind(listener, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .unwrap();
        b.tcp_listen(listener, 1).unwrap();
        let client = a.tcp_open().unwrap();
        apply(&mut a, client, buffer);
        let [w, x, y, z] = IP_B;
        a.tcp_connect(
            client,
            SocketAddrV4::new(Ipv4Addr::new(w, x, y, z), PORT),
            now,
        )
        .unwrap();
        Wolf {
            a,
            b,
            ia,
            ib,
            client,
            listener,
            server: None,
        }
    }
}

impl Bulk for Wolf {
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L) {
        self.a.poll(now, self.ia, &mut link.port(Side::A));
        self.b.poll(now, self.ib, &mut link.port(Side::B));
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        wolfip_core::time::earliest(self.a.poll_at(now), self.b.poll_at(now))
    }

    fn established(&mut self) -> bool {
        if self.server.is_none() {
            self.server = self.b.tcp_accept(self.listener).ok().map(|(s, _)| s);
        }
        self.server.is_some() && self.a.tcp_state(self.client) == Some(TcpState::Established)
    }

    fn send(&mut self, data: &[u8]) -> usize {
        self.a.tcp_send(self.client, data).unwrap_or(0)
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        match self.server {
            Some(s) => self.b.tcp_recv(s, buf).unwrap_or(0),
            None => 0,
        }
    }

    fn describe(&mut self) -> String {
        match self.a.tcp_info(self.client) {
            Some(i) => format!(
                "srtt {:?} rto {:?} cwnd {} ssthresh {} snd_wnd {} rtx {} fast-rtx {} rto-fired {} sack {} ts {}",
                i.srtt, i.rto, i.cwnd, i.ssthresh, i.snd_wnd, i.retransmits, i.fast_retransmits,
                i.timeouts, i.sack, i.timestamps
            ),
            None => "no socket".to_string(),
        }
    }
}
