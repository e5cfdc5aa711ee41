//! Recording frames to a pcap file.
//!
//! [`PcapWriter`] wraps any [`Device`] and is a [`Device`] itself: every
//! frame received from the inner device and every frame the inner device
//! accepted for transmission is appended to a classic libpcap capture
//! (microsecond timestamps, version 2.4, snaplen 65535, `LINKTYPE_ETHERNET`),
//! stamped with the `now` given to the call. The capture opens in Wireshark
//! or `tcpdump -r`.
//!
//! All fields are written little-endian, the byte order announced by the
//! magic number `0xa1b2c3d4` written as `d4 c3 b2 a1`.
//!
//! Recording is best effort: a write error never panics and never disturbs
//! the traffic. The first error is counted (see
//! [`write_errors`](PcapWriter::write_errors)) and recording stops.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::{Device, TxBusy};
use crate::time::Instant;

/// The classic pcap magic number for microsecond timestamps.
pub const PCAP_MAGIC: u32 = 0xa1b2_c3d4;
/// The largest number of bytes of a frame that is recorded.
pub const PCAP_SNAPLEN: u32 = 65_535;
/// The link type of Ethernet II frames.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// The 24-byte pcap global header.
fn global_header() -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&PCAP_MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
    h[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
                                                  // thiszone (8..12) and sigfigs (12..16) are zero.
    h[16..20].copy_from_slice(&PCAP_SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// The 16-byte header of one record of `len` bytes captured at `now`.
fn record_header(now: Instant, len: usize) -> [u8; 16] {
    let micros = now.total_micros();
    // Seconds wrap after 136 years of simulated time; fine for a capture.
    let secs = (micros / 1_000_000) as u32;
    let usecs = (micros % 1_000_000) as u32;
    let orig = u32::try_from(len).unwrap_or(u32::MAX);
    let incl = orig.min(PCAP_SNAPLEN);
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&secs.to_le_bytes());
    h[4..8].copy_from_slice(&usecs.to_le_bytes());
    h[8..12].copy_from_slice(&incl.to_le_bytes());
    h[12..16].copy_from_slice(&orig.to_le_bytes());
    h
}

/// A [`Device`] that records the traffic of the device it wraps; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct PcapWriter<D, W: Write> {
    inner: D,
    /// The capture. A buffering writer flushes itself when dropped
    /// (`BufWriter` does, and `to_file` uses one), so `PcapWriter` needs no
    /// `Drop` of its own and can be taken apart by value.
    out: W,
    /// Set after the first write error; nothing more is recorded.
    failed: bool,
    records: u64,
    write_errors: u64,
}

impl<D: Device, W: Write> PcapWriter<D, W> {
    /// Wraps `inner`, writing the pcap global header to `writer` at once.
    pub fn new(inner: D, mut writer: W) -> io::Result<Self> {
        writer.write_all(&global_header())?;
        Ok(PcapWriter {
            inner,
            out: writer,
            failed: false,
            records: 0,
            write_errors: 0,
        })
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably. Frames moved through it directly are
    /// not recorded.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// The capture writer.
    pub fn writer(&self) -> &W {
        &self.out
    }

    /// Flushes the capture and returns the wrapped device; the writer is
    /// dropped.
    pub fn into_inner(self) -> D {
        self.into_parts().0
    }

    /// Flushes the capture and returns the wrapped device and the writer.
    pub fn into_parts(mut self) -> (D, W) {
        let _ = self.flush();
        (self.inner, self.out)
    }

    /// Flushes buffered records to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|_| self.write_errors += 1)
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Write errors seen. After the first one during recording, recording
    /// has stopped.
    pub fn write_errors(&self) -> u64 {
        self.write_errors
    }

    /// Whether frames are still being recorded (no write error so far).
    pub fn is_recording(&self) -> bool {
        !self.failed
    }

    /// Appends one record, turning a write error into "stop recording".
    fn record(&mut self, now: Instant, frame: &[u8]) {
        if self.failed {
            return;
        }
        let w = &mut self.out;
        let incl = frame.len().min(PCAP_SNAPLEN as usize);
        let result = w
            .write_all(&record_header(now, frame.len()))
            .and_then(|()| w.write_all(&frame[..incl]));
        match result {
            Ok(()) => self.records += 1,
            Err(_) => {
                self.write_errors += 1;
                self.failed = true;
            }
        }
    }
}

impl<D: Device> PcapWriter<D, BufWriter<File>> {
    /// Wraps `inner`, recording into a new file at `path` (truncated if it
    /// exists) through a buffer. The buffer is flushed on
    /// [`flush`](Self::flush), [`into_inner`](Self::into_inner) and drop.
    pub fn to_file(inner: D, path: impl AsRef<Path>) -> io::Result<Self> {
        let file = File::create(path)?;
        PcapWriter::new(inner, BufWriter::new(file))
    }
}

impl<D: Device, W: Write> Device for PcapWriter<D, W> {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let len = self.inner.receive(now, buf)?;
        self.record(now, &buf[..len]);
        Some(len)
    }

    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.inner.transmit(now, frame)?;
        self.record(now, frame);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// Receives the queued frames; accepts transmissions unless `busy`.
    #[derive(Default)]
    struct Mock {
        rx: VecDeque<Vec<u8>>,
        busy: bool,
    }

