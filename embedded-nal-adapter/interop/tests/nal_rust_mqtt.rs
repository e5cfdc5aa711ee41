//! rust-mqtt 0.6 (an async MQTT 5 client on embedded-io-async 0.7) over a
//! connection from `embedded_nal_async::TcpConnect`, against mosquitto
//! 2.0: wolfip's `AsyncStack` over a TAP device, and the same scenario over
//! `std_embedded_nal_async::Stack` (the kernel's sockets) as the control.
//!
//! The scenario: connect, subscribe (QoS 1 at most), publish QoS 0, QoS 1
//! and a 16 KiB QoS 1 message and receive them back, receive a message
//! sent by `mosquitto_pub`, disconnect; then a second connection is
//! dropped without DISCONNECT, and the broker must see it closed (the
//! connection closes on drop).
//!
//! The futures run on a minimal executor (`common::block_on_timeout`):
//! the thread parks until the future's waker is called, so a future that
//! forgets to arrange a wake-up fails by timing out; every step is bounded.

mod common;

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::{Mosquitto, Polls};
use embedded_nal_async::TcpConnect;
use rust_mqtt::buffer::AllocBuffer;
use rust_mqtt::client::event::Event;
use rust_mqtt::client::options::{
    ConnectOptions, DisconnectOptions, PublicationOptions, SubscriptionOptions, TopicReference,
};
use rust_mqtt::client::Client;
use rust_mqtt::config::KeepAlive;
use rust_mqtt::types::{IdentifiedQoS, MqttString, TopicFilter, TopicName};
use rust_mqtt::Bytes;

/// Our stack's address on the TAP.
const OURS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
/// Linux's address on the TAP (where mosquitto listens).
const LINUX: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The topic of the scenario.
const TOPIC: &str = "wolfip/rust-mqtt/test";
/// The limit of one step (connect, one packet, ...).
const STEP: Duration = Duration::from_secs(10);
/// The client id of the first connection.
const CLIENT_ID: &str = "wolfip-rust-mqtt";
/// The client id of the connection dropped without DISCONNECT.
const DROPPED_ID: &str = "wolfip-rust-mqtt-dropped";

/// The size of the large message.
const LARGE: usize = 16 * 1024;

/// Runs `fut`, at most [`STEP`]; panics with `what` when the time is up.
fn step<F: std::future::Future>(name: &str, what: &str, polls: &mut Polls, fut: F) -> F::Output {
    let start = Instant::now();
    let out = common::block_on_timeout(fut, STEP, polls)
        .unwrap_or_else(|| panic!("[{name}] {what}: not done after {STEP:?} ({polls:?})"));
    let t = start.elapsed();
    if t > Duration::from_millis(500) {
        eprintln!("[{name}] {what}: {t:?}");
    }
    out
}

/// A payload whose bytes depend on their position (a shifted or lost
/// segment shows).
fn large_payload() -> Vec<u8> {
    (0..LARGE).map(|k| (k % 251) as u8).collect()
}

