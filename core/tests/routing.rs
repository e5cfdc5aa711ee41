//! Routing (RFC 1122 §3.3.1, RFC 1812 §5.2.4.3 longest-prefix match) over
//! two Ethernet interfaces, driven through `Stack` with hand-built frames.

mod common;

use common::*;
use wolfip_core::config::ROUTES;
use wolfip_core::wire::{ArpOperation, EthernetAddress, IpProtocol};
use wolfip_core::{
    IfaceConfig, IfaceError, IfaceId, Instant, Ipv4Addr, Ipv4Cidr, NextHop, Route, RouteError,
    Stack, UdpConnectError, UdpHandle, UdpSendError,
};

const MAC1: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 1, 0x02]);
const NET1_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const GW0: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1); // = PEER_IP
const GW0_MAC: EthernetAddress = PEER_MAC;
const GW0B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const GW0B_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xfe]);
const GW1: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const GW1_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 1, 0x01]);

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// eth0 = 192.0.2.2/24 (default gateway 192.0.2.1, and 203.0.113.128/25
/// via 192.0.2.254), eth1 = 198.51.100.2/24 (203.0.113.0/24 via
/// 198.51.100.1).
fn two_legged(seed: u64) -> (Box<Stack>, IfaceId, IfaceId) {
    let (mut s, eth0) = stack(seed);
    let eth1 = s.add_interface(IfaceConfig::ethernet(MAC1)).unwrap();
    s.set_ipv4(eth1, Some(cidr("198.51.100.2/24"))).unwrap();
    let mut dev = Capture::new();
    s.transmit(T0, eth1, &mut dev);
    assert_eq!(dev.tx.len(), 1, "announcement on eth1");
    s.add_route(Route {
        dest: cidr("203.0.113.0/24"),
        gateway: Some(GW1),
        iface: eth1,
        metric: 0,
    })
    .unwrap();
    s.add_route(Route {
        dest: cidr("203.0.113.128/25"),
        gateway: Some(GW0B),
        iface: eth0,
        metric: 0,
    })
    .unwrap();
    s.set_default_gateway(GW0).unwrap();
    (s, eth0, eth1)
}

/// Runs the stack and collects the frames of each interface.
fn run2(s: &mut Stack, now: Instant, eth0: IfaceId, eth1: IfaceId) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    s.dispatch(now);
    let (mut d0, mut d1) = (Capture::new(), Capture::new());
    s.transmit(now, eth0, &mut d0);
    s.transmit(now, eth1, &mut d1);
    (d0.tx, d1.tx)
}

/// Sends one datagram to `dst`, answers the ARP request that must appear on
/// `expect_iface` for `gw` with `gw_mac`, and returns the datagram's frame.
#[allow(clippy::too_many_arguments)]
fn send_via(
    s: &mut Stack,
    h: UdpHandle,
    dst: Ipv4Addr,
    (eth0, eth1): (IfaceId, IfaceId),
    expect_iface: IfaceId,
    our: (EthernetAddress, Ipv4Addr),
    gw: Ipv4Addr,
    gw_mac: EthernetAddress,
) -> IpFrame {
    s.udp_send_to(h, dst.to_string().as_bytes(), Some(sock(dst, 9)), T0)
        .unwrap();
    let (o0, o1) = run2(s, T0, eth0, eth1);
    let (here, there) = if expect_iface == eth0 {
        (o0, o1)
    } else {
        (o1, o0)
    };
    assert!(there.is_empty(), "{dst}: frame on the wrong interface");
    assert_eq!(here.len(), 1);
    let (eth, arp) = parse_arp(&here[0]);
    assert_eq!(eth.src_addr, our.0);
    assert_eq!(arp.source_protocol_addr, our.1);
    assert_eq!(arp.target_protocol_addr, gw, "{dst}: ARP for the next hop");
    let reply = arp_frame(our.0, ArpOperation::Reply, gw_mac, gw, our.0, our.1);
    s.receive(T0, expect_iface, &reply);
    let (o0, o1) = run2(s, T0, eth0, eth1);
    let (here, there) = if expect_iface == eth0 {
        (o0, o1)
    } else {
        (o1, o0)
    };
    assert!(there.is_empty());
    assert_eq!(here.len(), 1);
    let f = parse_ip(&here[0]);
    assert_eq!(f.eth.dst_addr, gw_mac, "{dst}: sent to the next hop's MAC");
    assert_eq!(f.eth.src_addr, our.0);
    assert_eq!(f.ip.dst_addr, dst, "the IP destination is unchanged");
    assert_eq!(f.ip.src_addr, our.1, "source of the egress interface");
    assert_eq!(parse_udp(&f).1, dst.to_string().as_bytes());
    f
}

