//! Shared code for the wolfip examples: command-line parsing, a TAP device
//! that may record a pcap, the UDP echo application and the host event
//! loop that drives a [`Stack`] without a fixed tick.

pub mod bench_report;
pub mod c_echo;
pub mod dnsmasq;
pub mod fuzz;

use std::fs::File;
use std::io::BufWriter;
use std::time::Duration as StdDuration;

use wolfip_core::phy::fault::FaultInjector;
use wolfip_core::phy::pcap::PcapWriter;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::time::Instant;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{
    IfaceConfig, IfaceId, Ipv4Addr, Ipv4Cidr, SocketAddrV4, Stack, TcpHandle, TcpRecvError,
    UdpHandle, UdpRecvError,
};
use wolfip_tap::{Clock, TapDevice};

/// The hardware address the examples give the stack by default
/// (locally administered: the 0x02 bit of the first octet).
pub const DEFAULT_MAC: EthernetAddress = EthernetAddress([0x02, 0x57, 0x49, 0x50, 0x00, 0x01]);

/// A TAP device, optionally recording every frame in a pcap file.
pub enum TapDev {
    /// Frames go straight to the TAP.
    Plain(TapDevice),
    /// Frames are recorded, then go to the TAP.
    Recorded(PcapWriter<TapDevice, BufWriter<File>>),
}

impl TapDev {
    /// Opens (or creates) TAP `name`, brings its link up and, with `pcap`,
    /// records to that file.
    pub fn open(name: &str, pcap: Option<&str>) -> std::io::Result<TapDev> {
        let tap = TapDevice::open(name)?;
        tap.set_up()?;
        Ok(match pcap {
            Some(path) => TapDev::Recorded(PcapWriter::to_file(tap, path)?),
            None => TapDev::Plain(tap),
        })
    }

    /// The TAP device itself.
    pub fn tap(&self) -> &TapDevice {
        match self {
            TapDev::Plain(t) => t,
            TapDev::Recorded(p) => p.inner(),
        }
    }

    /// Writes buffered capture records out.
    pub fn flush(&mut self) {
        if let TapDev::Recorded(p) = self {
            let _ = p.flush();
        }
    }
}

impl Device for TapDev {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        match self {
            TapDev::Plain(t) => t.receive(now, buf),
            TapDev::Recorded(p) => p.receive(now, buf),
        }
    }
    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        match self {
            TapDev::Plain(t) => t.transmit(now, frame),
            TapDev::Recorded(p) => p.transmit(now, frame),
        }
    }
}

/// What [`run_loop`] needs of a host device besides [`Device`]: the TAP
/// to sleep on and a way to write out buffered capture records.
pub trait HostDevice: Device {
    /// The TAP device underneath.
    fn tap(&self) -> &TapDevice;
    /// Writes buffered capture records out.
    fn flush(&mut self);
}

impl HostDevice for TapDev {
    fn tap(&self) -> &TapDevice {
        TapDev::tap(self)
    }
    fn flush(&mut self) {
        TapDev::flush(self)
    }
}

/// A lossy (or duplicating, corrupting) link in front of a host device:
/// frames are dropped between the stack and the device, so a capture
/// inside shows what really went over the TAP.
impl<D: HostDevice> HostDevice for FaultInjector<D> {
    fn tap(&self) -> &TapDevice {
        self.inner().tap()
    }
    fn flush(&mut self) {
        self.inner_mut().flush()
    }
}

/// How many TCP sockets are in use (listeners, connections, and those
/// closed by the application but still finishing in the background, e.g.
/// in TIME-WAIT). Meant for diagnostics when an application stops: a slot
/// that never comes back shows up here.
pub fn tcp_sockets_in_use(stack: &mut Stack, _now: Instant) -> usize {
    wolfip_core::config::TCP_SOCKETS.saturating_sub(stack.tcp_free_slots())
}

/// Echoes every UDP datagram back to its sender.
pub struct UdpEcho {
    socket: UdpHandle,
    /// Datagrams echoed.
    pub echoed: u64,
    /// Datagrams that could not be queued back (send queue full).
    pub dropped: u64,
}

