//! Scenario 6, `memory`: the RAM of each stack for the reference
//! configuration (4 TCP sockets with 4 KiB buffers each way, 2 UDP
//! sockets, 8 ARP entries, 4 routes), the per-socket overhead without
//! buffers, and the heap allocations made during a transfer (which must
//! be zero for wolfip). See docs/performance.md for the accounting.

use std::mem::size_of;

use smoltcp::iface::{Interface, SocketSet, SocketStorage};
use smoltcp::socket::{tcp, udp};
use wolfip_core::config;
use wolfip_core::phy::sim::{LinkConfig, SimLink};

use crate::drive::{establish, run, Bulk, Outcome, Pattern, Stop};
use crate::output::Measurement;
use crate::ring::RingLink;
use crate::{progress, smol, wolf, Impl, Opts, KIB, MIB, START};

const SCENARIO: &str = "memory";

/// The reference configuration.
pub const TCP_SOCKETS: usize = 4;
pub const TCP_BUFFER: usize = 4 * KIB;
pub const UDP_SOCKETS: usize = 2;
pub const ARP_ENTRIES: usize = 8;
pub const ROUTES: usize = 4;

/// This build of wolfip-core must be the reference configuration.
pub fn check_build() -> Result<(), String> {
    let got = (
        config::TCP_SOCKETS,
        config::TCP_RX_BUFFER,
        config::TCP_TX_BUFFER,
        config::UDP_SOCKETS,
        config::ARP_ENTRIES,
        config::ROUTES,
    );
    let want = (
        TCP_SOCKETS,
        TCP_BUFFER,
        TCP_BUFFER,
        UDP_SOCKETS,
        ARP_ENTRIES,
        ROUTES,
    );
    if got != want {
        return Err(format!(
            "the memory scenario needs wolfip-core built with the reference configuration \
             (TCP sockets, rx, tx buffer, UDP sockets, ARP entries, routes) = {want:?}, \
             this build has {got:?}: run it with \
             `cargo run --release -p wolfip-examples --bin bench`"
        ));
    }
    Ok(())
}

/// Bytes smoltcp needs for the reference configuration, with the parts
/// printed on standard error.
fn smoltcp_ram() -> usize {
    // Interface: its neighbor cache and route table are inline arrays whose
    // sizes are fixed when smoltcp is built (the launcher sets
    // SMOLTCP_IFACE_NEIGHBOR_CACHE_COUNT=8, SMOLTCP_IFACE_MAX_ROUTE_COUNT=4).
    let iface = size_of::<Interface>();
    // The socket set: its own header plus one storage slot per socket (an
    // enum holding any kind of socket inline).
    let set =
        size_of::<SocketSet<'static>>() + (TCP_SOCKETS + UDP_SOCKETS) * size_of::<SocketStorage>();
    // TCP: the payload rings, as the byte arrays they borrow.
    let tcp = TCP_SOCKETS * 2 * TCP_BUFFER;
    // UDP: as much payload and as many datagrams each way as ours
    // (WOLFIP_UDP_*_BUFFER bytes, WOLFIP_UDP_*_DATAGRAMS metadata slots).
    let udp = UDP_SOCKETS
        * (config::UDP_RX_BUFFER
            + config::UDP_TX_BUFFER
            + (config::UDP_RX_DATAGRAMS + config::UDP_TX_DATAGRAMS)
                * size_of::<udp::PacketMetadata>());
    eprintln!(
        "memory smoltcp: Interface {iface} B + SocketSet {set} B ({} B per slot) + TCP buffers {tcp} B \
         + UDP buffers and metadata {udp} B",
        size_of::<SocketStorage>()
    );
    iface + set + tcp + udp
}

/// Bytes of our stack, the RAM one more TCP socket costs besides its
/// payload buffers, and the TCP tables that do not grow with the number of
/// sockets; the parts printed on standard error.
fn wolfip_ram() -> (usize, usize, usize) {
    let r = config::report();
    eprintln!("memory wolfip: {r}");
    let n = config::TCP_SOCKETS;
    // One more socket: its slot without the payload arrays (connection
    // state and the two buffers' bookkeeping), its cached deadline and its
    // two slots of the demultiplexing table (tcp::SOCKET_MARGINAL_BYTES).
    let per_socket = wolfip_core::tcp::SOCKET_MARGINAL_BYTES;
    // The rest of the TCP part: the SYN queue (sized by
    // WOLFIP_TCP_SYN_BACKLOG, not by the socket count), the demux table's
    // slots beyond two per socket (it is a power of two), the ports.
    let shared = r
        .tcp_bytes
        .saturating_sub(n * (per_socket + config::TCP_RX_BUFFER + config::TCP_TX_BUFFER));
    eprintln!(
        "memory wolfip: one more TCP socket {per_socket} B besides its buffers; \
         TCP tables not per socket {shared} B (SYN queue, the demux table's \
         power-of-two rounding, ports)"
    );
    (r.stack_bytes, per_socket, shared)
}

