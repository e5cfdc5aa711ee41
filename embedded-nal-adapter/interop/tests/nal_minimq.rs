//! minimq 0.10 (an MQTT 5 client on embedded-nal 0.9's `TcpClientStack`)
//! against mosquitto 2.0, through wolfip's `NalStack` over a TAP device,
//! and the same scenario through `std_embedded_nal::Stack` over the
//! kernel's sockets (the control: when only ours fails, the stack is at
//! fault, when both fail, the set-up).
//!
//! The scenario, in one test function per stack: connect, subscribe (QoS
//! 1 at most), publish QoS 0 and QoS 1 and receive both back, receive a
//! message sent by `mosquitto_pub`; then the broker is killed and started
//! again (it keeps no sessions) and minimq must reconnect by itself — its
//! `poll` reports `Error::SessionReset` — and work again; finally the
//! broker is killed while minimq keeps polling (its connects are refused
//! meanwhile) and started again, and minimq must reconnect once more.
//!
//! A third test runs the `mqtt_client` example binary (wolfip-examples)
//! against mosquitto and checks what `mosquitto_sub` received.
//!
//! minimq is poll-based by design: every loop polls with a short sleep in
//! between, bounded in time and in number of turns.

mod common;

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ChildGuard, Mosquitto};
use minimq::embedded_nal::TcpClientStack;
use minimq::types::{SubscriptionOptions, TopicFilter};
use minimq::{broker::IpBroker, ConfigBuilder, Minimq, Publication, QoS};
use std_embedded_time::StandardClock;

/// Our stack's address on the TAP.
const OURS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
/// Linux's address on the TAP (where mosquitto listens).
const LINUX: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The topic of the scenario.
const TOPIC: &str = "wolfip/minimq/test";
/// The sleep between two polls.
const POLL_SLEEP: Duration = Duration::from_millis(5);
/// The limit of one step of the scenario (connect, one message, ...).
const STEP_LIMIT: Duration = Duration::from_secs(10);
/// The limit of a reconnection after the broker came back.
const RECONNECT_LIMIT: Duration = Duration::from_secs(30);

type Received = (String, Vec<u8>);

/// A minimq client and what its polls reported.
struct Client<'buf, S: TcpClientStack> {
    name: &'static str,
    mqtt: Minimq<'buf, S, StandardClock, IpBroker>,
    /// Messages received on subscribed topics, in order.
    received: Vec<Received>,
    /// `Error::SessionReset`s reported by `poll`.
    resets: u32,
    /// Network errors reported by `poll` (tolerated only while the broker
    /// is away).
    net_errors: Vec<String>,
}

