//! getsockopt/setsockopt, case by case: the rows of
//! `shared/reference/linux-errno.md` ("shutdown, options, names, fcntl")
//! and the option descriptions of socket(7), ip(7) and tcp(7).

mod common;
use common::*;
use wolfip_bsd::Errno;

const SOL: i32 = libc::SOL_SOCKET;
const IP: i32 = libc::IPPROTO_IP;
const TCP: i32 = libc::IPPROTO_TCP;
const TV: usize = core::mem::size_of::<libc::timeval>();

fn geti(w: &mut World, fd: i32, level: i32, name: i32) -> Result<i32, Errno> {
    let mut b = [0u8; 4];
    let n = w.s.getsockopt(&mut w.stack, fd, level, name, &mut b)?;
    assert_eq!(n, 4, "an int option writes an int");
    Ok(i32::from_ne_bytes(b))
}

fn seti(w: &mut World, fd: i32, level: i32, name: i32, v: i32) -> Result<(), Errno> {
    w.s.setsockopt(&mut w.stack, fd, level, name, &v.to_ne_bytes())
}

fn timeval(sec: i64, usec: i64) -> [u8; TV] {
    // SAFETY: an all-zero timeval is valid.
    let mut tv: libc::timeval = unsafe { core::mem::zeroed() };
    tv.tv_sec = sec as libc::time_t;
    tv.tv_usec = usec as libc::suseconds_t;
    // SAFETY: timeval is plain integers.
    unsafe { core::mem::transmute::<libc::timeval, [u8; TV]>(tv) }
}

fn get_timeval(w: &mut World, fd: i32, name: i32) -> (i64, i64) {
    let mut b = [0u8; TV];
    assert_eq!(w.s.getsockopt(&mut w.stack, fd, SOL, name, &mut b), Ok(TV));
    // SAFETY: timeval is plain integers.
    let tv: libc::timeval = unsafe { core::mem::transmute::<[u8; TV], libc::timeval>(b) };
    (tv.tv_sec as i64, tv.tv_usec as i64)
}

fn linger(on: i32, secs: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&on.to_ne_bytes());
    b[4..].copy_from_slice(&secs.to_ne_bytes());
    b
}

/// Row "getsockopt with unknown level": EOPNOTSUPP; setsockopt with an
/// unknown level: ENOPROTOOPT.
#[test]
fn unknown_level() {
    let mut w = World::new();
    let t = w.tcp();
    let mut b = [0u8; 4];
    assert_eq!(
        w.s.getsockopt(&mut w.stack, t, 999, 1, &mut b),
        Err(Errno::EOPNOTSUPP)
    );
    assert_eq!(seti(&mut w, t, 999, 1, 1), Err(Errno::ENOPROTOOPT));
}

/// Row "unknown option name at SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP":
/// ENOPROTOOPT, both ways.
#[test]
fn unknown_name_at_each_level() {
    let mut w = World::new();
    let t = w.tcp();
    for level in [SOL, IP, TCP] {
        assert_eq!(geti(&mut w, t, level, 9999), Err(Errno::ENOPROTOOPT));
        assert_eq!(seti(&mut w, t, level, 9999, 1), Err(Errno::ENOPROTOOPT));
    }
}

/// Row "TCP option on a UDP socket": EOPNOTSUPP (get), ENOPROTOOPT (set).
#[test]
fn tcp_option_on_udp() {
    let mut w = World::new();
    let u = w.udp();
    assert_eq!(
        geti(&mut w, u, TCP, libc::TCP_NODELAY),
        Err(Errno::EOPNOTSUPP)
    );
    assert_eq!(
        seti(&mut w, u, TCP, libc::TCP_NODELAY, 1),
        Err(Errno::ENOPROTOOPT)
    );
}