/// A byte-limited transfer between two stacks of `imp` over the ring.
fn transfer(imp: Impl, total: u64) -> Outcome {
    let seed = 6;
    let pattern = Pattern::new(seed);
    // Far more slots than a 4 KiB window ever has in flight.
    let mut link = RingLink::new(64, 1514);
    fn go<B: Bulk>(mut b: B, link: &mut RingLink, pattern: &Pattern, total: u64) -> Outcome {
        let now = establish(&mut b, link, START);
        run(&mut b, link, now, pattern, Stop::Bytes(total))
    }
    match imp {
        Impl::Wolfip => go(
            wolf::Wolf::new(seed, TCP_BUFFER, START),
            &mut link,
            &pattern,
            total,
        ),
        Impl::Smoltcp => {
            let s = smol::Smol::new(seed, TCP_BUFFER, &mut link);
            go(s, &mut link, &pattern, total)
        }
    }
}

pub fn memory(o: &Opts, out: &mut Vec<Measurement>) {
    let m = |imp: Impl, metric, value: usize, unit| Measurement {
        scenario: SCENARIO,
        imp: imp.name(),
        metric,
        value: value as f64,
        unit,
    };
    let (ram, tcp_overhead, tcp_shared) = wolfip_ram();
    let smol_ram = smoltcp_ram();
    out.push(m(Impl::Wolfip, "ram", ram, "B"));
    out.push(m(Impl::Smoltcp, "ram", smol_ram, "B"));
    // Without the parts smoltcp leaves to the driver or lacks in this
    // build: outgoing frame slots, the loopback interface's frames, IP
    // reassembly buffers.
    let r = config::report();
    out.push(m(
        Impl::Wolfip,
        "ram-no-frame-pools",
        ram - r.tx_frames_bytes - r.loopback_bytes - r.reassembly_bytes,
        "B",
    ));
    out.push(m(Impl::Smoltcp, "ram-no-frame-pools", smol_ram, "B"));
    // One more TCP socket, without its payload buffers. smoltcp: a socket
    // lives in a `SocketSet` slot, which holds any kind of socket inline
    // (`SocketStorage`, a little larger than `tcp::Socket`).
    eprintln!(
        "memory smoltcp: tcp::Socket {} B, SocketStorage {} B",
        size_of::<tcp::Socket<'static>>(),
        size_of::<SocketStorage>()
    );
    out.push(m(Impl::Wolfip, "tcp-socket-overhead", tcp_overhead, "B"));
    out.push(m(
        Impl::Smoltcp,
        "tcp-socket-overhead",
        size_of::<SocketStorage>(),
        "B",
    ));
    // What our TCP holds besides per-socket state (smoltcp has no SYN
    // queue or demultiplexing table).
    out.push(m(Impl::Wolfip, "tcp-shared-tables", tcp_shared, "B"));
    out.push(m(Impl::Smoltcp, "tcp-shared-tables", 0, "B"));
    out.push(m(
        Impl::Wolfip,
        "udp-socket-overhead",
        config::report().udp_socket_overhead,
        "B",
    ));
    // The same rule as for TCP: a smoltcp socket of any kind takes a
    // `SocketStorage` slot.
    eprintln!(
        "memory smoltcp: udp::Socket {} B (in a SocketStorage slot)",
        size_of::<udp::Socket<'static>>()
    );
    out.push(m(
        Impl::Smoltcp,
        "udp-socket-overhead",
        size_of::<SocketStorage>(),
        "B",
    ));
    // The counter must see what it is meant to count: over the simulated
    // link, which copies every frame into a fresh Vec, a transfer does
    // allocate.
    {
        let seed = 6;
        let pattern = Pattern::new(seed);
        let mut link = SimLink::new(LinkConfig::default(), seed);
        let mut b = wolf::Wolf::new(seed, TCP_BUFFER, START);
        let now = establish(&mut b, &mut link, START);
        let r = run(&mut b, &mut link, now, &pattern, Stop::Bytes(MIB));
        eprintln!(
            "memory check: 1 MiB over the simulated link (not the ring): {:?}",
            r.allocs
        );
        assert!(r.allocs.allocs > 0, "the allocation counter counts nothing");
    }
    let total = if o.quick { 10 * MIB } else { 100 * MIB };
    for imp in [Impl::Wolfip, Impl::Smoltcp] {
        let r = transfer(imp, total);
        progress(SCENARIO, imp, &r);
        eprintln!("  heap during the transfer: {:?}", r.allocs);
        out.push(m(imp, "heap-allocs", r.allocs.allocs as usize, "count"));
        out.push(m(imp, "heap-bytes", r.allocs.bytes as usize, "B"));
    }
}