impl UdpEcho {
    /// Binds the echo socket on `port` of every local address.
    pub fn new(stack: &mut Stack, port: u16) -> Result<UdpEcho, String> {
        let socket = stack.udp_open().map_err(|e| format!("udp_open: {e:?}"))?;
        stack
            .udp_bind(socket, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
            .map_err(|e| format!("udp_bind {port}: {e:?}"))?;
        Ok(UdpEcho {
            socket,
            echoed: 0,
            dropped: 0,
        })
    }

    /// Echoes what has arrived. Returns whether anything was queued.
    pub fn run(&mut self, stack: &mut Stack, now: Instant) -> bool {
        let mut buf = [0u8; wolfip_core::config::UDP_RX_BUFFER];
        let mut queued = false;
        loop {
            match stack.udp_recv_from(self.socket, &mut buf) {
                Ok((n, meta)) => {
                    match stack.udp_send_to(self.socket, &buf[..n], Some(meta.from), now) {
                        Ok(_) => {
                            self.echoed += 1;
                            queued = true;
                        }
                        Err(_) => self.dropped += 1,
                    }
                }
                Err(UdpRecvError::WouldBlock) | Err(UdpRecvError::BadHandle) => return queued,
                // An ICMP error for an earlier echo: nothing to do.
                Err(UdpRecvError::Unreachable(_)) => {}
            }
        }
    }
}

/// Echoes every TCP connection on one port, several at once. Reads only as
/// much as the send buffer can take, so nothing is held in the app; when a
/// client closes its side, the rest is echoed and the connection closed
/// (FIN after the data).
pub struct TcpEcho {
    listener: TcpHandle,
    conns: Vec<TcpHandle>,
    /// Connections accepted so far.
    pub accepted: u64,
    /// Bytes echoed so far.
    pub bytes: u64,
}

impl TcpEcho {
    /// Listens on `port` of every local address with room for `backlog`
    /// pending connections.
    pub fn new(stack: &mut Stack, port: u16, backlog: usize) -> Result<TcpEcho, String> {
        let listener = stack.tcp_open().map_err(|e| format!("tcp_open: {e:?}"))?;
        stack
            .tcp_bind(listener, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
            .map_err(|e| format!("tcp_bind {port}: {e:?}"))?;
        stack
            .tcp_listen(listener, backlog)
            .map_err(|e| format!("tcp_listen: {e:?}"))?;
        Ok(TcpEcho {
            listener,
            conns: Vec::new(),
            accepted: 0,
            bytes: 0,
        })
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.conns.len()
    }

    /// Accepts, echoes, closes. Returns whether anything was queued.
    pub fn run(&mut self, stack: &mut Stack, now: Instant) -> bool {
        let mut progress = false;
        while let Ok((h, _peer)) = stack.tcp_accept(self.listener) {
            self.accepted += 1;
            self.conns.push(h);
            progress = true;
        }
        let mut buf = [0u8; 16384];
        self.conns.retain(|&h| {
            loop {
                let room = stack.tcp_send_room(h).min(buf.len());
                if room == 0 {
                    return true;
                }
                match stack.tcp_recv(h, &mut buf[..room]) {
                    Ok(0) => {
                        // The client closed its side: FIN after our echo.
                        stack.tcp_close(h, now);
                        progress = true;
                        return false;
                    }
                    Ok(n) => {
                        let sent = stack.tcp_send(h, &buf[..n]).unwrap_or(0);
                        debug_assert_eq!(sent, n, "room was checked");
                        self.bytes += n as u64;
                        progress = true;
                    }
                    Err(TcpRecvError::WouldBlock) => return true,
                    Err(_) => {
                        // Reset or timed out: let the slot go.
                        stack.tcp_close(h, now);
                        return false;
                    }
                }
            }
        });
        progress
    }
}

/// Builds a stack with one Ethernet interface at `ip` and, if given, a
/// default gateway.
pub fn make_stack(
    mac: EthernetAddress,
    ip: Ipv4Cidr,
    gateway: Option<Ipv4Addr>,
) -> Result<(Box<Stack>, IfaceId), String> {
    let mut stack = wolfip_tap::boxed_stack().map_err(|e| format!("building the stack: {e}"))?;
    let iface = stack
        .add_interface(IfaceConfig::ethernet(mac))
        .map_err(|e| format!("add_interface: {e:?}"))?;
    stack
        .set_ipv4(iface, Some(ip))
        .map_err(|e| format!("set_ipv4 {ip}: {e:?}"))?;
    if let Some(gw) = gateway {
        stack
            .set_default_gateway(gw)
            .map_err(|e| format!("gateway {gw}: {e:?}"))?;
    }
    Ok((stack, iface))
}

/// Runs the stack on `dev` until `stop` says so: poll, let `app` act, then
/// sleep in `poll(2)` on the TAP until a frame arrives or the stack's next
/// deadline (at most `max_sleep`, so `stop` is checked regularly).
pub fn run_loop(
    stack: &mut Stack,
    iface: IfaceId,
    dev: &mut impl HostDevice,
    clock: &Clock,
    mut app: impl FnMut(&mut Stack, Instant) -> bool,
    mut stop: impl FnMut() -> bool,
    max_sleep: StdDuration,
) {
    while !stop() {
        let now = clock.now();
        let mut next = stack.poll(now, iface, dev);
        if app(stack, now) {
            next = stack.poll(now, iface, dev);
        }
        dev.flush();
        let sleep = match next {
            Some(t) => clock.until(t).min(max_sleep),
            None => max_sleep,
        };
        if !sleep.is_zero() {
            let _ = dev.tap().wait_readable(Some(sleep));
        }
    }
    dev.flush();
}

/// Parses `--name value` pairs; `flags` lists the accepted names.
pub fn parse_args(
    args: impl Iterator<Item = String>,
    flags: &[&str],
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        if a == "-h" || a == "--help" {
            return Err(String::new());
        }
        if !flags.contains(&a.as_str()) {
            return Err(format!("unknown argument {a}"));
        }
        let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
        out.push((a, v));
    }
    Ok(out)
}

/// The value given for `name`, if any.
pub fn arg<'a>(args: &'a [(String, String)], name: &str) -> Option<&'a str> {
    args.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    let mut mac = [0u8; 6];
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("bad MAC address {s}"));
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16).map_err(|_| format!("bad MAC address {s}"))?;
    }
    Ok(EthernetAddress(mac))
}