/// Row "setsockopt optlen too small": EINVAL (int, linger and timeval
/// options alike).
#[test]
fn short_optlen_on_set() {
    let mut w = World::new();
    let t = w.tcp();
    let st = &mut w.stack;
    assert_eq!(
        w.s.setsockopt(st, t, SOL, libc::SO_REUSEADDR, &[1, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.s.setsockopt(st, t, TCP, libc::TCP_NODELAY, &[1]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.s.setsockopt(st, t, SOL, libc::SO_LINGER, &[0; 4]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.s.setsockopt(st, t, SOL, libc::SO_RCVTIMEO, &[0; 8]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.s.setsockopt(st, t, IP, libc::IP_TTL, &[]),
        Err(Errno::EINVAL)
    );
}

/// Row "getsockopt optlen small": the value is truncated, the call
/// succeeds and reports the bytes written.
#[test]
fn short_buffer_truncates() {
    let mut w = World::new();
    let t = w.tcp();
    let mut b = [0u8; 2];
    let n = w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_TYPE, &mut b);
    assert_eq!(n, Ok(2));
    assert_eq!(b, libc::SOCK_STREAM.to_ne_bytes()[..2]);
    let mut l = [0u8; 4];
    assert_eq!(
        w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &mut l),
        Ok(4)
    );
    let mut none = [0u8; 0];
    assert_eq!(
        w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_TYPE, &mut none),
        Ok(0)
    );
}

/// ip(7), Linux's do_ip_getsockopt: a short buffer gets a small IP value
/// as one byte.
#[test]
fn ip_value_in_one_byte() {
    let mut w = World::new();
    let u = w.udp();
    seti(&mut w, u, IP, libc::IP_TTL, 200).unwrap();
    let mut b = [0u8; 1];
    assert_eq!(
        w.s.getsockopt(&mut w.stack, u, IP, libc::IP_TTL, &mut b),
        Ok(1)
    );
    assert_eq!(b[0], 200);
}

/// Row "SO_RCVBUF set to N": reads back 2N (socket(7): the kernel doubles
/// the value). Same for SO_SNDBUF, and on UDP.
#[test]
fn rcvbuf_doubles() {
    let mut w = World::new();
    let t = w.tcp();
    seti(&mut w, t, SOL, libc::SO_RCVBUF, 4096).unwrap();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_RCVBUF), Ok(8192));
    seti(&mut w, t, SOL, libc::SO_SNDBUF, 2000).unwrap();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_SNDBUF), Ok(4000));
    let u = w.udp();
    seti(&mut w, u, SOL, libc::SO_RCVBUF, 1000).unwrap();
    assert_eq!(geti(&mut w, u, SOL, libc::SO_RCVBUF), Ok(2000));
}

/// socket(7) SO_RCVBUF: the size is clamped (here to the stack's minimum
/// of 536) before doubling.
#[test]
fn rcvbuf_is_clamped() {
    let mut w = World::new();
    let t = w.tcp();
    seti(&mut w, t, SOL, libc::SO_RCVBUF, 1).unwrap();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_RCVBUF), Ok(1072));
}

/// Row "SO_RCVTIMEO with a bad timeval": EDOM (tv_usec negative or not
/// below 1 000 000), also for SO_SNDTIMEO.
#[test]
fn bad_timeval_is_edom() {
    let mut w = World::new();
    let t = w.tcp();
    let st = &mut w.stack;
    for name in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        assert_eq!(
            w.s.setsockopt(st, t, SOL, name, &timeval(1, 1_000_000)),
            Err(Errno::EDOM)
        );
        assert_eq!(
            w.s.setsockopt(st, t, SOL, name, &timeval(1, -1)),
            Err(Errno::EDOM)
        );
    }
}

/// socket(7) SO_RCVTIMEO/SO_SNDTIMEO: a timeval round-trips; zero means no
/// timeout; a negative tv_sec is taken as no timeout (Linux).
#[test]
fn timeouts_round_trip() {
    let mut w = World::new();
    let t = w.udp();
    assert_eq!(get_timeval(&mut w, t, libc::SO_RCVTIMEO), (0, 0));
    w.s.setsockopt(&mut w.stack, t, SOL, libc::SO_RCVTIMEO, &timeval(2, 500))
        .unwrap();
    assert_eq!(get_timeval(&mut w, t, libc::SO_RCVTIMEO), (2, 500));
    w.s.setsockopt(
        &mut w.stack,
        t,
        SOL,
        libc::SO_SNDTIMEO,
        &timeval(0, 250_000),
    )
    .unwrap();
    assert_eq!(get_timeval(&mut w, t, libc::SO_SNDTIMEO), (0, 250_000));
    w.s.setsockopt(&mut w.stack, t, SOL, libc::SO_SNDTIMEO, &timeval(-5, 0))
        .unwrap();
    assert_eq!(get_timeval(&mut w, t, libc::SO_SNDTIMEO), (0, 0));
}

/// Row "SO_ERROR": after a refused connect ECONNREFUSED once, then 0
/// (socket(7): reading it clears it).
#[test]
fn so_error_after_refused_connect() {
    let mut w = World::new();
    let c = w.tcp();
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::EINPROGRESS)
    );
    w.pump();
    assert_eq!(geti(&mut w, c, SOL, libc::SO_ERROR), Ok(libc::ECONNREFUSED));
    assert_eq!(geti(&mut w, c, SOL, libc::SO_ERROR), Ok(0));
}