fn scenario<T>(name: &str, stack: &T, broker: &Mosquitto, ours: IpAddr)
where
    T: TcpConnect,
    T::Error: Debug,
{
    let total = Instant::now();
    let mut polls = Polls::default();

    // 1. TCP, then MQTT CONNECT.
    let conn = step(name, "TCP connect", &mut polls, stack.connect(broker.addr))
        .unwrap_or_else(|e| panic!("[{name}] TCP connect to {}: {e:?}", broker.addr));
    let mut buffer = AllocBuffer;
    let mut client = Client::<'_, '_, _, _, 1, 4, 4, 1, 4, 0, 0>::new(&mut buffer);
    let options = ConnectOptions::new()
        .clean_start()
        .keep_alive(KeepAlive::Seconds(std::num::NonZero::new(30).unwrap()));
    let id = MqttString::try_from(CLIENT_ID).unwrap();
    step(
        name,
        "MQTT connect",
        &mut polls,
        client.connect(conn, &options, Some(id)),
    )
    .unwrap_or_else(|e| panic!("[{name}] MQTT connect: {e:?}"));
    eprintln!("[{name}] connected in {:?}", total.elapsed());
    let seen = format!("New client connected from {ours}:");
    assert!(
        broker.log_text().contains(&seen),
        "[{name}] the broker did not see us connect from {ours}:\n{}",
        broker.log_text()
    );

    // 2. SUBSCRIBE, and its SUBACK.
    let filter = TopicFilter::new(MqttString::try_from(TOPIC).unwrap()).unwrap();
    step(
        name,
        "subscribe",
        &mut polls,
        client.subscribe(filter, &SubscriptionOptions::new().at_least_once()),
    )
    .unwrap_or_else(|e| panic!("[{name}] subscribe: {e:?}"));
    match step(name, "SUBACK", &mut polls, client.poll()) {
        Ok(Event::Suback(s)) => assert!(
            s.reason_code.is_success(),
            "[{name}] SUBACK: {:?}",
            s.reason_code
        ),
        other => panic!("[{name}] expected a SUBACK, got {other:?}"),
    }

    // 3. Our own messages back: QoS 0, QoS 1, a large QoS 1.
    let topic = TopicName::new(MqttString::try_from(TOPIC).unwrap()).unwrap();
    let large = large_payload();
    let messages: [(&str, Vec<u8>, bool); 3] = [
        ("QoS 0", b"QoS 0 from rust-mqtt".to_vec(), false),
        ("QoS 1", b"QoS 1 from rust-mqtt".to_vec(), true),
        ("16 KiB QoS 1", large.clone(), true),
    ];
    for (what, payload, qos1) in &messages {
        let start = Instant::now();
        let mut options = PublicationOptions::new(TopicReference::Name(topic.as_borrowed()));
        if *qos1 {
            options = options.at_least_once();
        }
        let pid = step(
            name,
            &format!("publish {what}"),
            &mut polls,
            client.publish(&options, Bytes::from(payload.as_slice())),
        )
        .unwrap_or_else(|e| panic!("[{name}] publish {what}: {e:?}"));
        assert_eq!(pid.is_some(), *qos1, "[{name}] packet identifier of {what}");
        let (mut acked, mut back) = (!*qos1, false);
        for _ in 0..8 {
            if acked && back {
                break;
            }
            match step(name, &format!("{what} back"), &mut polls, client.poll()) {
                Ok(Event::PublishAcknowledged(a)) if Some(a.packet_identifier) == pid => {
                    acked = true
                }
                Ok(Event::Publish(p)) => {
                    assert_eq!(
                        p.topic.name().map(|t| t.as_ref().as_str()),
                        Some(TOPIC),
                        "[{name}] topic"
                    );
                    assert!(
                        &*p.message == payload.as_slice(),
                        "[{name}] {what}: got {} bytes, not what we sent ({} bytes)",
                        p.message.len(),
                        payload.len()
                    );
                    let want_qos1 = matches!(p.identified_qos, IdentifiedQoS::AtLeastOnce(_));
                    assert_eq!(want_qos1, *qos1, "[{name}] {what}: {:?}", p.identified_qos);
                    back = true;
                }
                other => panic!("[{name}] {what}: unexpected {other:?}"),
            }
        }
        assert!(acked && back, "[{name}] {what}: acked {acked}, back {back}");
        eprintln!("[{name}] {what} round trip in {:?}", start.elapsed());
    }

    // 4. A message from mosquitto_pub (QoS 1 both ways: we acknowledge).
    let start = Instant::now();
    broker.publish("mosquitto-pub", TOPIC, "from mosquitto_pub", 1);
    match step(
        name,
        "message from mosquitto_pub",
        &mut polls,
        client.poll(),
    ) {
        Ok(Event::Publish(p)) => assert_eq!(&*p.message, b"from mosquitto_pub"),
        other => panic!("[{name}] expected the message of mosquitto_pub, got {other:?}"),
    }
    eprintln!(
        "[{name}] message from mosquitto_pub in {:?}",
        start.elapsed()
    );

    // 5. DISCONNECT.
    step(
        name,
        "disconnect",
        &mut polls,
        client.disconnect(&DisconnectOptions::new()),
    )
    .unwrap_or_else(|e| panic!("[{name}] disconnect: {e:?}"));
    drop(client);
    assert!(
        common::wait_log(
            &broker.log,
            &format!("Client {CLIENT_ID} disconnected."),
            STEP
        ),
        "[{name}] the broker did not see our DISCONNECT:\n{}",
        broker.log_text()
    );

    // 6. A connection dropped without DISCONNECT: the drop must close it
    //    (a FIN: mosquitto says "closed its connection").
    {
        let conn = step(
            name,
            "second TCP connect",
            &mut polls,
            stack.connect(broker.addr),
        )
        .unwrap_or_else(|e| panic!("[{name}] second TCP connect: {e:?}"));
        let mut buffer = AllocBuffer;
        let mut client = Client::<'_, '_, _, _, 1, 1, 1, 1, 4, 0, 0>::new(&mut buffer);
        let id = MqttString::try_from(DROPPED_ID).unwrap();
        step(
            name,
            "second MQTT connect",
            &mut polls,
            client.connect(conn, &ConnectOptions::new().clean_start(), Some(id)),
        )
        .unwrap_or_else(|e| panic!("[{name}] second MQTT connect: {e:?}"));
    }
    assert!(
        common::wait_log(
            &broker.log,
            &format!("Client {DROPPED_ID} closed its connection."),
            STEP
        ),
        "[{name}] the broker did not see the dropped connection closed:\n{}",
        broker.log_text()
    );
    eprintln!(
        "[{name}] scenario done in {:?} ({} polls, {} wakes)",
        total.elapsed(),
        polls.polls,
        polls.wakes
    );
}

#[test]
fn rust_mqtt_over_wolfip() {
    if !common::can_run(&["mosquitto", "mosquitto_pub"]) {
        return;
    }
    common::in_netns(|| {
        let _link = common::bring_up("rmqtt0", OURS, LINUX);
        let broker = Mosquitto::start("rust-mqtt-wolfip", SocketAddr::new(LINUX.into(), 1883));
        let stack = wolfip_nal::AsyncStack::hosted().expect("AsyncStack::hosted");
        scenario("wolfip", &stack, &broker, OURS.into());
    });
}

#[test]
fn rust_mqtt_over_kernel_control() {
    if !common::can_run(&["mosquitto", "mosquitto_pub"]) {
        return;
    }
    common::in_netns(|| {
        common::ip(&["link", "set", "lo", "up"]);
        let lo = Ipv4Addr::LOCALHOST;
        let broker = Mosquitto::start("rust-mqtt-kernel", SocketAddr::new(lo.into(), 1883));
        let stack = std_embedded_nal_async::Stack::default();
        scenario("kernel", &stack, &broker, lo.into());
    });
}
