//! `getsockopt` and `setsockopt`, byte-level like the C calls, with
//! Linux's rules (`shared/reference/linux-errno.md`, "shutdown, options,
//! names, fcntl"; socket(7), ip(7), tcp(7)):
//!
//! - a level the socket does not speak: get `EOPNOTSUPP`, set
//!   `ENOPROTOOPT` (so a TCP option on a UDP socket is the same case);
//! - an unknown name at a known level: `ENOPROTOOPT`;
//! - a value shorter than the option needs: `EINVAL` on set; on get the
//!   value is truncated to the buffer and the call succeeds, returning the
//!   bytes written (at `IPPROTO_IP` a value of 0..=255 is written as one
//!   byte, as Linux's `do_ip_getsockopt` does);
//! - values are native-endian `c_int` unless noted (`struct linger`,
//!   `struct timeval`, the `TCP_CONGESTION` string).
//!
//! Options the core keeps are set through it; the descriptor remembers the
//! rest ([`SockOpts`](crate::table::SockOpts)). Limits of this stack, by
//! option:
//!
//! - `SO_RCVBUF`/`SO_SNDBUF`: the size set is clamped to 536..=the
//!   built-in buffer and reads back doubled, as Linux reports it; on UDP
//!   it is stored only (the rings have their compile-time sizes);
//! - `SO_RCVTIMEO`/`SO_SNDTIMEO`, `SO_LINGER` with a nonzero time: stored
//!   for the blocking layer; exact microseconds, not rounded to jiffies;
//! - `TCP_MAXSEG` set: advisory, stored and read back before the
//!   connection exists (the core derives its MSS from the route's MTU);
//! - `IP_TTL`: applied to UDP datagrams, stored only for TCP (the core
//!   sends TCP segments with its default TTL); `IP_TOS`: stored only;
//! - `TCP_CONGESTION`: "cubic" and "reno" (also "newreno"); NewReno
//!   reads back as "reno", Linux's name for it.

use crate::errno::Errno;
use crate::ops::Sockets;
use crate::table::{Entry, Proto};
use core::mem::{offset_of, size_of};
use wolfip_core::config::{IP_TTL, TCP_RX_BUFFER, TCP_TX_BUFFER, UDP_RX_BUFFER, UDP_TX_BUFFER};
use wolfip_core::{CongestionAlgorithm, Duration, Keepalive, Stack, TcpState};

const INT: usize = core::mem::size_of::<libc::c_int>();
const LINGER: usize = core::mem::size_of::<libc::linger>();
const TIMEVAL: usize = core::mem::size_of::<libc::timeval>();
/// Linux's `TCP_CA_NAME_MAX`.
const CA_NAME_MAX: usize = 16;
/// Linux's `TCP_MSS_DEFAULT`: the MSS reported before a connection.
const MSS_DEFAULT: i32 = 536;
/// Linux's `TCP_MIN_MSS` and `MAX_TCP_WINDOW`: the `TCP_MAXSEG` range.
const MIN_MSS: i32 = 88;
const MAX_MSS: i32 = 32767;
/// Linux's `MAX_TCP_KEEPIDLE`, `MAX_TCP_KEEPINTVL`, `MAX_TCP_KEEPCNT`.
const MAX_KEEP_SECS: i32 = 32767;
const MAX_KEEPCNT: i32 = 127;
/// The ECN bits of the TOS byte, kept by the stack on TCP (Linux).
const ECN_MASK: u8 = 3;
/// The smallest buffer size the core accepts.
const MIN_BUFFER: usize = 536;

/// Copies as much of `value` as fits: getsockopt truncates.
fn put(out: &mut [u8], value: &[u8]) -> usize {
    let n = value.len().min(out.len());
    out[..n].copy_from_slice(&value[..n]);
    n
}

fn put_int(out: &mut [u8], v: i32) -> usize {
    put(out, &v.to_ne_bytes())
}

/// An int option's value; `EINVAL` when shorter than an int.
fn get_int(value: &[u8]) -> Result<i32, Errno> {
    let b: [u8; INT] = value
        .get(..INT)
        .and_then(|b| b.try_into().ok())
        .ok_or(Errno::EINVAL)?;
    Ok(i32::from_ne_bytes(b))
}

