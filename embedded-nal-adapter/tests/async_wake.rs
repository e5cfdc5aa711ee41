//! Futures wait through the port's wakers, not by polling: a pending read
//! is polled a handful of times and burns no CPU while it waits; the
//! hosted port's waker table, including its one degraded path (full).
//! The tests of this process run one at a time (they count wake-ups).

mod util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use embedded_io_async::Read;
use embedded_nal_async::TcpConnect;
use util::{block_on, block_on_counted, cpu_time, eng, local, local4};
use wolfip_bsd::engine::{MsgFlags, Port};
use wolfip_bsd::hosted::ASYNC_WAKERS;
use wolfip_nal::AsyncStack;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn pending_read_is_woken_by_data_without_polling() {
    let _g = serial();
    let e = eng();
    let l = e.socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    e.bind(l, local4(44001)).unwrap();
    e.listen(l, 4).unwrap();
    let a = AsyncStack::hosted().unwrap();
    let mut c = block_on(TcpConnect::connect(&a, local(44001))).unwrap();
    let (srv, _) = e.accept(l, 0).unwrap();
    // Let the handshake's last timers (delayed ACK) pass.
    thread::sleep(Duration::from_millis(50));

    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        eng()
            .sendto(srv, b"wake up", None, MsgFlags::default())
            .unwrap();
        srv
    });
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let mut buf = [0u8; 32];
    let (n, polls) = block_on_counted(c.read(&mut buf));
    let waited = t0.elapsed();
    let cpu = cpu_time() - cpu0;
    eprintln!("read: {polls} polls, {cpu:?} CPU over {waited:?}");
    assert_eq!(&buf[..n.unwrap()], b"wake up");
    assert!(waited >= Duration::from_millis(250), "waited {waited:?}");
    assert!(polls <= 5, "polled {polls} times for one message");
    assert!(
        cpu < Duration::from_millis(100),
        "{cpu:?} of CPU while waiting {waited:?}"
    );
    let srv = sender.join().unwrap();
    drop(c);
    e.close(srv).unwrap();
    e.close(l).unwrap();
}

/// A waker that records that it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flags(n: usize) -> Vec<(Arc<Flag>, Waker)> {
    (0..n)
        .map(|_| {
            let f = Arc::new(Flag(AtomicBool::new(false)));
            (f.clone(), Waker::from(f))
        })
        .collect()
}

fn woken(set: &[(Arc<Flag>, Waker)]) -> usize {
    set.iter().filter(|f| f.0 .0.load(Ordering::SeqCst)).count()
}

#[test]
fn waker_table_of_the_hosted_port() {
    let _g = serial();
    let port = eng().port();
    // A stale epoch wakes at once (the wake-up happened already).
    let one = flags(1);
    port.register_waker(port.epoch().wrapping_sub(1), &one[0].1);
    assert_eq!(woken(&one), 1);

    // Fill the table, one more: only that one is woken at once (the
    // degraded path); the next wake wakes them all. The same waker twice
    // takes one slot. Retried if something else woke the port meanwhile.
    let mut done = false;
    for _ in 0..200 {
        let set = flags(ASYNC_WAKERS + 1);
        // Empties the table: wakers of futures that ended without being
        // woken stay registered until the next wake.
        port.wake();
        thread::sleep(Duration::from_millis(2));
        let seen = port.epoch();
        for (_, w) in &set[..ASYNC_WAKERS] {
            port.register_waker(seen, w);
            port.register_waker(seen, w);
        }
        let before = woken(&set);
        port.register_waker(seen, &set[ASYNC_WAKERS].1);
        if port.epoch() != seen {
            port.wake();
            continue;
        }
        assert_eq!(before, 0, "the table holds {ASYNC_WAKERS} wakers");
        assert!(
            set[ASYNC_WAKERS].0 .0.load(Ordering::SeqCst),
            "full: woken at once"
        );
        port.wake();
        assert_eq!(woken(&set), ASYNC_WAKERS + 1);
        done = true;
        break;
    }
    assert!(done, "the port never stayed quiet");
    // Empty again: a registration waits for the next wake.
    let late = flags(1);
    let seen = port.epoch();
    port.register_waker(seen, &late[0].1);
    if port.epoch() == seen {
        assert_eq!(woken(&late), 0);
    }
    port.wake();
    assert_eq!(woken(&late), 1);
}

#[test]
fn many_pending_reads_all_complete() {
    let _g = serial();
    let e = eng();
    let l = e.socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    e.bind(l, local4(44002)).unwrap();
    e.listen(l, 16).unwrap();
    let a = AsyncStack::hosted().unwrap();
    let mut clients = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..8 {
        clients.push(block_on(TcpConnect::connect(&a, local(44002))).unwrap());
        servers.push(e.accept(l, 0).unwrap().0);
    }
    // Each client reads on its own thread; the data comes later, in
    // reverse order.
    let readers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            thread::spawn(move || {
                let mut buf = [0u8; 8];
                let n = block_on(c.read(&mut buf)).unwrap();
                assert_eq!(buf[..n], [i as u8]);
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    for (i, &s) in servers.iter().enumerate().rev() {
        e.sendto(s, &[i as u8], None, MsgFlags::default()).unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
    for s in servers {
        e.close(s).unwrap();
    }
    e.close(l).unwrap();
}
