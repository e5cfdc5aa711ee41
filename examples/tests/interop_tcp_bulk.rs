//! TCP bulk transfers between the stack and the Linux kernel through
//! `tap_echo`: echo both ways with a hash check, lossless (with tshark's
//! view of the handshake options and of every segment the stack sent)
//! and under 1 % and 5 % loss (retransmissions, SACK in use both ways),
//! plus the positive control of the TCP checksum check. Each test runs in
//! its own network namespace on 192.0.2.0/24 (Linux 192.0.2.1, the stack
//! 192.0.2.2); see `common` for the skip policy and `common::tcp` for the
//! shared TCP helpers.

mod common;

use std::path::Path;
use std::time::Duration;

use common::tcp::*;
use common::*;

// ---------------------------------------------------------------------
// tshark's view of loss recovery.

/// The display filter of our retransmissions as tshark sees them.
fn our_retransmissions() -> String {
    format!(
        "eth.src == {STACK_MAC} && (tcp.analysis.retransmission \
         || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission)"
    )
}

/// What tshark sees of loss recovery, in one pass over the capture.
#[derive(Debug, Default)]
struct Recovery {
    /// Segments the stack retransmitted.
    our_retransmissions: usize,
    /// ACKs with SACK blocks from the stack.
    our_sacks: usize,
    /// ACKs with SACK blocks from Linux.
    linux_sacks: usize,
}

fn recovery(pcap: &Path) -> Recovery {
    let lines = tshark(
        pcap,
        &format!("({}) || tcp.options.sack_le", our_retransmissions()),
        &["eth.src", "tcp.options.sack_le", "_ws.expert.message"],
    );
    let mut r = Recovery::default();
    for l in &lines {
        let f: Vec<&str> = l.split('\t').collect();
        let ours = f[0] == STACK_MAC;
        if f.get(1).is_some_and(|v| !v.is_empty()) {
            if ours {
                r.our_sacks += 1;
            } else {
                r.linux_sacks += 1;
            }
        }
        // "This frame is a (suspected) [fast|spurious] retransmission".
        if ours && f.get(2).is_some_and(|m| m.contains("retransmission")) {
            r.our_retransmissions += 1;
        }
    }
    r
}

#[test]
fn bulk_echo_lossless_20mb() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let total = 20_000_000;
        let run = bulk_run(
            "bulk_lossless",
            &[],
            total,
            Duration::from_secs(40),
            Duration::from_millis(300),
        );
        assert_eq!(
            run.stopped.tcp_counter("retransmits"),
            0,
            "retransmissions on a lossless link: {}",
            run.stopped.stdout
        );
        assert_eq!(
            run.stopped.tcp_counter("resets tx"),
            0,
            "{}",
            run.stopped.stdout
        );
        let pcap = run.pcap();

        // The handshake (one tshark pass): our SYN-ACK offers MSS 1460
        // (1500-byte MTU), window scaling, SACK and timestamps, and echoes
        // the timestamp of Linux's SYN, which offered them all too.
        let syns = fields(
            pcap,
            "tcp.flags.syn == 1",
            &[
                "eth.src",
                "tcp.flags.ack",
                "tcp.options.mss_val",
                "tcp.options.wscale.shift",
                "tcp.options.sack_perm",
                "tcp.options.timestamp.tsval",
                "tcp.options.timestamp.tsecr",
            ],
        );
        assert_eq!(syns.len(), 2, "SYN and SYN-ACK: {syns:?}");
        let (syn, synack) = (&syns[0], &syns[1]);
        assert!(
            syn[0] != STACK_MAC && syn[1] == "0",
            "the first SYN is Linux's: {syns:?}"
        );
        assert!(
            syn[2..6].iter().all(|f| !f.is_empty()),
            "Linux's SYN lacks an option: {syn:?}"
        );
        assert!(
            synack[0] == STACK_MAC && synack[1] == "1",
            "then our SYN-ACK: {syns:?}"
        );
        assert_eq!(synack[2], "1460", "SYN-ACK MSS: {synack:?}");
        assert!(
            !synack[3].is_empty(),
            "SYN-ACK without window scale: {synack:?}"
        );
        assert!(
            !synack[4].is_empty(),
            "SYN-ACK without SACK-permitted: {synack:?}"
        );
        assert!(
            !synack[5].is_empty(),
            "SYN-ACK without timestamps: {synack:?}"
        );
        assert_eq!(
            synack[6], syn[5],
            "SYN-ACK TSecr does not echo Linux's TSval"
        );
        println!(
            "bulk_lossless: our SYN-ACK: mss {} wscale {} sack_perm {} tsval {}",
            synack[2], synack[3], synack[4], synack[5]
        );

        // Everything else we sent (one more pass): nothing corrupt, no
        // retransmission on a lossless link, and timestamps on every
        // segment now that they were negotiated (RFC 7323 §3.2; a RST may
        // omit them, and there is none here).
        let bad = tshark(
            pcap,
            &format!(
                "eth.src == {STACK_MAC} && (_ws.malformed || ip.checksum.status == \"Bad\" \
                 || tcp.checksum.status == \"Bad\" || ({}) \
                 || (tcp && !tcp.options.timestamp.tsval))",
                our_retransmissions()
            ),
            &[
                "frame.number",
                "tcp.seq",
                "tcp.len",
                "tcp.flags.str",
                "_ws.expert.message",
            ],
        );
        assert!(
            bad.is_empty(),
            "segments of the stack that are corrupt, retransmitted or without \
             timestamps on a lossless link:\n{}",
            bad.join("\n")
        );
    });
}

// ---------------------------------------------------------------------
// Loss.