/// socket(7) SO_ERROR on a connected UDP socket: the ICMP error, taken
/// (the next recv no longer reports it).
#[test]
fn so_error_udp_takes_icmp_error() {
    let mut w = World::new();
    let u = w.udp();
    w.s.connect(&mut w.stack, u, Some(lo(9)), w.now).unwrap();
    w.s.sendto(&mut w.stack, u, b"x", None, w.now).unwrap();
    w.pump();
    assert_eq!(geti(&mut w, u, SOL, libc::SO_ERROR), Ok(libc::ECONNREFUSED));
    assert_eq!(geti(&mut w, u, SOL, libc::SO_ERROR), Ok(0));
    assert_eq!(
        w.s.recvfrom(&mut w.stack, u, &mut [0; 4]),
        Err(Errno::EAGAIN)
    );
}

/// socket(7): SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN are read-only
/// (setting them: ENOPROTOOPT, as is setting SO_ERROR).
#[test]
fn read_only_socket_options() {
    let mut w = World::new();
    let t = w.tcp();
    let u = w.udp();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_TYPE), Ok(libc::SOCK_STREAM));
    assert_eq!(geti(&mut w, u, SOL, libc::SO_TYPE), Ok(libc::SOCK_DGRAM));
    assert_eq!(geti(&mut w, t, SOL, libc::SO_DOMAIN), Ok(libc::AF_INET));
    assert_eq!(
        geti(&mut w, t, SOL, libc::SO_PROTOCOL),
        Ok(libc::IPPROTO_TCP)
    );
    assert_eq!(
        geti(&mut w, u, SOL, libc::SO_PROTOCOL),
        Ok(libc::IPPROTO_UDP)
    );
    for name in [
        libc::SO_TYPE,
        libc::SO_DOMAIN,
        libc::SO_PROTOCOL,
        libc::SO_ACCEPTCONN,
        libc::SO_ERROR,
    ] {
        assert_eq!(seti(&mut w, t, SOL, name, 1), Err(Errno::ENOPROTOOPT));
    }
}

/// socket(7) SO_ACCEPTCONN: 1 once listen was called.
#[test]
fn acceptconn_after_listen() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_ACCEPTCONN), Ok(0));
    w.s.listen(&mut w.stack, t, 1).unwrap();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_ACCEPTCONN), Ok(1));
}

/// socket(7) SO_REUSEADDR and SO_KEEPALIVE: booleans, any nonzero is on,
/// read back as 1.
#[test]
fn boolean_socket_options() {
    let mut w = World::new();
    let t = w.tcp();
    for name in [libc::SO_REUSEADDR, libc::SO_KEEPALIVE] {
        assert_eq!(geti(&mut w, t, SOL, name), Ok(0));
        seti(&mut w, t, SOL, name, 7).unwrap();
        assert_eq!(geti(&mut w, t, SOL, name), Ok(1));
        seti(&mut w, t, SOL, name, 0).unwrap();
        assert_eq!(geti(&mut w, t, SOL, name), Ok(0));
    }
}

/// socket(7) SO_LINGER: struct linger round-trips; l_linger is kept when
/// l_onoff is 0.
#[test]
fn linger_round_trip() {
    let mut w = World::new();
    let t = w.tcp();
    let mut b = [0u8; 8];
    assert_eq!(
        w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &mut b),
        Ok(8)
    );
    assert_eq!(b, linger(0, 0));
    w.s.setsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &linger(1, 5))
        .unwrap();
    w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &mut b)
        .unwrap();
    assert_eq!(b, linger(1, 5));
    w.s.setsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &linger(0, 5))
        .unwrap();
    w.s.getsockopt(&mut w.stack, t, SOL, libc::SO_LINGER, &mut b)
        .unwrap();
    assert_eq!(b, linger(0, 5));
}

/// socket(7) SO_LINGER with a zero timeout: close resets the connection;
/// the peer's recv is ECONNRESET.
#[test]
fn linger_zero_close_sends_rst() {
    let mut w = World::new();
    let (c, a) = w.pair(7000);
    w.s.setsockopt(&mut w.stack, c, SOL, libc::SO_LINGER, &linger(1, 0))
        .unwrap();
    w.s.close(&mut w.stack, c, w.now).unwrap();
    w.pump();
    assert_eq!(
        w.s.recvfrom(&mut w.stack, a, &mut [0; 8]),
        Err(Errno::ECONNRESET)
    );
}

