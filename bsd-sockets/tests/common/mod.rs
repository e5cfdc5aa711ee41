//! The in-process world of the socket-layer tests: a stack with loopback
//! and an Ethernet interface whose far side answers nothing.
#![allow(dead_code)]

use wolfip_bsd::{Errno, Sockets};
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{Duration, IfaceConfig, IfaceId, Instant, Ipv4Addr, SocketAddrV4, Stack};

pub const AF_INET: i32 = libc::AF_INET;
pub const STREAM: i32 = libc::SOCK_STREAM;
pub const DGRAM: i32 = libc::SOCK_DGRAM;
pub const NB: i32 = libc::SOCK_NONBLOCK;

/// Swallows frames: the far side of the Ethernet interface says nothing.
pub struct Silent;
impl Device for Silent {
    fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        None
    }
    fn transmit(&mut self, _: Instant, _: &[u8]) -> Result<(), TxBusy> {
        Ok(())
    }
}

pub struct World {
    pub stack: Box<Stack>,
    pub s: Sockets,
    pub eth: IfaceId,
    pub now: Instant,
}

impl World {
    pub fn new() -> World {
        let mut stack = Box::new(Stack::new(&mut FixedSeed(3)));
        let eth = stack
            .add_interface(IfaceConfig::ethernet(EthernetAddress([2, 0, 0, 0, 0, 9])))
            .unwrap();
        stack
            .set_ipv4(eth, Some("192.0.2.2/24".parse().unwrap()))
            .unwrap();
        World {
            stack,
            s: Sockets::new(),
            eth,
            now: Instant::from_secs(10),
        }
    }
    /// Lets the stack run (loopback traffic is processed by dispatch).
    pub fn pump(&mut self) {
        for _ in 0..20 {
            self.now += Duration::from_millis(1);
            self.stack.poll(self.now, self.eth, &mut Silent);
        }
    }
    pub fn tcp(&mut self) -> i32 {
        self.s
            .socket(&mut self.stack, AF_INET, STREAM | NB, 0)
            .unwrap()
    }
    pub fn udp(&mut self) -> i32 {
        self.s
            .socket(&mut self.stack, AF_INET, DGRAM | NB, 0)
            .unwrap()
    }
    /// A connected pair over loopback: (client, accepted server side).
    pub fn pair(&mut self, port: u16) -> (i32, i32) {
        let l = self.tcp();
        self.s.bind(&mut self.stack, l, lo(port)).unwrap();
        self.s.listen(&mut self.stack, l, 8).unwrap();
        let c = self.tcp();
        assert_eq!(
            self.s.connect(&mut self.stack, c, Some(lo(port)), self.now),
            Err(Errno::EINPROGRESS)
        );
        self.pump();
        let (a, _) = self.s.accept(&mut self.stack, l, 0).unwrap();
        assert_eq!(
            self.s.connect(&mut self.stack, c, Some(lo(port)), self.now),
            Ok(())
        );
        (c, a)
    }
}

pub fn lo(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}
