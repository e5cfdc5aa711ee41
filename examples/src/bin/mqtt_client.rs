//! An MQTT client on wolfip: the hosted stack on a Linux TAP interface,
//! minimq 0.10 (an MQTT 5 client written for embedded-nal) over
//! `wolfip_nal::NalStack`, publishing a few messages to a broker and
//! exiting. A template for an application on the embedded-nal traits: the
//! MQTT part only sees `TcpClientStack` and `Dns`, so it runs unchanged on
//! any stack that implements them.
//!
//! ```text
//! mqtt_client --tap IFNAME --ip CIDR [--gateway IP] --broker ADDR[:PORT] [options]
//! mqtt_client --tap IFNAME --dhcp [--hostname NAME] --broker ADDR[:PORT] [options]
//! ```
//!
//! Exit status: 0 when every message was published (and, at QoS 1,
//! acknowledged by the broker), 1 on a network or MQTT failure or a
//! timeout, 2 on bad arguments.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use minimq::broker::{IpBroker, NamedBroker};
use minimq::embedded_nal::TcpClientStack;
use minimq::{Broker, ConfigBuilder, Minimq, Publication, QoS};
use std_embedded_time::StandardClock;
use wolfip_bsd::engine::{Engine, Port};
use wolfip_bsd::hosted::{self, Hosted};
use wolfip_bsd::Errno;
use wolfip_core::config::DHCP_HOSTNAME_LEN;
use wolfip_core::dhcp::{DhcpConfig, DhcpState};
use wolfip_core::{IfaceId, Ipv4Addr, Ipv4Cidr};
use wolfip_examples::{arg, describe_lease, has_arg, parse_args_with_switches};
use wolfip_nal::{NalStack, TcpSocket};

const USAGE: &str =
    "usage: mqtt_client --tap IFNAME --ip CIDR [--gateway IP] --broker ADDR[:PORT] [options]
       mqtt_client --tap IFNAME --dhcp [--hostname NAME] --broker ADDR[:PORT] [options]

