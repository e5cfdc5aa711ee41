//! embedded-nal-minimal-coapserver 0.5 (a CoAP server on embedded-nal's
//! `UdpFullStack`) served over our `NalStack`, with libcoap's
//! `coap-client-notls` as the client on the Linux side of the TAP.
//!
//! The server has three resources, built with coap-handler-implementations
//! 0.6: `/hello` (a short text), `/big` (a text of 2500 bytes: the client
//! fetches it block-wise, Block2, in several exchanges) and `/echo` (a
//! hand-written handler returning the payload of a POST or PUT with 2.04).
//! It is polled in a bounded loop on a thread of its own; the client runs
//! GET, POST, PUT, a 4.04 and a 4.05, and the test checks what the client
//! printed and how many requests the server handled.
//!
//! `coap_control_std_embedded_nal` runs the same server over the kernel's
//! sockets (std-embedded-nal) on 127.0.0.1 in a namespace of its own, so a
//! failure only on our stack is the stack's.
//!
//! Port 5683, the default: on another port the client adds an Uri-Port
//! option, which the server rejects with 4.02.

mod common;

use std::fmt::Debug;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use coap_handler::Handler;
use coap_handler_implementations::{new_dispatcher, HandlerBuilder, SimpleRendered};
use coap_message::{
    Code as _, MessageOption as _, MinimalWritableMessage, MutableWritableMessage, ReadableMessage,
};
use coap_numbers::code::{CHANGED, POST, PUT};
use coap_numbers::option::{get_criticality, Criticality};
use embedded_nal::{nb, UdpFullStack};
use wolfip_core::Ipv4Addr;

const CLIENT: &str = "coap-client-notls";
const PORT: u16 = 5683;
const HELLO: &str = "Hello from a CoAP server on embedded-nal";
/// How long the server loop runs at most.
const SERVE_LIMIT: Duration = Duration::from_secs(60);
/// How long one client run may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(15);

/// The text of `/big`: 2500 bytes, numbered lines, so that a lost or
/// repeated block shows.
fn big_text() -> &'static str {
    static BIG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIG.get_or_init(|| {
        let mut s = String::new();
        let mut n = 0;
        while s.len() < 2500 {
            s.push_str(&format!("line {n:04} of the big resource\n"));
            n += 1;
        }
        s.truncate(2500);
        s
    })
}

/// `/echo`: answers a POST or PUT with 2.04 Changed and the request's
/// payload; other methods get 4.05, unknown critical options 4.02.
struct Echo;

impl Handler for Echo {
    type RequestData = Vec<u8>;
    type ExtractRequestError = coap_handler_implementations::Error;
    type BuildResponseError<M: MinimalWritableMessage> = M::UnionError;

    fn extract_request_data<M: ReadableMessage>(
        &mut self,
        request: &M,
    ) -> Result<Vec<u8>, Self::ExtractRequestError> {
        for o in request.options() {
            if get_criticality(o.number()) == Criticality::Critical {
                return Err(coap_handler_implementations::Error::bad_option(o.number()));
            }
        }
        let code: u8 = request.code().into();
        match code {
            POST | PUT => Ok(request.payload().to_vec()),
            _ => Err(coap_handler_implementations::Error::method_not_allowed()),
        }
    }

    fn estimate_length(&mut self, request: &Vec<u8>) -> usize {
        request.len() + 8
    }

    fn build_response<M: MutableWritableMessage>(
        &mut self,
        response: &mut M,
        request: Vec<u8>,
    ) -> Result<(), M::UnionError> {
        response.set_code(M::Code::new(CHANGED).map_err(M::convert_code_error)?);
        response
            .set_payload(&request)
            .map_err(M::convert_set_payload_error)?;
        Ok(())
    }
}

fn handler() -> impl Handler {
    new_dispatcher()
        .at(&["hello"], SimpleRendered(HELLO))
        .at(&["big"], SimpleRendered(big_text()))
        .at(&["echo"], Echo)
}

/// Binds port 5683 on `stack`, says so on `ready`, and polls the server
/// until `stop` is set or [`SERVE_LIMIT`] passed; returns how many
/// messages it processed.
fn serve<ST>(mut stack: ST, ready: mpsc::Sender<()>, stop: &AtomicBool) -> usize
where
    ST: UdpFullStack,
    ST::Error: Debug,
{
    let mut socket = stack.socket().expect("udp socket");
    stack.bind(&mut socket, PORT).expect("bind 5683");
    let _ = ready.send(());
    let mut h = handler();
    let deadline = Instant::now() + SERVE_LIMIT;
    let mut handled = 0;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match embedded_nal_minimal_coapserver::poll(&mut stack, &mut socket, &mut h) {
            Ok(()) => handled += 1,
            Err(nb::Error::WouldBlock) => thread::sleep(Duration::from_millis(1)),
            Err(nb::Error::Other(e)) => panic!("coap server poll: {e:?}"),
        }
    }
    stack.close(socket).expect("close");
    handled
}

/// A running server thread.
struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<usize>>,
}