/// RFC 1812 §5.2.4.3 (longest match wins) with RFC 1122 §3.3.1.1-§3.3.1.2
/// (on-link destinations directly, others through a gateway): each datagram
/// leaves on the interface of its longest matching prefix, towards the
/// gateway's hardware address.
#[test]
fn longest_prefix_picks_interface_and_gateway() {
    let (mut s, eth0, eth1) = two_legged(1);
    let h = s.udp_open().unwrap();
    let ifs = (eth0, eth1);
    let on0 = (OUR_MAC, OUR_IP);
    let on1 = (MAC1, NET1_IP);
    // /24 static route on eth1.
    send_via(&mut s, h, ip("203.0.113.5"), ifs, eth1, on1, GW1, GW1_MAC);
    // /25 static route on eth0 beats the /24.
    send_via(
        &mut s,
        h,
        ip("203.0.113.200"),
        ifs,
        eth0,
        on0,
        GW0B,
        GW0B_MAC,
    );
    // Default route.
    send_via(&mut s, h, ip("8.8.8.8"), ifs, eth0, on0, GW0, GW0_MAC);
    // Connected subnet of eth1: the destination itself is the next hop.
    let d = ip("198.51.100.77");
    let d_mac = EthernetAddress([0x02, 0, 0, 0, 1, 0x77]);
    send_via(&mut s, h, d, ifs, eth1, on1, d, d_mac);
    // Resolved gateways are reused: no new ARP.
    s.udp_send_to(h, b"again", Some(sock(ip("203.0.113.6"), 9)), T0)
        .unwrap();
    let (o0, o1) = run2(&mut s, T0, eth0, eth1);
    assert!(o0.is_empty());
    assert_eq!(parse_ip(&o1[0]).eth.dst_addr, GW1_MAC);

    assert_eq!(
        s.route_lookup(ip("203.0.113.129")),
        Some(NextHop {
            iface: eth0,
            via: GW0B
        })
    );
    assert_eq!(
        s.route_lookup(ip("198.51.100.9")),
        Some(NextHop {
            iface: eth1,
            via: ip("198.51.100.9")
        })
    );
    assert_eq!(s.route_lookup(NET1_IP).unwrap().iface, IfaceId::LOOPBACK);
}

/// The routing table is bounded (`ROUTES`): one more is an error, and a
/// gateway off every connected subnet is refused (RFC 1122 §3.3.1.1: a
/// gateway must be on a connected network).
#[test]
fn route_table_full_and_bad_gateways_are_errors() {
    let (mut s, eth0, eth1) = two_legged(2);
    let existing = s.routes().count();
    assert_eq!(existing, 3);
    for i in existing..ROUTES {
        s.add_route(Route {
            dest: Ipv4Cidr::new(Ipv4Addr::new(10, i as u8, 0, 0), 16).unwrap(),
            gateway: Some(GW0),
            iface: eth0,
            metric: 0,
        })
        .unwrap();
    }
    let one_more = Route {
        dest: cidr("100.64.0.0/10"),
        gateway: None,
        iface: eth1,
        metric: 0,
    };
    assert_eq!(s.add_route(one_more), Err(RouteError::TableFull));
    assert_eq!(s.remove_route(cidr("10.3.0.0/16")), 1);
    s.add_route(one_more).unwrap();
    assert_eq!(s.add_route(one_more), Err(RouteError::Exists));
    assert_eq!(s.routes().count(), ROUTES);

    let far_gw = Route {
        dest: cidr("172.16.0.0/12"),
        gateway: Some(GW1),
        iface: eth0,
        metric: 0,
    };
    assert_eq!(s.add_route(far_gw), Err(RouteError::GatewayUnreachable));
    assert_eq!(
        s.set_default_gateway(ip("203.0.113.1")),
        Err(RouteError::GatewayUnreachable)
    );
    assert_eq!(
        s.add_route(Route {
            iface: IfaceId(9),
            ..one_more
        }),
        Err(RouteError::NoSuchInterface)
    );
}