Brings the wolfip stack up on the Linux TAP interface IFNAME (created if it
does not exist, which needs root or CAP_NET_ADMIN), connects to the MQTT
broker with minimq over wolfip's embedded-nal adapter, publishes COUNT
messages \"message K of COUNT\" on TOPIC, one every MS milliseconds, and
exits 0 once all were sent (and, at QoS 1, acknowledged).

  --ip CIDR           our address, e.g. 192.0.2.2/24
  --gateway IP        default route (for a broker outside the subnet)
  --dhcp              address, default route and DNS servers from DHCP
  --hostname NAME     hostname sent to the DHCP server (option 12)
  --dns IP            DNS server, asked before those from DHCP
  --broker ADDR[:PORT] the broker: an IPv4 address or a host name
                      (resolved by wolfip's DNS client), port 1883 by default
  --topic T           topic to publish on (default: wolfip/mqtt_client)
  --count N           how many messages (default: 10)
  --interval-ms MS    pause between two messages (default: 1000)
  --qos 0|1           quality of service (default: 1)
  --client-id ID      MQTT client identifier (default: wolfip-mqtt-client)
  --timeout-s S       give up after S seconds without reaching the broker
                      or without progress (default: 30)
  -h, --help          this text";

fn main() -> ExitCode {
    let args = match parse_args_with_switches(std::env::args().skip(1), &FLAGS, &["--dhcp"]) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_error(&e),
    };
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqtt_client: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage_error(e: &str) -> ExitCode {
    eprintln!("mqtt_client: {e}\n\n{USAGE}");
    ExitCode::from(2)
}

const FLAGS: [&str; 13] = [
    "--tap",
    "--ip",
    "--gateway",
    "--hostname",
    "--dns",
    "--broker",
    "--topic",
    "--count",
    "--interval-ms",
    "--qos",
    "--client-id",
    "--timeout-s",
    "--mac",
];

/// Where the address comes from.
enum Addressing {
    /// `--ip` (and `--gateway`).
    Static(Ipv4Cidr, Option<Ipv4Addr>),
    /// `--dhcp` (and `--hostname`).
    Dhcp(Option<String>),
}

/// The broker as given: an address, or a name to resolve.
enum BrokerArg {
    Addr(SocketAddr),
    Name(String, u16),
}

struct Options {
    tap: String,
    addressing: Addressing,
    dns: Option<Ipv4Addr>,
    broker: BrokerArg,
    topic: String,
    count: u32,
    interval: Duration,
    qos: QoS,
    client_id: String,
    timeout: Duration,
}

fn number<T: std::str::FromStr>(
    args: &[(String, String)],
    name: &str,
    default: T,
) -> Result<T, String> {
    match arg(args, name) {
        Some(v) => v.parse().map_err(|_| format!("bad {name} {v:?}")),
        None => Ok(default),
    }
}

impl Options {
    fn parse(args: &[(String, String)]) -> Result<Options, String> {
        if has_arg(args, "--mac") {
            return Err("--mac is not supported (the hosted stack picks a random MAC)".into());
        }
        let tap = arg(args, "--tap").ok_or("--tap is required")?.to_owned();
        let addressing = if has_arg(args, "--dhcp") {
            if has_arg(args, "--ip") || has_arg(args, "--gateway") {
                return Err("--dhcp excludes --ip and --gateway (the lease gives them)".into());
            }
            let hostname = match arg(args, "--hostname") {
                Some(h) if h.is_empty() || h.len() > DHCP_HOSTNAME_LEN => {
                    return Err(format!(
                        "bad --hostname {h:?} (1 to {DHCP_HOSTNAME_LEN} bytes)"
                    ))
                }
                h => h.map(str::to_owned),
            };
            Addressing::Dhcp(hostname)
        } else {
            if has_arg(args, "--hostname") {
                return Err("--hostname needs --dhcp".into());
            }
            let ip: Ipv4Cidr = arg(args, "--ip")
                .ok_or("--ip CIDR or --dhcp is required")?
                .parse()
                .map_err(|_| "--ip wants an address with a prefix, e.g. 192.0.2.2/24")?;
            let gateway = match arg(args, "--gateway") {
                Some(g) => Some(g.parse().map_err(|_| format!("bad --gateway {g:?}"))?),
                None => None,
            };
            Addressing::Static(ip, gateway)
        };
        let dns = match arg(args, "--dns") {
            Some(d) => Some(d.parse().map_err(|_| format!("bad --dns {d:?}"))?),
            None => None,
        };
        let broker = parse_broker(arg(args, "--broker").ok_or("--broker is required")?)?;
        let qos = match arg(args, "--qos").unwrap_or("1") {
            "0" => QoS::AtMostOnce,
            "1" => QoS::AtLeastOnce,
            q => return Err(format!("bad --qos {q:?} (0 or 1)")),
        };
        let timeout_s: u64 = number(args, "--timeout-s", 30)?;
        if timeout_s == 0 {
            return Err("--timeout-s must be at least 1".into());
        }
        Ok(Options {
            tap,
            addressing,
            dns,
            broker,
            topic: arg(args, "--topic")
                .unwrap_or("wolfip/mqtt_client")
                .to_owned(),
            count: number(args, "--count", 10)?,
            interval: Duration::from_millis(number(args, "--interval-ms", 1000)?),
            qos,
            client_id: arg(args, "--client-id")
                .unwrap_or("wolfip-mqtt-client")
                .to_owned(),
            timeout: Duration::from_secs(timeout_s),
        })
    }
}

/// `ADDR`, `ADDR:PORT`, `NAME` or `NAME:PORT`.
fn parse_broker(s: &str) -> Result<BrokerArg, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(BrokerArg::Addr(a));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(BrokerArg::Addr(SocketAddr::new(
            ip,
            minimq::MQTT_INSECURE_DEFAULT_PORT,
        )));
    }
    let (name, port) = match s.rsplit_once(':') {
        Some((n, p)) => (
            n,
            p.parse()
                .map_err(|_| format!("bad port in --broker {s:?}"))?,
        ),
        None => (s, minimq::MQTT_INSECURE_DEFAULT_PORT),
    };
    if name.is_empty() || port == 0 {
        return Err(format!("bad --broker {s:?}"));
    }
    Ok(BrokerArg::Name(name.to_owned(), port))
}