/// An `IPPROTO_IP` value: an int, or a single byte when shorter (Linux's
/// `do_ip_setsockopt`); `EINVAL` when empty.
fn get_ip_int(value: &[u8]) -> Result<i32, Errno> {
    match value.len() {
        0 => Err(Errno::EINVAL),
        1..INT => Ok(i32::from(value[0])),
        _ => get_int(value),
    }
}

/// A `struct timeval` option as microseconds (0: no timeout). `EINVAL`
/// when short, `EDOM` for `tv_usec` outside 0..1_000_000; a negative
/// `tv_sec` means no timeout (Linux's `sock_set_timeout`).
fn get_timeout(value: &[u8]) -> Result<u64, Errno> {
    if value.len() < TIMEVAL {
        return Err(Errno::EINVAL);
    }
    let tv_sec = field(
        value,
        offset_of!(libc::timeval, tv_sec),
        size_of::<libc::time_t>(),
    );
    let tv_usec = field(
        value,
        offset_of!(libc::timeval, tv_usec),
        size_of::<libc::suseconds_t>(),
    );
    let usec = tv_usec;
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    let sec = tv_sec;
    if sec < 0 {
        return Ok(0);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000)
        .saturating_add(usec as u64))
}

fn put_timeout(out: &mut [u8], us: u64) -> usize {
    let mut tv = [0u8; TIMEVAL];
    let sec = i64::try_from(us / 1_000_000).unwrap_or(i64::MAX);
    set_field(
        &mut tv,
        offset_of!(libc::timeval, tv_sec),
        size_of::<libc::time_t>(),
        sec,
    );
    set_field(
        &mut tv,
        offset_of!(libc::timeval, tv_usec),
        size_of::<libc::suseconds_t>(),
        (us % 1_000_000) as i64,
    );
    put(out, &tv)
}