/// RFC 1122 §3.3.1.2: without a matching route a datagram cannot be sent:
/// `NoRoute` from send_to and connect, and nothing is queued.
#[test]
fn no_route_is_an_error() {
    let (mut s, id) = stack(3);
    let h = s.udp_open().unwrap();
    let far = sock(ip("203.0.113.9"), 53);
    assert_eq!(
        s.udp_send_to(h, b"x", Some(far), T0),
        Err(UdpSendError::NoRoute)
    );
    assert_eq!(
        s.udp_connect(h, Some(far), T0),
        Err(UdpConnectError::NoRoute)
    );
    assert_eq!(s.route_lookup(*far.ip()), None);
    assert!(run(&mut s, T0, id).is_empty());
    // With a default gateway it works.
    s.set_default_gateway(GW0).unwrap();
    assert_eq!(s.udp_send_to(h, b"x", Some(far), T0), Ok(1));
    // A socket bound to an address cannot reach anything without routes
    // either once the interface loses its address.
    s.set_ipv4(id, None).unwrap();
    assert_eq!(s.route_lookup(*far.ip()).map(|h| h.via), Some(GW0));
    let h2 = s.udp_open().unwrap();
    assert_eq!(
        s.udp_send_to(h2, b"x", Some(far), T0),
        Err(UdpSendError::NoRoute)
    );
}

/// RFC 1122 §3.2.2.6 (the echo reply's source is the specific destination
/// of the request) with the weak host model of §3.3.4.2: a ping for eth1's
/// address arriving on eth0 is answered from eth1's address, on eth0.
#[test]
fn echo_reply_source_is_the_address_pinged_on_a_multihomed_host() {
    let (mut s, eth0, eth1) = two_legged(4);
    // The peer is known on eth0.
    let req = peer_arp_request();
    s.receive(T0, eth0, &req);
    run2(&mut s, T0, eth0, eth1);
    let icmp = icmp_echo_request(3, 4, b"weak host");
    let f = ip_frame(PEER_IP, NET1_IP, IpProtocol::Icmp, &icmp);
    s.receive(T0, eth0, &f);
    let (o0, o1) = run2(&mut s, T0, eth0, eth1);
    assert!(o1.is_empty());
    assert_eq!(o0.len(), 1);
    let r = parse_ip(&o0[0]);
    assert_eq!((r.ip.src_addr, r.ip.dst_addr), (NET1_IP, PEER_IP));
    assert_eq!(r.eth.dst_addr, PEER_MAC);
}

/// Interfaces: bounded table, unicast MAC and sane MTU required; removing
/// one removes its routes and queued frames.
#[test]
fn interface_table_and_removal() {
    let (mut s, eth0, eth1) = two_legged(5);
    assert_eq!(
        s.add_interface(IfaceConfig::ethernet(OTHER_MAC)),
        Err(IfaceError::TableFull)
    );
    s.remove_interface(eth1).unwrap();
    assert_eq!(s.routes().count(), 2, "eth1's route is gone");
    assert_eq!(
        s.add_interface(IfaceConfig::ethernet(EthernetAddress::BROADCAST)),
        Err(IfaceError::BadMac)
    );
    assert_eq!(
        s.add_interface(IfaceConfig {
            mac: OTHER_MAC,
            mtu: 67
        }),
        Err(IfaceError::BadMtu)
    );
    assert_eq!(
        s.set_ipv4(eth0, Some(cidr("127.0.0.2/8"))),
        Err(IfaceError::BadAddress)
    );
    assert_eq!(s.remove_interface(eth1), Err(IfaceError::NoSuchInterface));
    assert_eq!(s.route_lookup(ip("203.0.113.5")).unwrap().iface, eth0);
}
