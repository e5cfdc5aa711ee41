//! Feeds arbitrary bytes to a `Stack` as a sequence of Ethernet frames.
//!
//! Input format, repeated until the input runs out:
//!
//! ```text
//! [len: u16 big-endian] [step: u8] [len bytes of frame, fewer at the end]
//! ```
//!
//! `len` is taken modulo 1515 (the largest frame is 1514 bytes); after
//! each frame the clock advances by `step` milliseconds (below 200) or by
//! `step - 199` seconds, so ARP retries, reassembly timeouts and the ICMP
//! rate limit all get exercised. The stack has an address and a bound UDP
//! socket that echoes what it receives; everything it transmits goes to a
//! sink that sometimes answers busy.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{Duration, IfaceConfig, Instant, Ipv4Addr, SocketAddrV4, Stack};

/// Swallows frames; busy every seventh call.
struct Sink {
    calls: u32,
}

impl Device for Sink {
    fn receive(&mut self, _now: Instant, _buf: &mut [u8]) -> Option<usize> {
        None
    }
    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.calls = self.calls.wrapping_add(1);
        assert!(frame.len() >= 14 && frame.len() <= 1514);
        if self.calls % 7 == 0 {
            Err(TxBusy)
        } else {
            Ok(())
        }
    }
}

const MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);

fuzz_target!(|data: &[u8]| {
    let mut stack = Box::new(Stack::new(&mut FixedSeed(1)));
    let id = stack
        .add_interface(IfaceConfig::ethernet(MAC))
        .expect("interface");
    stack
        .set_ipv4(id, Some("192.0.2.2/24".parse().expect("cidr")))
        .expect("address");
    let sock = stack.udp_open().expect("socket");
    stack
        .udp_bind(sock, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7))
        .expect("bind");
    let mut sink = Sink { calls: 0 };
    let mut now = Instant::from_secs(1);
    let mut buf = [0u8; 4096];
    let mut rest = data;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])) % 1515;
        let step = rest[2];
        rest = &rest[3..];
        let (frame, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;

        stack.receive(now, id, frame);
        now += if step < 200 {
            Duration::from_millis(u64::from(step))
        } else {
            Duration::from_secs(u64::from(step - 199))
        };
        while let Ok((n, meta)) = stack.udp_recv_from(sock, &mut buf) {
            let _ = stack.udp_send_to(sock, &buf[..n], Some(meta.from), now);
        }
        stack.dispatch(now);
        stack.transmit(now, id, &mut sink);
        // Once the timers ran, nothing is overdue.
        if let Some(at) = stack.poll_at(now) {
            assert!(at >= now);
        }
    }
    let _ = stack.stats();
});