fn run(opts: &Options) -> Result<(), String> {
    let engine = hosted::init().map_err(|e| format!("starting the stack: {e}"))?;
    let iface = bring_up(engine, opts)?;
    if let Some(dns) = opts.dns {
        engine
            .call(|stack, _, _| stack.dns_set_servers(&[dns]).map_err(Errno::from))
            .map_err(|e| format!("--dns {dns}: {e}"))?;
    }
    let stack = NalStack::hosted().map_err(|e| format!("embedded-nal adapter: {e:?}"))?;
    let tcp = Tracked(stack);
    let result = match &opts.broker {
        BrokerArg::Addr(a) => {
            let mut broker = IpBroker::new(a.ip());
            broker.set_port(a.port());
            println!("mqtt_client: broker {a}");
            publish_all(tcp, broker, opts)
        }
        BrokerArg::Name(name, port) => {
            // minimq asks the resolver (here wolfip's DNS client, through
            // the adapter's embedded-nal `Dns`) until it has an address.
            let mut broker = NamedBroker::<NalStack<Hosted>, 253>::new(name, stack)
                .map_err(|e| format!("--broker: {e}"))?;
            broker.set_port(*port);
            println!("mqtt_client: broker {name} port {port} (resolved by DNS)");
            publish_all(tcp, broker, opts)
        }
    };
    // minimq 0.10 has no DISCONNECT and drops its socket without closing
    // it: close it here, so that the broker sees the connection end (a
    // FIN, sent at once) instead of waiting for the keep-alive to expire.
    let fd = MQTT_FD.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        let _ = engine.close(fd);
    }
    if let Addressing::Dhcp(_) = opts.addressing {
        // Give the lease back (the RELEASE leaves at once).
        let _ = engine.call(|stack, _, _| stack.dhcp_stop(iface).map_err(Errno::from));
    }
    result
}

/// The descriptor of the TCP socket minimq holds (-1: none).
static MQTT_FD: AtomicI32 = AtomicI32::new(-1);

/// [`NalStack`]'s TCP client side, remembering in [`MQTT_FD`] the socket
/// that is open, for `run` to close at the end. Everything else is the
/// adapter's.
#[derive(Clone, Copy)]
struct Tracked(NalStack<Hosted>);

impl TcpClientStack for Tracked {
    type TcpSocket = TcpSocket;
    type Error = wolfip_nal::Error;

    fn socket(&mut self) -> Result<TcpSocket, Self::Error> {
        let s = self.0.socket()?;
        MQTT_FD.store(s.fd(), Ordering::SeqCst);
        Ok(s)
    }

    fn connect(
        &mut self,
        socket: &mut TcpSocket,
        remote: SocketAddr,
    ) -> minimq::embedded_nal::nb::Result<(), Self::Error> {
        self.0.connect(socket, remote)
    }

    fn send(
        &mut self,
        socket: &mut TcpSocket,
        buffer: &[u8],
    ) -> minimq::embedded_nal::nb::Result<usize, Self::Error> {
        self.0.send(socket, buffer)
    }

    fn receive(
        &mut self,
        socket: &mut TcpSocket,
        buffer: &mut [u8],
    ) -> minimq::embedded_nal::nb::Result<usize, Self::Error> {
        self.0.receive(socket, buffer)
    }

    fn close(&mut self, socket: TcpSocket) -> Result<(), Self::Error> {
        let _ = MQTT_FD.compare_exchange(socket.fd(), -1, Ordering::SeqCst, Ordering::SeqCst);
        self.0.close(socket)
    }
}

/// Attaches the TAP and configures it; with DHCP, waits for the lease.
fn bring_up(engine: &'static Engine<Hosted>, opts: &Options) -> Result<IfaceId, String> {
    match &opts.addressing {
        Addressing::Static(cidr, gateway) => {
            let iface = hosted::tap_attach(&opts.tap, Some(*cidr), *gateway)
                .map_err(|e| format!("TAP {}: {e}", opts.tap))?;
            println!(
                "mqtt_client: our address {} on {}",
                cidr.address(),
                opts.tap
            );
            Ok(iface)
        }
        Addressing::Dhcp(hostname) => {
            let iface = hosted::tap_attach(&opts.tap, None, None)
                .map_err(|e| format!("TAP {}: {e}", opts.tap))?;
            let cfg = DhcpConfig {
                hostname: hostname.as_deref(),
                ..DhcpConfig::default()
            };
            engine
                .call(|stack, _, _| stack.dhcp_start(iface, &cfg).map_err(Errno::from))
                .map_err(|e| format!("DHCP: {e}"))?;
            println!("mqtt_client: asking for a DHCP lease on {}", opts.tap);
            let deadline = engine.port().now()
                + wolfip_core::Duration::from_millis(opts.timeout.as_millis() as u64);
            // Sleeps on the stack's condition variable; woken by every
            // turn of the service thread (a DHCP answer among them).
            let lease = engine
                .wait_until(Some(deadline), |stack, _, _| {
                    match stack.dhcp_lease(iface) {
                        Some(l) => Some(Ok(l)),
                        None if stack.dhcp_state(iface) == DhcpState::Stopped => Some(Err(())),
                        None => None,
                    }
                })
                .ok_or_else(|| format!("no DHCP lease within {:?}", opts.timeout))?
                .map_err(|()| "the DHCP client stopped".to_owned())?;
            println!("mqtt_client: DHCP lease {}", describe_lease(&lease));
            println!(
                "mqtt_client: our address {} on {}",
                lease.address.address(),
                opts.tap
            );
            Ok(iface)
        }
    }
}