impl<'buf, S> Client<'buf, S>
where
    S: TcpClientStack,
    S::Error: Debug,
{
    fn new(name: &'static str, stack: S, broker: SocketAddr, buffer: &'buf mut [u8]) -> Self {
        let mut ip_broker = IpBroker::new(broker.ip());
        minimq::Broker::set_port(&mut ip_broker, broker.port());
        let config = ConfigBuilder::new(ip_broker, buffer)
            .client_id("wolfip-minimq")
            .expect("client id")
            // A ping every second: a dead connection that reads as
            // silence (the kernel's sockets read EOF as Ok(0)) is found by
            // the ping's timeout.
            .keepalive_interval(2);
        Client {
            name,
            mqtt: Minimq::new(stack, StandardClock::default(), config),
            received: Vec::new(),
            resets: 0,
            net_errors: Vec::new(),
        }
    }

    /// Polls until `done` holds, at most `limit` (and a matching number of
    /// turns). Network errors are tolerated when `away` (the broker is
    /// down or coming back), fatal otherwise; `SessionReset` is counted.
    fn poll_until(
        &mut self,
        what: &str,
        limit: Duration,
        away: bool,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Duration {
        let start = Instant::now();
        let max_turns = limit.as_millis() / POLL_SLEEP.as_millis() + 100;
        for _ in 0..max_turns {
            // Drain: poll returns one message at a time.
            for _ in 0..64 {
                match self
                    .mqtt
                    .poll(|_, topic, payload, _| (topic.to_owned(), payload.to_vec()))
                {
                    Ok(Some(m)) => self.received.push(m),
                    Ok(None) => break,
                    Err(minimq::Error::SessionReset) => {
                        self.resets += 1;
                        eprintln!(
                            "[{}] poll: SessionReset (reconnected, session lost) after {:?}",
                            self.name,
                            start.elapsed()
                        );
                    }
                    Err(minimq::Error::Network(e)) if away => {
                        if self.net_errors.len() < 1000 {
                            self.net_errors.push(format!("{e:?}"));
                        }
                        break;
                    }
                    Err(e) => panic!("[{}] {what}: poll failed: {e:?}", self.name),
                }
            }
            if done(self) {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                break;
            }
            std::thread::sleep(POLL_SLEEP);
        }
        panic!(
            "[{}] {what}: not done after {limit:?} (connected: {}, received: {:?}, resets: {}, \
             network errors: {:?})",
            self.name,
            self.mqtt.client().is_connected(),
            self.received,
            self.resets,
            self.net_errors.iter().rev().take(5).collect::<Vec<_>>()
        );
    }

    fn connected(&mut self) -> bool {
        self.mqtt.client().is_connected()
    }

    fn has(&self, payload: &str) -> bool {
        self.received
            .iter()
            .any(|(t, p)| t == TOPIC && p == payload.as_bytes())
    }

    fn subscribe(&mut self) -> Duration {
        let filter = TopicFilter::new(TOPIC)
            .options(SubscriptionOptions::default().maximum_qos(QoS::AtLeastOnce));
        self.mqtt
            .client()
            .subscribe(&[filter], &[])
            .unwrap_or_else(|e| panic!("[{}] subscribe: {e:?}", self.name));
        self.poll_until("SUBACK", STEP_LIMIT, false, |c| {
            !c.mqtt.client().subscriptions_pending()
        })
    }

    /// Publishes `payload` on [`TOPIC`] at `qos` and waits until it comes
    /// back (and, for QoS 1, until the broker acknowledged it).
    fn publish_and_receive(&mut self, payload: &str, qos: QoS) -> Duration {
        let start = Instant::now();
        self.poll_until("room to publish", STEP_LIMIT, false, |c| {
            c.mqtt.client().can_publish(qos)
        });
        self.mqtt
            .client()
            .publish(Publication::new(TOPIC, payload.as_bytes()).qos(qos))
            .unwrap_or_else(|e| panic!("[{}] publish {payload:?}: {e:?}", self.name));
        self.poll_until(&format!("{payload:?} back"), STEP_LIMIT, false, |c| {
            c.has(payload) && !c.mqtt.client().pending_messages()
        });
        start.elapsed()
    }

    /// One round: subscribe, QoS 0 and QoS 1 round trips, a message from
    /// `mosquitto_pub`.
    fn round(&mut self, round: u32, broker: &Mosquitto) {
        let t = self.subscribe();
        eprintln!("[{}] round {round}: subscribed in {t:?}", self.name);
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
            let payload = format!("{qos:?} from minimq, round {round}");
            let t = self.publish_and_receive(&payload, qos);
            eprintln!("[{}] round {round}: {qos:?} round trip in {t:?}", self.name);
        }
        let payload = format!("from mosquitto_pub, round {round}");
        let start = Instant::now();
        broker.publish("mosquitto-pub", TOPIC, &payload, 1);
        self.poll_until(&format!("{payload:?}"), STEP_LIMIT, false, |c| {
            c.has(&payload)
        });
        eprintln!(
            "[{}] round {round}: message from mosquitto_pub in {:?}",
            self.name,
            start.elapsed()
        );
    }
}