/// 64-bit FNV-1a, fed piece by piece: enough to tell whether two byte
/// streams differ (not a cryptographic hash).
#[derive(Debug, Clone, Copy)]
pub struct Fnv(pub u64);

impl Fnv {
    /// The FNV-1a 64-bit offset basis.
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    /// Folds `data` in.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a stack with one Ethernet interface and no address (for a DHCP
/// client to configure).
pub fn make_unconfigured_stack(mac: EthernetAddress) -> Result<(Box<Stack>, IfaceId), String> {
    let mut stack = wolfip_tap::boxed_stack().map_err(|e| format!("building the stack: {e}"))?;
    let iface = stack
        .add_interface(IfaceConfig::ethernet(mac))
        .map_err(|e| format!("add_interface: {e:?}"))?;
    Ok((stack, iface))
}

/// [`parse_args`] that also accepts `switches`: names that take no value
/// (they come back with an empty value).
pub fn parse_args_with_switches(
    args: impl Iterator<Item = String>,
    flags: &[&str],
    switches: &[&str],
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        if a == "-h" || a == "--help" {
            return Err(String::new());
        }
        if switches.contains(&a.as_str()) {
            out.push((a, String::new()));
            continue;
        }
        if !flags.contains(&a.as_str()) {
            return Err(format!("unknown argument {a}"));
        }
        let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
        out.push((a, v));
    }
    Ok(out)
}

/// Whether `name` was given (a flag or a switch).
pub fn has_arg(args: &[(String, String)], name: &str) -> bool {
    args.iter().any(|(k, _)| k == name)
}

/// A stack duration in whole seconds, or with milliseconds when it has
/// any: `120 s`, `4.5 s`.
pub fn secs(d: wolfip_core::Duration) -> String {
    let ms = d.total_millis();
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{}.{:03} s", ms / 1000, ms % 1000)
    }
}

/// One line describing a DHCP lease: `198.51.100.123/24 from server
/// 198.51.100.1, router 198.51.100.1, DNS 198.51.100.1, lease 120 s (T1 60
/// s, T2 105 s)`.
pub fn describe_lease(l: &wolfip_core::dhcp::DhcpLease) -> String {
    let router = l
        .router
        .map_or_else(|| "none".to_owned(), |r| r.to_string());
    let dns: Vec<String> = l
        .dns_servers
        .iter()
        .flatten()
        .map(|d| d.to_string())
        .collect();
    let dns = if dns.is_empty() {
        "none".to_owned()
    } else {
        dns.join(" ")
    };
    let time = match l.lease_time {
        Some(t) => format!(
            "lease {} (T1 {}, T2 {})",
            secs(t),
            secs(l.renew_after),
            secs(l.rebind_after)
        ),
        None => "infinite lease".to_owned(),
    };
    format!(
        "{} from server {}, router {router}, DNS {dns}, {time}",
        l.address, l.server
    )
}

/// Runs the stack on `dev` until `f` (called after every poll) returns a
/// value, or `limit` (real time) passes: then `None`. Sleeps in `poll(2)`
/// on the TAP between turns (at most 20 ms).
pub fn drive_until<T>(
    stack: &mut Stack,
    iface: IfaceId,
    dev: &mut impl HostDevice,
    clock: &Clock,
    limit: StdDuration,
    mut f: impl FnMut(&mut Stack, Instant) -> Option<T>,
) -> Option<T> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let now = clock.now();
        stack.poll(now, iface, dev);
        let done = f(stack, now);
        let next = stack.poll(now, iface, dev);
        dev.flush();
        if done.is_some() {
            return done;
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        let sleep = next.map_or(StdDuration::from_millis(20), |t| {
            clock.until(t).min(StdDuration::from_millis(20))
        });
        if !sleep.is_zero() {
            let _ = dev.tap().wait_readable(Some(sleep));
        }
    }
}