/// The MQTT part: connects, publishes `opts.count` messages, waits for
/// their acknowledgements. Generic over the stack: it uses nothing of
/// wolfip but the embedded-nal traits.
fn publish_all<S, B>(stack: S, broker: B, opts: &Options) -> Result<(), String>
where
    S: TcpClientStack,
    <S as TcpClientStack>::Error: core::fmt::Debug,
    B: Broker,
{
    // Receive and transmit buffers, and the session state that keeps QoS
    // 1 messages until they are acknowledged.
    let mut buffer = [0u8; 2048];
    let config = ConfigBuilder::new(broker, &mut buffer)
        .client_id(&opts.client_id)
        .map_err(|e| format!("--client-id: {e:?}"))?
        .keepalive_interval(30);
    let mut mqtt: Minimq<'_, S, StandardClock, B> =
        Minimq::new(stack, StandardClock::default(), config);

    let start = Instant::now();
    let mut progress = Instant::now();
    let mut connected_once = false;
    let mut sent = 0u32;
    let mut next_send = Instant::now();
    loop {
        // minimq is poll-based: poll often, it connects, reconnects,
        // sends pings and handles acknowledgements from here.
        match mqtt.poll(|_, topic, payload, _| {
            println!(
                "mqtt_client: received on {topic}: {}",
                String::from_utf8_lossy(payload)
            );
        }) {
            Ok(_) => {}
            // A new connection without our old session (a broker
            // restart): minimq starts a new session by itself.
            Err(minimq::Error::SessionReset) => {
                println!("mqtt_client: session reset by the broker")
            }
            Err(minimq::Error::Network(e)) => {
                // Refused or reset connections: minimq retries on the next
                // poll; the timeout below bounds the retries.
                eprintln!("mqtt_client: network error {e:?}, retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(format!("MQTT: {e:?}")),
        }
        let client = mqtt.client();
        if client.is_connected() && !connected_once {
            connected_once = true;
            progress = Instant::now();
            println!(
                "mqtt_client: connected in {} ms",
                start.elapsed().as_millis()
            );
        }
        if client.is_connected()
            && sent < opts.count
            && Instant::now() >= next_send
            && client.can_publish(opts.qos)
        {
            let payload = format!("message {} of {} from wolfip", sent + 1, opts.count);
            match client.publish(Publication::new(&opts.topic, payload.as_bytes()).qos(opts.qos)) {
                Ok(()) => {
                    sent += 1;
                    progress = Instant::now();
                    next_send = Instant::now() + opts.interval;
                    println!("mqtt_client: published {payload:?} on {}", opts.topic);
                }
                // Not connected any more, or no room: try again later.
                Err(minimq::PubError::Error(minimq::Error::NotReady)) => {}
                Err(e) => return Err(format!("publish: {e:?}")),
            }
        }
        if sent == opts.count && client.is_connected() && !client.pending_messages() {
            println!(
                "mqtt_client: {} message(s) published{} in {} ms",
                sent,
                if opts.qos == QoS::AtLeastOnce {
                    " and acknowledged"
                } else {
                    ""
                },
                start.elapsed().as_millis()
            );
            let _ = std::io::stdout().flush();
            return Ok(());
        }
        // Bounded: no connection, no acknowledgement, no room to publish
        // for `timeout` (the pause between two messages not counted).
        if Instant::now().saturating_duration_since(progress.max(next_send)) > opts.timeout {
            return Err(if connected_once {
                format!(
                    "no progress for {:?} ({sent} of {} published)",
                    opts.timeout, opts.count
                )
            } else {
                format!("could not reach the broker within {:?}", opts.timeout)
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