/// The whole scenario over `stack`, against `broker`; `ours` is the
/// address the broker must see our connections come from.
fn scenario<S>(name: &'static str, stack: S, broker: &mut Mosquitto, ours: IpAddr)
where
    S: TcpClientStack,
    S::Error: Debug,
{
    let total = Instant::now();
    let mut buffer = vec![0u8; 4096];
    let mut client = Client::new(name, stack, broker.addr, &mut buffer);

    // 1. Connect, and the first round.
    let t = client.poll_until("connect", STEP_LIMIT, false, |c| c.connected());
    eprintln!("[{name}] connected in {t:?}");
    let seen = format!("New client connected from {ours}:");
    assert!(
        broker.log_text().contains(&seen),
        "[{name}] the broker did not see us connect from {ours}:\n{}",
        broker.log_text()
    );
    client.round(1, broker);
    assert_eq!(
        client.resets, 0,
        "[{name}] a session reset before any restart"
    );

    // 2. The broker dies and comes back before minimq polls again: the
    //    connection is gone (FIN from the dead broker's kernel side), the
    //    new broker has no session for us.
    let start = Instant::now();
    broker.kill();
    broker.restart();
    let down = start.elapsed();
    let t = client.poll_until("reconnect after a restart", RECONNECT_LIMIT, true, |c| {
        c.resets >= 1 && c.connected()
    });
    eprintln!(
        "[{name}] broker restarted in {down:?}; minimq reconnected (SessionReset) {t:?} later \
         ({} network errors meanwhile)",
        client.net_errors.len()
    );
    client.round(2, broker);

    // 3. The broker dies while minimq keeps polling: its connects are
    //    refused for a while, then the broker comes back.
    client.net_errors.clear();
    broker.kill();
    client.poll_until("notice the dead broker", RECONNECT_LIMIT, true, |c| {
        !c.connected()
    });
    let refused_from = Instant::now();
    client.poll_until(
        "retry while the broker is away",
        Duration::from_secs(2),
        true,
        |_| refused_from.elapsed() > Duration::from_secs(1),
    );
    let refusals = client.net_errors.len();
    broker.restart();
    let t = client.poll_until("reconnect after an outage", RECONNECT_LIMIT, true, |c| {
        c.resets >= 2 && c.connected()
    });
    eprintln!(
        "[{name}] outage: {refusals} network errors while away (last: {:?}); reconnected {t:?} \
         after the broker came back",
        client.net_errors.get(refusals.saturating_sub(1))
    );
    client.round(3, broker);

    let connects = broker.log_text().matches(&seen).count();
    assert!(
        connects >= 3,
        "[{name}] the broker saw {connects} connections from {ours}, expected 3:\n{}",
        broker.log_text()
    );
    eprintln!("[{name}] scenario done in {:?}", total.elapsed());
}

#[test]
fn minimq_over_wolfip() {
    if !common::can_run(&["mosquitto", "mosquitto_pub"]) {
        return;
    }
    common::in_netns(|| {
        let _link = common::bring_up("mqtt0", OURS, LINUX);
        let mut broker = Mosquitto::start("minimq-wolfip", SocketAddr::new(LINUX.into(), 1883));
        let stack = wolfip_nal::NalStack::hosted().expect("NalStack::hosted");
        scenario("wolfip", stack, &mut broker, OURS.into());
    });
}

#[test]
fn minimq_over_kernel_control() {
    if !common::can_run(&["mosquitto", "mosquitto_pub"]) {
        return;
    }
    common::in_netns(|| {
        common::ip(&["link", "set", "lo", "up"]);
        let lo = Ipv4Addr::LOCALHOST;
        let mut broker = Mosquitto::start("minimq-kernel", SocketAddr::new(lo.into(), 1883));
        scenario("kernel", std_embedded_nal::Stack, &mut broker, lo.into());
    });
}

/// The `mqtt_client` example (built first when missing or stale) on a TAP
/// of its own, with a static address and the broker's address, then with
/// DHCP and the broker's name (resolved through the leased DNS server):
/// `mosquitto_sub` must receive every message it publishes.
#[test]
fn mqtt_client_example() {
    if !common::can_run(&["mosquitto", "mosquitto_sub"]) {
        return;
    }
    let bin = match common::workspace_binary("wolfip-examples", "mqtt_client") {
        Ok(bin) => bin,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let mut cmd = Command::new(&bin);
    cmd.arg("--help");
    let (status, text) = common::run_captured(cmd, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()) && text.contains("--broker") && text.contains("--dhcp"),
        "mqtt_client --help ({status:?}): {text}"
    );
    let dhcp = std::path::Path::new("/usr/sbin/dnsmasq").exists();
    common::in_netns(move || {
        example_run(&bin, false);
        if dhcp {
            example_run(&bin, true);
        } else {
            eprintln!("skipped the --dhcp run: needs /usr/sbin/dnsmasq");
        }
    });
}

/// The broker's name in dnsmasq's host list (the `--dhcp` run).
const BROKER_NAME: &str = "broker.wolfip.test";

/// One run of the example: static address and the broker's address, or
/// DHCP (and DNS) from dnsmasq and the broker's name.
fn example_run(bin: &std::path::Path, dhcp: bool) {
    // Static: 198.51.100.0/24; DHCP: 203.0.113.0/24 (another TAP).
    let (tap, net) = if dhcp {
        ("mqttd0", [203, 0, 113])
    } else {
        ("mqtts0", [198, 51, 100])
    };
    let linux = Ipv4Addr::new(net[0], net[1], net[2], 1);
    let ours = Ipv4Addr::new(net[0], net[1], net[2], 2);
    // The TAP exists (with Linux's address) before the example opens it,
    // so that mosquitto can listen on that address.
    common::ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
    common::ip(&["addr", "add", &format!("{linux}/24"), "dev", tap]);
    common::ip(&["link", "set", tap, "up"]);
    let name = if dhcp { "example-dhcp" } else { "example" };
    let broker = Mosquitto::start(name, SocketAddr::new(linux.into(), 1883));
    let dnsmasq_log = common::temp_path("example-dnsmasq", "log");
    let _dnsmasq = dhcp.then(|| {
        let log = &dnsmasq_log;
        let leases = common::temp_path("example-dnsmasq", "leases");
        let pid = common::temp_path("example-dnsmasq", "pid");
        let hosts = common::temp_path("example-dnsmasq", "hosts");
        std::fs::write(&hosts, format!("{linux} {BROKER_NAME}\n")).expect("hosts file");
        let mut cmd = Command::new("/usr/sbin/dnsmasq");
        cmd.args(["--no-daemon", "--conf-file=/dev/null", "--bind-interfaces"])
            .arg(format!("--interface={tap}"))
            .arg("--except-interface=lo")
            .arg(format!(
                "--dhcp-range={0}.100,{0}.150,255.255.255.0,2m",
                format_args!("{}.{}.{}", net[0], net[1], net[2])
            ))
            .arg(format!("--dhcp-option=option:router,{linux}"))
            // DNS too: the lease names dnsmasq as DNS server, which knows
            // the broker's name from its host list only.
            .arg(format!("--dhcp-option=option:dns-server,{linux}"))
            .args(["--no-resolv", "--no-hosts", "--local=/test/"])
            .arg(format!("--addn-hosts={}", hosts.display()))
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .arg(format!("--pid-file={}", pid.display()))
            .args(["--no-ping", "--log-dhcp", "--log-facility=-"]);
        ChildGuard::spawn(cmd, log)
    });

    let count = 5;
    let topic = format!("wolfip/example/{name}");
    let out = common::temp_path(&format!("{name}-sub"), "out");
    let mut sub = broker.subscriber(&format!("{name}-sub"), &topic, count, 30, &out);

    let start = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.args(["--tap", tap]);
    if dhcp {
        cmd.arg("--dhcp");
    } else {
        cmd.args(["--ip", &format!("{ours}/24")]);
    }
    // With DHCP the broker is named, resolved through the leased DNS server.
    let broker_arg = if dhcp {
        BROKER_NAME.to_owned()
    } else {
        linux.to_string()
    };
    cmd.args(["--broker", &broker_arg])
        .args(["--topic", &topic])
        .args(["--count", &count.to_string()])
        .args(["--interval-ms", "50"]);
    let (status, stdout) = common::run_captured(cmd, Duration::from_secs(60));
    let took = start.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "mqtt_client ({name}) failed ({status:?}):\n{stdout}\nbroker:\n{}",
        broker.log_text()
    );
    let status = common::wait_timeout(sub.child(), Duration::from_secs(20));
    let got = common::read_log(&out);
    assert!(
        status.is_some_and(|s| s.success()),
        "mosquitto_sub ({name}) did not get {count} messages: {got:?}\nmqtt_client:\n{stdout}\
         \nbroker:\n{}",
        broker.log_text()
    );
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), count, "{got:?}");
    for (k, line) in lines.iter().enumerate() {
        let want = format!("{topic} message {} of {count}", k + 1);
        assert!(
            line.starts_with(&want),
            "line {k}: {line:?}, expected {want:?}…"
        );
    }
    // The address the example reports (static, or from the lease), and
    // the broker saw it connect from there.
    let addr = stdout
        .lines()
        .find_map(|l| l.strip_prefix("mqtt_client: our address "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("mqtt_client did not print its address:\n{stdout}"));
    if dhcp {
        assert!(
            addr.starts_with(&format!("{}.{}.{}.1", net[0], net[1], net[2])) && addr.len() > 11,
            "leased address {addr} outside the pool"
        );
    } else {
        assert_eq!(addr, ours.to_string());
    }
    let from = format!("New client connected from {addr}:");
    assert!(
        broker.log_text().contains(&from),
        "no connection from our address:\n{}",
        broker.log_text()
    );
    // The example closes its connection before exiting (a FIN).
    assert!(
        common::wait_log(
            &broker.log,
            "Client wolfip-mqtt-client closed its connection.",
            Duration::from_secs(5)
        ),
        "the broker did not see the example's connection closed:\n{}",
        broker.log_text()
    );
    if dhcp {
        // The example gives its lease back at exit.
        assert!(
            common::wait_log(&dnsmasq_log, "DHCPRELEASE", Duration::from_secs(5)),
            "no DHCPRELEASE from the example:\n{}",
            common::read_log(&dnsmasq_log)
        );
    }
    eprintln!("[{name}] mqtt_client published {count} messages and exited in {took:?}:\n{stdout}");
}