/// A native-endian signed integer of `size` bytes (4 or 8) at `off`.
fn field(b: &[u8], off: usize, size: usize) -> i64 {
    match b.get(off..off + size) {
        Some(&[a, b, c, d]) => i64::from(i32::from_ne_bytes([a, b, c, d])),
        Some(&[a, b, c, d, e, f, g, h]) => i64::from_ne_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

/// Stores `v` as a native-endian integer of `size` bytes (4 or 8) at `off`.
fn set_field(b: &mut [u8], off: usize, size: usize, v: i64) {
    if let Some(dst) = b.get_mut(off..off + size) {
        if size == 4 {
            dst.copy_from_slice(&(v.clamp(i32::MIN.into(), i32::MAX.into()) as i32).to_ne_bytes());
        } else if size == 8 {
            dst.copy_from_slice(&v.to_ne_bytes());
        }
    }
}

fn put_linger(out: &mut [u8], on: bool, secs: i32) -> usize {
    let l = libc::linger {
        l_onoff: i32::from(on),
        l_linger: secs,
    };
    let mut bytes = [0u8; LINGER];
    bytes[..INT].copy_from_slice(&l.l_onoff.to_ne_bytes());
    bytes[INT..].copy_from_slice(&l.l_linger.to_ne_bytes());
    put(out, &bytes)
}

/// `Keepalive` from the descriptor's `TCP_KEEP*` values.
fn keepalive_of(e: &Entry) -> Keepalive {
    Keepalive {
        idle: Duration::from_secs(u64::from(e.opts.keep_idle)),
        interval: Duration::from_secs(u64::from(e.opts.keep_intvl)),
        count: e.opts.keep_cnt,
    }
}

fn congestion_name(a: CongestionAlgorithm) -> &'static str {
    match a {
        CongestionAlgorithm::Cubic => "cubic",
        CongestionAlgorithm::NewReno => "reno",
    }
}

/// Doubles a size for reading back, as Linux reports buffer sizes.
fn doubled(n: usize) -> u32 {
    u32::try_from(n.saturating_mul(2)).unwrap_or(u32::MAX)
}

/// A buffer size option's value: a negative one is as large as allowed
/// (Linux compares it as unsigned).
fn buffer_size(v: i32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Sockets {
    /// `getsockopt(fd, level, name, out, &len)`: writes the value (as much
    /// of it as `out` holds) and returns the bytes written.
    pub fn getsockopt(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        level: i32,
        name: i32,
        out: &mut [u8],
    ) -> Result<usize, Errno> {
        let e = *self.table.get(fd)?;
        match (level, e.proto) {
            (libc::SOL_SOCKET, _) => self.get_socket(stack, fd, e, name, out),
            (libc::IPPROTO_IP, _) => {
                let v = match name {
                    libc::IP_TTL => i32::from(ttl_of(&e)),
                    libc::IP_TOS => i32::from(e.opts.tos),
                    _ => return Err(Errno::ENOPROTOOPT),
                };
                // Linux writes a small value as one byte to a short buffer.
                if out.len() < INT && (0..=255).contains(&v) {
                    return Ok(put(out, &[v as u8]));
                }
                Ok(put_int(out, v))
            }
            (libc::IPPROTO_TCP, Proto::Tcp(h)) => {
                let o = &e.opts;
                let v = match name {
                    libc::TCP_NODELAY => i32::from(o.nodelay),
                    libc::TCP_MAXSEG => match stack.tcp_state(h) {
                        Some(TcpState::Closed | TcpState::Listen) | None => {
                            if o.maxseg != 0 {
                                i32::from(o.maxseg)
                            } else {
                                MSS_DEFAULT
                            }
                        }
                        Some(_) => stack.tcp_info(h).map_or(MSS_DEFAULT, |i| i32::from(i.mss)),
                    },
                    libc::TCP_KEEPIDLE => i32::from(o.keep_idle),
                    libc::TCP_KEEPINTVL => i32::from(o.keep_intvl),
                    libc::TCP_KEEPCNT => i32::from(o.keep_cnt),
                    libc::TCP_USER_TIMEOUT => i32::try_from(o.user_timeout_ms).unwrap_or(i32::MAX),
                    libc::TCP_CONGESTION => {
                        let mut name = [0u8; CA_NAME_MAX];
                        let s = congestion_name(o.congestion).as_bytes();
                        name[..s.len()].copy_from_slice(s);
                        return Ok(put(out, &name));
                    }
                    _ => return Err(Errno::ENOPROTOOPT),
                };
                Ok(put_int(out, v))
            }
            // UDP has no options of its own here (Linux's UDP_CORK and
            // friends are not supported).
            (libc::IPPROTO_UDP, Proto::Udp(_)) => Err(Errno::ENOPROTOOPT),
            // Linux's `do_ip_getsockopt` for a level it does not know.
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn get_socket(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        e: Entry,
        name: i32,
        out: &mut [u8],
    ) -> Result<usize, Errno> {
        let tcp = matches!(e.proto, Proto::Tcp(_));
        let o = &e.opts;
        let v = match name {
            libc::SO_ERROR => self.take_error(stack, fd)?.map_or(0, |e| e.0),
            libc::SO_REUSEADDR => i32::from(e.reuse_addr),
            libc::SO_KEEPALIVE => i32::from(o.keepalive),
            libc::SO_LINGER => return Ok(put_linger(out, o.linger_on, o.linger_secs)),
            libc::SO_RCVBUF => {
                let default = if tcp { TCP_RX_BUFFER } else { UDP_RX_BUFFER };
                buffer_value(o.rcvbuf, default)
            }
            libc::SO_SNDBUF => {
                let default = if tcp { TCP_TX_BUFFER } else { UDP_TX_BUFFER };
                buffer_value(o.sndbuf, default)
            }
            libc::SO_TYPE => {
                if tcp {
                    libc::SOCK_STREAM
                } else {
                    libc::SOCK_DGRAM
                }
            }
            libc::SO_DOMAIN => libc::AF_INET,
            libc::SO_PROTOCOL => {
                if tcp {
                    libc::IPPROTO_TCP
                } else {
                    libc::IPPROTO_UDP
                }
            }
            libc::SO_ACCEPTCONN => i32::from(e.listening),
            libc::SO_RCVTIMEO => return Ok(put_timeout(out, o.rcvtimeo_us)),
            libc::SO_SNDTIMEO => return Ok(put_timeout(out, o.sndtimeo_us)),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        Ok(put_int(out, v))
    }

    /// `setsockopt(fd, level, name, value, len)`.
    pub fn setsockopt(
        &mut self,
        stack: &mut Stack,
        fd: i32,
        level: i32,
        name: i32,
        value: &[u8],
    ) -> Result<(), Errno> {
        let e = self.table.get(fd)?;
        match (level, e.proto) {
            (libc::SOL_SOCKET, _) => set_socket(stack, e, name, value),
            (libc::IPPROTO_IP, _) => set_ip(stack, e, name, value),
            (libc::IPPROTO_TCP, Proto::Tcp(_)) => set_tcp(stack, e, name, value),
            (libc::IPPROTO_UDP, Proto::Udp(_)) => Err(Errno::ENOPROTOOPT),
            // Linux's `ip_setsockopt` for a level it does not know.
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
}

/// The read-back value of `SO_RCVBUF`/`SO_SNDBUF`: as set, or twice the
/// built-in size.
fn buffer_value(stored: u32, default: usize) -> i32 {
    let v = if stored != 0 {
        stored
    } else {
        doubled(default)
    };
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn ttl_of(e: &Entry) -> u8 {
    if e.opts.ttl != 0 {
        e.opts.ttl
    } else {
        IP_TTL as u8
    }
}

fn set_socket(stack: &mut Stack, e: &mut Entry, name: i32, value: &[u8]) -> Result<(), Errno> {
    match name {
        libc::SO_LINGER => {
            if value.len() < LINGER {
                return Err(Errno::EINVAL);
            }
            let onoff = get_int(value)?;
            let secs = get_int(&value[INT..])?;
            e.opts.linger_on = onoff != 0;
            e.opts.linger_secs = secs;
            return Ok(());
        }
        libc::SO_RCVTIMEO => {
            e.opts.rcvtimeo_us = get_timeout(value)?;
            return Ok(());
        }
        libc::SO_SNDTIMEO => {
            e.opts.sndtimeo_us = get_timeout(value)?;
            return Ok(());
        }
        _ => {}
    }
    // Linux's `sk_setsockopt` wants an int for all the others, before it
    // looks at the name.
    let v = get_int(value)?;
    match name {
        libc::SO_REUSEADDR => {
            match e.proto {
                Proto::Tcp(h) => stack.tcp_set_reuse_addr(h, v != 0).map_err(Errno::from)?,
                Proto::Udp(h) => stack.udp_set_reuse_addr(h, v != 0).map_err(Errno::from)?,
            }
            e.reuse_addr = v != 0;
        }
        libc::SO_KEEPALIVE => {
            if let Proto::Tcp(h) = e.proto {
                let ka = (v != 0).then(|| keepalive_of(e));
                stack.tcp_set_keepalive(h, ka).map_err(Errno::from)?;
            }
            e.opts.keepalive = v != 0;
        }
        libc::SO_RCVBUF => {
            let n = match e.proto {
                Proto::Tcp(h) => stack
                    .tcp_set_recv_buffer(h, buffer_size(v))
                    .map_err(Errno::from)?,
                Proto::Udp(_) => buffer_size(v).clamp(MIN_BUFFER, UDP_RX_BUFFER),
            };
            e.opts.rcvbuf = doubled(n);
        }
        libc::SO_SNDBUF => {
            let n = match e.proto {
                Proto::Tcp(h) => stack
                    .tcp_set_send_buffer(h, buffer_size(v))
                    .map_err(Errno::from)?,
                Proto::Udp(_) => buffer_size(v).clamp(MIN_BUFFER, UDP_TX_BUFFER),
            };
            e.opts.sndbuf = doubled(n);
        }
        // Read-only ones (SO_ERROR, SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
        // SO_ACCEPTCONN) and unknown names: Linux says ENOPROTOOPT.
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

fn set_ip(stack: &mut Stack, e: &mut Entry, name: i32, value: &[u8]) -> Result<(), Errno> {
    match name {
        libc::IP_TTL => {
            let v = get_ip_int(value)?;
            // -1 restores the default (ip(7)).
            let ttl = match v {
                -1 => 0,
                1..=255 => v as u8,
                _ => return Err(Errno::EINVAL),
            };
            e.opts.ttl = ttl;
            if let Proto::Udp(h) = e.proto {
                stack.udp_set_ttl(h, ttl_of(e)).map_err(Errno::from)?;
            }
        }
        libc::IP_TOS => {
            let mut tos = get_ip_int(value)? as u8;
            // On a stream socket the ECN bits stay the stack's (Linux).
            if matches!(e.proto, Proto::Tcp(_)) {
                tos = (tos & !ECN_MASK) | (e.opts.tos & ECN_MASK);
            }
            e.opts.tos = tos;
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

fn set_tcp(stack: &mut Stack, e: &mut Entry, name: i32, value: &[u8]) -> Result<(), Errno> {
    let Proto::Tcp(h) = e.proto else {
        return Err(Errno::ENOPROTOOPT);
    };
    if name == libc::TCP_CONGESTION {
        // A string of up to 15 bytes, NUL-terminated or not.
        if value.is_empty() {
            return Err(Errno::EINVAL);
        }
        let s = &value[..value.len().min(CA_NAME_MAX - 1)];
        let s = s.split(|&b| b == 0).next().unwrap_or(s);
        let algo = match s {
            b"cubic" => CongestionAlgorithm::Cubic,
            b"reno" | b"newreno" => CongestionAlgorithm::NewReno,
            // Linux: a congestion control it does not have is ENOENT.
            _ => return Err(Errno::ENOENT),
        };
        stack.tcp_set_congestion(h, algo).map_err(Errno::from)?;
        e.opts.congestion = algo;
        return Ok(());
    }
    let v = get_int(value)?;
    match name {
        libc::TCP_NODELAY => {
            stack.tcp_set_nodelay(h, v != 0).map_err(Errno::from)?;
            e.opts.nodelay = v != 0;
        }
        libc::TCP_MAXSEG => {
            // 0 clears it; otherwise Linux's TCP_MIN_MSS..=MAX_TCP_WINDOW.
            if v != 0 && !(MIN_MSS..=MAX_MSS).contains(&v) {
                return Err(Errno::EINVAL);
            }
            e.opts.maxseg = v as u16;
        }
        libc::TCP_KEEPIDLE | libc::TCP_KEEPINTVL => {
            if !(1..=MAX_KEEP_SECS).contains(&v) {
                return Err(Errno::EINVAL);
            }
            if name == libc::TCP_KEEPIDLE {
                e.opts.keep_idle = v as u16;
            } else {
                e.opts.keep_intvl = v as u16;
            }
            apply_keepalive(stack, e, h)?;
        }
        libc::TCP_KEEPCNT => {
            if !(1..=MAX_KEEPCNT).contains(&v) {
                return Err(Errno::EINVAL);
            }
            e.opts.keep_cnt = v as u8;
            apply_keepalive(stack, e, h)?;
        }
        libc::TCP_USER_TIMEOUT => {
            let ms = u32::try_from(v).map_err(|_| Errno::EINVAL)?;
            let d = (ms > 0).then(|| Duration::from_millis(u64::from(ms)));
            stack.tcp_set_user_timeout(h, d).map_err(Errno::from)?;
            e.opts.user_timeout_ms = ms;
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

/// New `TCP_KEEP*` values take effect at once when keepalive is on.
fn apply_keepalive(stack: &mut Stack, e: &Entry, h: wolfip_core::TcpHandle) -> Result<(), Errno> {
    if e.opts.keepalive {
        stack
            .tcp_set_keepalive(h, Some(keepalive_of(e)))
            .map_err(Errno::from)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeval_round_trip() {
        let mut b = [0u8; TIMEVAL];
        assert_eq!(put_timeout(&mut b, 2_500_000), TIMEVAL);
        assert_eq!(get_timeout(&b), Ok(2_500_000));
        assert_eq!(get_timeout(&b[..TIMEVAL - 1]), Err(Errno::EINVAL));
    }

    #[test]
    fn ip_values_take_one_byte() {
        assert_eq!(get_ip_int(&[7]), Ok(7));
        assert_eq!(get_ip_int(&[]), Err(Errno::EINVAL));
        assert_eq!(get_ip_int(&9i32.to_ne_bytes()), Ok(9));
    }
}
