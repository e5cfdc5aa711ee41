//! Running out of descriptors is an error, never a panic: its own process,
//! since it takes every descriptor of the engine for a moment.

mod util;

use embedded_nal::{TcpClientStack, UdpClientStack};
use embedded_nal_async::{TcpConnect, UdpStack};
use wolfip_bsd::Errno;
use wolfip_nal::{AsyncStack, Error, NalStack};

fn out_of_memory(e: &Error) {
    assert!(
        [Errno::EMFILE, Errno::ENFILE, Errno::ENOBUFS].contains(&e.0),
        "{e:?}"
    );
    assert_eq!(
        embedded_io::Error::kind(e),
        embedded_io::ErrorKind::OutOfMemory
    );
    assert_eq!(
        embedded_nal::TcpError::kind(e),
        embedded_nal::TcpErrorKind::Other
    );
}

#[test]
fn running_out_of_descriptors_is_an_error() {
    let mut s = NalStack::hosted().unwrap();
    // TCP until failure.
    let mut tcp = Vec::new();
    let err = loop {
        match TcpClientStack::socket(&mut s) {
            Ok(sock) => tcp.push(sock),
            Err(e) => break e,
        }
        assert!(tcp.len() <= 100_000);
    };
    out_of_memory(&err);
    assert!(!tcp.is_empty());
    // UDP and the async stack meet the same full table.
    let e = UdpClientStack::socket(&mut s).unwrap_err();
    out_of_memory(&e);
    let a = AsyncStack::hosted().unwrap();
    let e = util::block_on(TcpConnect::connect(&a, util::local(41300))).unwrap_err();
    out_of_memory(&e);
    let e = util::block_on(a.bind_multiple(util::local(41301))).unwrap_err();
    out_of_memory(&e);
    // Freeing one makes room again.
    let one = tcp.pop().unwrap();
    TcpClientStack::close(&mut s, one).unwrap();
    let again = TcpClientStack::socket(&mut s).unwrap();
    tcp.push(again);
    for sock in tcp {
        TcpClientStack::close(&mut s, sock).unwrap();
    }
    // All back.
    let u = UdpClientStack::socket(&mut s).unwrap();
    UdpClientStack::close(&mut s, u).unwrap();
}