/// A bulk echo over a link that drops `ppm` frames per million each way:
/// the data arrives intact, retransmissions happen, nothing is corrupt.
/// Returns the run for further checks.
fn lossy_bulk(test: &str, ppm: u32, total: usize) -> (Run, Recovery) {
    let ppm = ppm.to_string();
    let run = bulk_run(
        test,
        &["--drop-ppm", &ppm],
        total,
        Duration::from_secs(60),
        // Our FIN or Linux's last ACK may be lost: leave time for a few
        // retransmissions before counting sockets.
        Duration::from_secs(3),
    );
    let s = &run.stopped;
    let dropped = s
        .stdout
        .lines()
        .find(|l| l.starts_with("tap_echo: fault injector dropped"))
        .unwrap_or_else(|| panic!("no fault injector line:\n{}", s.stdout));
    println!("{test}: {dropped}");
    assert!(
        s.tcp_counter("retransmits") > 0,
        "no retransmission with {ppm} ppm loss: {}",
        s.stdout
    );
    assert!(s.tcp_counter("ooo queued") > 0, "{}", s.stdout);
    assert_no_corruption(run.pcap());
    // A reset from the stack is only allowed once the connection is over:
    // Linux, in TIME-WAIT, may answer a late retransmission of ours with
    // a duplicate ACK that arrives after our LAST-ACK ended; it then
    // reaches the listener, which answers an ACK with <SEQ=SEG.ACK><RST>
    // (RFC 9293 §3.10.7.2): our final sequence number, after the FIN.
    let rsts = fields(
        run.pcap(),
        &format!("eth.src == {STACK_MAC} && tcp.flags.reset == 1"),
        &["frame.number", "tcp.seq", "tcp.flags.ack"],
    );
    // The capture shows the wire: a RST dropped on the way out is counted
    // but not captured.
    assert!(
        rsts.len() as u64 <= s.tcp_counter("resets tx"),
        "RSTs in the capture but not counted: {rsts:?}"
    );
    for r in &rsts {
        assert!(
            r[1] == (total + 2).to_string() && r[2] == "0",
            "a RST from the stack before the connection ended (want relative seq {}, \
             no ACK): {rsts:?}",
            total + 2
        );
    }
    let r = recovery(run.pcap());
    println!("{test}: tshark: {r:?}");
    assert!(
        r.our_retransmissions > 0,
        "tshark sees no retransmission by the stack: {r:?}"
    );
    (run, r)
}

#[test]
fn bulk_echo_with_1_percent_loss() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        lossy_bulk("bulk_1pct", 10_000, 5_000_000);
    });
}

#[test]
fn bulk_echo_with_5_percent_loss_uses_sack() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let (run, r) = lossy_bulk("bulk_5pct", 50_000, 3_000_000);
        // Both sides report holes with SACK blocks while recovering.
        assert!(r.our_sacks > 0, "the stack never sent a SACK block: {r:?}");
        assert!(r.linux_sacks > 0, "Linux never sent a SACK block: {r:?}");
        assert!(
            run.stopped.tcp_counter("retransmits fast") > 0,
            "no fast retransmit under 5 % loss: {}",
            run.stopped.stdout
        );
    });
}

// ---------------------------------------------------------------------
// The capture checks themselves.

/// An Ethernet frame from `src`: IPv4 192.0.2.2 -> 192.0.2.1, a TCP ACK
/// 4242 -> 5555 carrying `payload`, with correct checksums.
fn tcp_frame(src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&4242u16.to_be_bytes());
    tcp.extend_from_slice(&5555u16.to_be_bytes());
    tcp.extend_from_slice(&1000u32.to_be_bytes()); // seq
    tcp.extend_from_slice(&2000u32.to_be_bytes()); // ack
    tcp.extend_from_slice(&[0x50, 0x18]); // 20 bytes, PSH ACK
    tcp.extend_from_slice(&16384u16.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
    tcp.extend_from_slice(payload);
    let ck = l4_checksum(6, &tcp);
    tcp[16..18].copy_from_slice(&ck.to_be_bytes());
    ipv4_frame(src, 6, &tcp)
}

/// The positive control of [`capture_corruption`] for TCP: it reports
/// hand-made segments from our MAC with a bad TCP or IP checksum or cut
/// short, not a good one, not a bad one from another MAC, and not a plain
/// retransmission (a TCP analysis note, legitimate under loss).
#[test]
fn tshark_tcp_check_reports_bad_checksums() {
    if !tools_available(&["tshark"]) {
        return;
    }
    const OURS: [u8; 6] = [0x02, 0x57, 0x49, 0x50, 0x00, 0x01];
    const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x99];
    let good = tcp_frame(OURS, b"some echoed bytes");
    let mut bad_tcp = good.clone();
    bad_tcp[14 + 20 + 16] ^= 0x5a;
    let mut bad_ip = good.clone();
    bad_ip[14 + 10] ^= 0x5a;
    let mut bad_other = tcp_frame(OTHER, b"not ours");
    bad_other[14 + 20 + 16] ^= 0x5a;
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 5);
    let pcap = temp_path("tshark_tcp_control", "pcap");
    write_pcap(
        &pcap,
        &[
            good.clone(),
            bad_tcp,
            good, // the same segment again: a retransmission
            bad_other,
            bad_ip,
            truncated,
        ],
    );
    let all = tshark_count(&pcap, "frame");
    let retx = tshark_count(&pcap, "tcp.analysis.retransmission");
    let problems = capture_corruption(&pcap, STACK_MAC);
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(all, 6, "tshark did not read the hand-made capture");
    assert!(retx >= 1, "no retransmission seen in the control capture");
    let frames: Vec<&str> = problems
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(frames, ["2", "5", "6"], "tshark's report: {problems:?}");
}