/// Without SO_LINGER, close sends a FIN: the peer reads end of stream.
#[test]
fn plain_close_sends_fin() {
    let mut w = World::new();
    let (c, a) = w.pair(7001);
    w.s.close(&mut w.stack, c, w.now).unwrap();
    w.pump();
    assert_eq!(w.s.recvfrom(&mut w.stack, a, &mut [0; 8]), Ok((0, None)));
}

/// tcp(7) TCP_NODELAY and TCP_USER_TIMEOUT round-trip; a negative user
/// timeout is EINVAL.
#[test]
fn nodelay_and_user_timeout() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_NODELAY), Ok(0));
    seti(&mut w, t, TCP, libc::TCP_NODELAY, 1).unwrap();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_NODELAY), Ok(1));
    seti(&mut w, t, TCP, libc::TCP_USER_TIMEOUT, 3000).unwrap();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_USER_TIMEOUT), Ok(3000));
    assert_eq!(
        seti(&mut w, t, TCP, libc::TCP_USER_TIMEOUT, -1),
        Err(Errno::EINVAL)
    );
}

/// tcp(7) TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT: Linux's defaults
/// (7200, 75, 9), round-trip, EINVAL outside 1..=32767 (1..=127 for the
/// count); they apply with SO_KEEPALIVE on.
#[test]
fn keepalive_parameters() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPIDLE), Ok(7200));
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPINTVL), Ok(75));
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPCNT), Ok(9));
    seti(&mut w, t, SOL, libc::SO_KEEPALIVE, 1).unwrap();
    seti(&mut w, t, TCP, libc::TCP_KEEPIDLE, 30).unwrap();
    seti(&mut w, t, TCP, libc::TCP_KEEPINTVL, 5).unwrap();
    seti(&mut w, t, TCP, libc::TCP_KEEPCNT, 3).unwrap();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPIDLE), Ok(30));
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPINTVL), Ok(5));
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_KEEPCNT), Ok(3));
    for (name, bad) in [
        (libc::TCP_KEEPIDLE, 0),
        (libc::TCP_KEEPIDLE, 32768),
        (libc::TCP_KEEPINTVL, -1),
        (libc::TCP_KEEPCNT, 128),
    ] {
        assert_eq!(seti(&mut w, t, TCP, name, bad), Err(Errno::EINVAL));
    }
}

/// tcp(7) TCP_MAXSEG: 536 before a connection, the value set while
/// unconnected (advisory), the connection's MSS once connected; EINVAL
/// outside 88..=32767.
#[test]
fn maxseg() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_MAXSEG), Ok(536));
    seti(&mut w, t, TCP, libc::TCP_MAXSEG, 1200).unwrap();
    assert_eq!(geti(&mut w, t, TCP, libc::TCP_MAXSEG), Ok(1200));
    assert_eq!(
        seti(&mut w, t, TCP, libc::TCP_MAXSEG, 50),
        Err(Errno::EINVAL)
    );
    let (c, _) = w.pair(7002);
    let mss = geti(&mut w, c, TCP, libc::TCP_MAXSEG).unwrap();
    let info = match w.s.table.get(c).unwrap().proto {
        wolfip_bsd::table::Proto::Tcp(h) => w.stack.tcp_info(h).unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(mss, i32::from(info.mss));
}

/// tcp(7) TCP_CONGESTION: "cubic" by default; "reno" round-trips, the
/// name NUL-padded; "newreno" is taken as reno; an unknown one is ENOENT;
/// a short buffer truncates the name.
#[test]
fn congestion_round_trip() {
    let mut w = World::new();
    let t = w.tcp();
    let mut b = [0xffu8; 16];
    let st = &mut w.stack;
    assert_eq!(
        w.s.getsockopt(st, t, TCP, libc::TCP_CONGESTION, &mut b),
        Ok(16)
    );
    assert_eq!(&b, b"cubic\0\0\0\0\0\0\0\0\0\0\0");
    w.s.setsockopt(st, t, TCP, libc::TCP_CONGESTION, b"reno")
        .unwrap();
    w.s.getsockopt(st, t, TCP, libc::TCP_CONGESTION, &mut b)
        .unwrap();
    assert_eq!(&b, b"reno\0\0\0\0\0\0\0\0\0\0\0\0");
    w.s.setsockopt(st, t, TCP, libc::TCP_CONGESTION, b"cubic\0")
        .unwrap();
    w.s.setsockopt(st, t, TCP, libc::TCP_CONGESTION, b"newreno")
        .unwrap();
    let mut short = [0u8; 3];
    assert_eq!(
        w.s.getsockopt(st, t, TCP, libc::TCP_CONGESTION, &mut short),
        Ok(3)
    );
    assert_eq!(&short, b"ren");
    assert_eq!(
        w.s.setsockopt(st, t, TCP, libc::TCP_CONGESTION, b"bbr"),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        w.s.setsockopt(st, t, TCP, libc::TCP_CONGESTION, b""),
        Err(Errno::EINVAL)
    );
}