impl Server {
    /// Starts [`serve`] over the stack `make` builds (on the server
    /// thread, in the caller's namespace) and waits until it is bound.
    fn start<ST>(make: impl FnOnce() -> ST + Send + 'static) -> Server
    where
        ST: UdpFullStack,
        ST::Error: Debug,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let s = stop.clone();
        let thread = thread::spawn(move || serve(make(), tx, &s));
        rx.recv_timeout(Duration::from_secs(10))
            .expect("coap server not bound within 10 s");
        Server {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the loop; returns how many messages it processed.
    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take().expect("running").join() {
            Ok(n) => n,
            Err(e) => std::panic::resume_unwind(e),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Runs `coap-client-notls ARGS` (at most [`CLIENT_LIMIT`]); returns its
/// exit success, stdout and stderr.
fn client(args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(CLIENT);
    // -B: give up on a request after 5 s (the default is 90).
    cmd.args(["-B", "5"]).args(args);
    let t = Instant::now();
    let out = common::run(cmd, CLIENT_LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!(
        "{CLIENT} {} -> {:?} in {:?}; stdout {:?}; stderr {:?}",
        args.join(" ").chars().take(80).collect::<String>(),
        out.status,
        t.elapsed(),
        stdout.chars().take(60).collect::<String>(),
        stderr.trim()
    );
    (out.status.success(), stdout, stderr)
}

/// The exchanges every variant runs against the server at `host`; returns
/// the number of requests sent (the server must have processed at least
/// as many).
fn exchanges(host: &str) -> usize {
    let base = format!("coap://{host}");
    let mut requests = 0;

    // GET /hello, several times (a new client socket each time).
    for i in 0..3 {
        let (ok, out, err) = client(&["-m", "get", &format!("{base}/hello")]);
        requests += 1;
        assert!(ok, "GET /hello #{i} failed: {out} {err}");
        assert_eq!(out.trim_end(), HELLO, "GET /hello #{i}");
    }

    // POST and PUT /echo: the payload comes back (2.04).
    let (ok, out, err) = client(&["-m", "post", "-e", "ping-4711", &format!("{base}/echo")]);
    requests += 1;
    assert!(ok, "POST /echo failed: {out} {err}");
    assert_eq!(out.trim_end(), "ping-4711", "POST /echo");

    let long: String = (0..700).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let (ok, out, err) = client(&["-m", "put", "-e", &long, &format!("{base}/echo")]);
    requests += 1;
    assert!(ok, "PUT /echo failed: {out} {err}");
    assert_eq!(out.trim_end(), long, "PUT /echo (700 bytes)");

    // GET /big: Block2 in 256-byte blocks, 10 exchanges.
    let (ok, out, err) = client(&["-m", "get", "-b", "256", &format!("{base}/big")]);
    requests += 10;
    assert!(ok, "GET /big failed: {err}");
    // The client ends what it prints with a newline; the text has none.
    let out = out.strip_suffix('\n').unwrap_or(&out);
    assert_eq!(out.len(), big_text().len(), "GET /big: length");
    assert_eq!(out, big_text(), "GET /big: content");

    // Errors: 4.04 for an unknown path, 4.05 for GET on /echo. The client
    // prints the code of an error response on stderr.
    let (_, out, err) = client(&["-m", "get", &format!("{base}/nothing")]);
    requests += 1;
    assert!(
        format!("{out}{err}").contains("4.04"),
        "GET /nothing: no 4.04 in {out:?} {err:?}"
    );
    let (_, out, err) = client(&["-m", "get", &format!("{base}/echo")]);
    requests += 1;
    assert!(
        format!("{out}{err}").contains("4.05"),
        "GET /echo: no 4.05 in {out:?} {err:?}"
    );
    requests
}

/// The control: the same server over the kernel's sockets on 127.0.0.1.
#[test]
fn coap_control_std_embedded_nal() {
    if !common::can_run(&[CLIENT]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        common::lo_up();
        let server = Server::start(std_embedded_nal::Stack::default);
        let requests = exchanges("127.0.0.1");
        let handled = server.finish();
        eprintln!("control: {handled} messages handled for {requests} requests");
        assert!(handled >= requests, "{handled} < {requests}");
    });
    eprintln!("coap control: {:?}", t.elapsed());
}

/// The server over wolfip's `NalStack` on TAP: ours 198.51.100.2/24,
/// Linux 198.51.100.1/24.
#[test]
fn coap_server_on_wolfip_nal() {
    if !common::can_run(&[CLIENT]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        let link = common::bring_up(
            "wnalcoap0",
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(198, 51, 100, 1),
        );
        let engine = link.engine;
        let server = Server::start(move || wolfip_nal::NalStack::new(engine));
        let requests = exchanges(&link.ours.to_string());
        let handled = server.finish();
        eprintln!("wolfip: {handled} messages handled for {requests} requests");
        assert!(handled >= requests, "{handled} < {requests}");
    });
    eprintln!("coap on wolfip: {:?}", t.elapsed());
}