    impl Device for Mock {
        fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
            let f = self.rx.pop_front()?;
            buf[..f.len()].copy_from_slice(&f);
            Some(f.len())
        }
        fn transmit(&mut self, _now: Instant, _frame: &[u8]) -> Result<(), TxBusy> {
            if self.busy {
                Err(TxBusy)
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn writes_header_and_records_byte_by_byte() {
        let rx_frame: Vec<u8> = (0..60u8).collect();
        let tx_frame = [0xeeu8; 14];
        let mock = Mock {
            rx: VecDeque::from([rx_frame.clone()]),
            busy: false,
        };
        let mut pcap = PcapWriter::new(mock, Vec::new()).unwrap();
        let mut buf = [0u8; 1514];
        let t1 = Instant::from_micros(3_000_250);
        assert_eq!(pcap.receive(t1, &mut buf), Some(60));
        assert_eq!(pcap.receive(t1, &mut buf), None);
        let t2 = Instant::from_micros(0x1_0000_0000 * 1_000_000 + 999_999);
        pcap.transmit(t2, &tx_frame).unwrap();
        pcap.inner_mut().busy = true;
        assert_eq!(pcap.transmit(t2, &tx_frame), Err(TxBusy));
        assert_eq!(pcap.records(), 2);
        let (_, out) = pcap.into_parts();

        let mut expect: Vec<u8> = vec![
            0xd4, 0xc3, 0xb2, 0xa1, // magic
            2, 0, 4, 0, // version 2.4
            0, 0, 0, 0, // thiszone
            0, 0, 0, 0, // sigfigs
            0xff, 0xff, 0, 0, // snaplen 65535
            1, 0, 0, 0, // LINKTYPE_ETHERNET
        ];
        expect.extend_from_slice(&[
            3, 0, 0, 0, // 3 s
            250, 0, 0, 0, // 250 µs
            60, 0, 0, 0, // incl_len
            60, 0, 0, 0, // orig_len
        ]);
        expect.extend_from_slice(&rx_frame);
        expect.extend_from_slice(&[
            0, 0, 0, 0, // seconds wrap at 2^32
            0x3f, 0x42, 0x0f, 0, // 999_999 µs
            14, 0, 0, 0, // incl_len
            14, 0, 0, 0, // orig_len
        ]);
        expect.extend_from_slice(&tx_frame);
        assert_eq!(out, expect);
    }

    /// Accepts `room` bytes, then fails every write.
    struct Failing {
        room: usize,
        flushes: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn write_errors_stop_recording_without_disturbing_traffic() {
        let mock = Mock {
            rx: VecDeque::from([vec![1u8; 100], vec![2u8; 100]]),
            busy: false,
        };
        let failing = Failing {
            room: 24 + 16 + 100 + 10,
            flushes: 0,
        };
        let mut pcap = PcapWriter::new(mock, failing).unwrap();
        let mut buf = [0u8; 200];
        assert_eq!(pcap.receive(Instant::ZERO, &mut buf), Some(100));
        assert_eq!(pcap.receive(Instant::ZERO, &mut buf), Some(100));
        assert_eq!(pcap.transmit(Instant::ZERO, &[0u8; 60]), Ok(()));
        assert_eq!((pcap.records(), pcap.write_errors()), (1, 1));
        assert!(!pcap.is_recording());
        assert!(PcapWriter::new(
            Mock::default(),
            Failing {
                room: 3,
                flushes: 0
            }
        )
        .is_err());
    }

    #[test]
    fn flushes_on_drop_and_to_file() {
        let path =
            std::env::temp_dir().join(format!("wolfip-pcap-test-{}.pcap", std::process::id()));
        {
            let mock = Mock::default();
            let mut pcap = PcapWriter::to_file(mock, &path).unwrap();
            pcap.transmit(Instant::from_secs(1), &[7u8; 42]).unwrap();
            // Dropped here without an explicit flush.
        }
        let data = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(data.len(), 24 + 16 + 42);
        assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&data[24..28], &[1, 0, 0, 0]);
        assert_eq!(&data[40..], &[7u8; 42]);
    }
}