/// ip(7) IP_TTL: 64 by default, round-trips on UDP and TCP, -1 restores
/// the default, 0 and 256 are EINVAL.
#[test]
fn ttl() {
    let mut w = World::new();
    let u = w.udp();
    let t = w.tcp();
    for fd in [u, t] {
        assert_eq!(geti(&mut w, fd, IP, libc::IP_TTL), Ok(64));
        seti(&mut w, fd, IP, libc::IP_TTL, 5).unwrap();
        assert_eq!(geti(&mut w, fd, IP, libc::IP_TTL), Ok(5));
        seti(&mut w, fd, IP, libc::IP_TTL, -1).unwrap();
        assert_eq!(geti(&mut w, fd, IP, libc::IP_TTL), Ok(64));
        assert_eq!(seti(&mut w, fd, IP, libc::IP_TTL, 0), Err(Errno::EINVAL));
        assert_eq!(seti(&mut w, fd, IP, libc::IP_TTL, 256), Err(Errno::EINVAL));
    }
}

/// ip(7) IP_TOS: round-trips on UDP; on TCP the ECN bits stay the
/// stack's (Linux).
#[test]
fn tos() {
    let mut w = World::new();
    let u = w.udp();
    let t = w.tcp();
    seti(&mut w, u, IP, libc::IP_TOS, 0x11).unwrap();
    assert_eq!(geti(&mut w, u, IP, libc::IP_TOS), Ok(0x11));
    seti(&mut w, t, IP, libc::IP_TOS, 0x13).unwrap();
    assert_eq!(geti(&mut w, t, IP, libc::IP_TOS), Ok(0x10));
}

/// An accepted socket inherits its listener's options (Linux clones the
/// listener).
#[test]
fn accepted_socket_inherits_options() {
    let mut w = World::new();
    let l = w.tcp();
    seti(&mut w, l, TCP, libc::TCP_NODELAY, 1).unwrap();
    seti(&mut w, l, SOL, libc::SO_RCVBUF, 3000).unwrap();
    w.s.bind(&mut w.stack, l, lo(7003)).unwrap();
    w.s.listen(&mut w.stack, l, 4).unwrap();
    let c = w.tcp();
    let _ = w.s.connect(&mut w.stack, c, Some(lo(7003)), w.now);
    w.pump();
    let (a, _) = w.s.accept(&mut w.stack, l, 0).unwrap();
    assert_eq!(geti(&mut w, a, TCP, libc::TCP_NODELAY), Ok(1));
    assert_eq!(geti(&mut w, a, SOL, libc::SO_RCVBUF), Ok(6000));
    assert_eq!(geti(&mut w, a, SOL, libc::SO_ACCEPTCONN), Ok(0));
}

/// Any option call on a closed descriptor: EBADF.
#[test]
fn closed_descriptor() {
    let mut w = World::new();
    let t = w.tcp();
    w.s.close(&mut w.stack, t, w.now).unwrap();
    assert_eq!(geti(&mut w, t, SOL, libc::SO_TYPE), Err(Errno::EBADF));
    assert_eq!(
        seti(&mut w, t, SOL, libc::SO_REUSEADDR, 1),
        Err(Errno::EBADF)
    );
}

/// An IPPROTO_UDP option on a UDP socket: the level is known, the name is
/// not (ENOPROTOOPT); on a TCP socket the level is foreign (EOPNOTSUPP on
/// get, ENOPROTOOPT on set).
#[test]
fn udp_level() {
    let mut w = World::new();
    let u = w.udp();
    let t = w.tcp();
    let udp = libc::IPPROTO_UDP;
    assert_eq!(geti(&mut w, u, udp, 1), Err(Errno::ENOPROTOOPT));
    assert_eq!(seti(&mut w, u, udp, 1, 1), Err(Errno::ENOPROTOOPT));
    assert_eq!(geti(&mut w, t, udp, 1), Err(Errno::EOPNOTSUPP));
    assert_eq!(seti(&mut w, t, udp, 1, 1), Err(Errno::ENOPROTOOPT));
}
