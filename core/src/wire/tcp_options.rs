//! TCP sequence numbers (RFC 9293 §3.4) and options (RFC 9293 §3.2,
//! RFC 7323, RFC 2018), re-exported by [`tcp`](super::tcp).
//!
//! An option is either a single kind byte (End of Option List, No-Operation)
//! or a kind byte, a length byte counting the kind and length bytes
//! themselves, and `length - 2` bytes of data (RFC 9293 §3.1 "Options").
//!
//! ```text
//! kind  length  meaning                       reference
//!   0     -     End of Option List            RFC 9293 §3.2
//!   1     -     No-Operation                  RFC 9293 §3.2
//!   2     4     Maximum Segment Size          RFC 9293 §3.2, §3.7.1
//!   3     3     Window Scale                  RFC 7323 §2.2
//!   4     2     SACK-Permitted                RFC 2018 §2
//!   5   2+8n    SACK, n = 1..=4 blocks        RFC 2018 §3
//!   8    10     Timestamps                    RFC 7323 §3.2
//! ```
//!
//! Parsing is panic-free: any option whose length byte is missing, below 2,
//! runs past the option area, or differs from the fixed length of its kind
//! is [`Error::Malformed`] (RFC 9293 §3.1 requires a TCP to "be prepared to
//! handle an illegal option length (e.g., zero)", MUST-7).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

use super::tcp::{TcpRepr, MAX_OPTIONS_LEN, MAX_WINDOW_SCALE};
use super::{be32, put_be16, put_be32, Error, Result};

/// A TCP sequence number: arithmetic and comparisons are modulo 2^32
/// (RFC 9293 §3.4).
///
/// `a < b` means `b` is ahead of `a` by less than 2^31 (the wrapping signed
/// difference `a - b` is negative, RFC 1982 §3.2 serial-number arithmetic).
/// This is **not a total order**: it is not transitive around the circle
/// (`0 < 2^30 < 2^31 < 3 * 2^30 < 0`), and two numbers exactly 2^31 apart
/// are incomparable (`partial_cmp` is `None`, every comparison is false).
/// It is meaningful for numbers within a window of each other, which TCP
/// keeps below 2^30 (RFC 7323 §2.3). For that reason there is no `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self`, `self - other` modulo
    /// 2^32 read as `i32`: positive if `self` is ahead of `other`.
    pub const fn diff(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self < other` modulo 2^32 (see the type documentation).
    pub fn lt(self, other: SeqNumber) -> bool {
        self.partial_cmp(&other) == Some(Ordering::Less)
    }

    /// `self <= other` modulo 2^32.
    pub fn le(self, other: SeqNumber) -> bool {
        matches!(
            self.partial_cmp(&other),
            Some(Ordering::Less | Ordering::Equal)
        )
    }

    /// `self > other` modulo 2^32.
    pub fn gt(self, other: SeqNumber) -> bool {
        other.lt(self)
    }

    /// `self >= other` modulo 2^32.
    pub fn ge(self, other: SeqNumber) -> bool {
        other.le(self)
    }

    /// The later of the two modulo 2^32; `self` if they are incomparable.
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if other.gt(self) {
            other
        } else {
            self
        }
    }

    /// The earlier of the two modulo 2^32; `self` if they are incomparable.
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if other.lt(self) {
            other
        } else {
            self
        }
    }
}

impl PartialOrd for SeqNumber {
    /// Compares by the sign of the wrapping difference; `None` when the
    /// numbers are exactly 2^31 apart.
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        match self.diff(*other) {
            i32::MIN => None,
            d => Some(d.cmp(&0)),
        }
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Add<usize> for SeqNumber {
    type Output = SeqNumber;

    /// Advances by `rhs` modulo 2^32 (`rhs` itself is taken modulo 2^32).
    fn add(self, rhs: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(rhs as u32))
    }
}

impl Sub<usize> for SeqNumber {
    type Output = SeqNumber;

    /// Goes back by `rhs` modulo 2^32.
    fn sub(self, rhs: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(rhs as u32))
    }
}

impl Sub<SeqNumber> for SeqNumber {
    type Output = i32;

    /// The signed distance, [`SeqNumber::diff`].
    fn sub(self, rhs: SeqNumber) -> i32 {
        self.diff(rhs)
    }
}

impl AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, rhs: usize) {
        *self = *self + rhs;
    }
}

impl SubAssign<usize> for SeqNumber {
    fn sub_assign(&mut self, rhs: usize) {
        *self = *self - rhs;
    }
}

/// Option kinds (IANA "TCP Option Kind Numbers").
mod kind {
    pub const END_OF_LIST: u8 = 0;
    pub const NO_OPERATION: u8 = 1;
    pub const MAX_SEG_SIZE: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK_RANGE: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// The most SACK blocks one option can carry: 2 + 8 * 4 = 34 bytes fits the
/// 40-byte option area, a fifth block would not (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the received bytes `left..right` (RFC 2018 §3, "Left
/// Edge of Block" is the first sequence number of the block, "Right Edge" the
/// one just past its last byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: SeqNumber,
    /// Sequence number just after the last byte of the block.
    pub right: SeqNumber,
}

/// One TCP option. `'a` is the lifetime of the option bytes, which
/// [`TcpOption::Unknown`] borrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// Kind 0: the end of the option list; the rest of the option area is
    /// padding (RFC 9293 §3.2).
    EndOfList,
    /// Kind 1: padding between options (RFC 9293 §3.2).
    NoOperation,
    /// Kind 2: the largest segment the sender can receive, in bytes, not
    /// counting the TCP and IP headers (RFC 9293 §3.7.1).
    MaxSegmentSize(u16),
    /// Kind 3: the sender's receive window shift count (RFC 7323 §2.2). The
    /// raw value; [`TcpRepr::parse`](super::TcpRepr::parse) clamps it to 14.
    WindowScale(u8),
    /// Kind 4: the sender can receive SACK options (RFC 2018 §2).
    SackPermitted,
    /// Kind 5: up to four blocks of received data (RFC 2018 §3), packed at
    /// the front of the array. Emitting skips `None` entries, so an option
    /// without any block emits nothing.
    SackRange([Option<SackBlock>; MAX_SACK_BLOCKS]),
    /// Kind 8: timestamp value and echo reply (RFC 7323 §3.2).
    Timestamps {
        /// TSval: the sender's timestamp clock.
        tsval: u32,
        /// TSecr: the TSval echoed back, valid when ACK is set.
        tsecr: u32,
    },
    /// Any other kind with a well-formed length; `data` excludes the kind
    /// and length bytes.
    Unknown {
        /// The option kind.
        kind: u8,
        /// The option data.
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// Parses the option at the start of `buffer` and returns it with the
    /// bytes after it. [`Error::Malformed`] if `buffer` is empty or does not
    /// hold a well-formed option (see the module documentation).
    pub fn parse(buffer: &'a [u8]) -> Result<(TcpOption<'a>, &'a [u8])> {
        let (&kind, after_kind) = buffer.split_first().ok_or(Error::Malformed)?;
        match kind {
            kind::END_OF_LIST => return Ok((TcpOption::EndOfList, after_kind)),
            kind::NO_OPERATION => return Ok((TcpOption::NoOperation, after_kind)),
            _ => {}
        }
        let len = usize::from(*after_kind.first().ok_or(Error::Malformed)?);
        if len < 2 {
            return Err(Error::Malformed);
        }
        let data = buffer.get(2..len).ok_or(Error::Malformed)?;
        let rest = buffer.get(len..).ok_or(Error::Malformed)?;
        let option = match (kind, data) {
            (kind::MAX_SEG_SIZE, &[hi, lo]) => {
                TcpOption::MaxSegmentSize(u16::from_be_bytes([hi, lo]))
            }
            (kind::WINDOW_SCALE, &[shift]) => TcpOption::WindowScale(shift),
            (kind::SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
            (kind::TIMESTAMPS, _) if data.len() == 8 => TcpOption::Timestamps {
                tsval: be32(data, 0),
                tsecr: be32(data, 4),
            },
            (kind::SACK_RANGE, _)
                if data.len() % 8 == 0 && (1..=MAX_SACK_BLOCKS).contains(&(data.len() / 8)) =>
            {
                let mut blocks = [None; MAX_SACK_BLOCKS];
                for (slot, block) in blocks.iter_mut().zip(data.chunks_exact(8)) {
                    *slot = Some(SackBlock {
                        left: SeqNumber(be32(block, 0)),
                        right: SeqNumber(be32(block, 4)),
                    });
                }
                TcpOption::SackRange(blocks)
            }
            (
                kind::MAX_SEG_SIZE
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::TIMESTAMPS
                | kind::SACK_RANGE,
                _,
            ) => return Err(Error::Malformed),
            (kind, data) => TcpOption::Unknown { kind, data },
        };
        Ok((option, rest))
    }

    /// The number of SACK blocks a [`TcpOption::SackRange`] emits.
    fn sack_blocks(blocks: &[Option<SackBlock>; MAX_SACK_BLOCKS]) -> usize {
        blocks.iter().flatten().count()
    }

    /// The number of bytes [`emit`](Self::emit) writes: 1 for EOL and NOP,
    /// `2 + data` otherwise, 0 for a SACK option without blocks.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::SackRange(blocks) => match Self::sack_blocks(blocks) {
                0 => 0,
                n => 2 + 8 * n,
            },
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2usize.saturating_add(data.len()),
        }
    }

    /// Writes the option at the start of `buffer` and returns the number of
    /// bytes written, [`buffer_len`](Self::buffer_len). Writes nothing and
    /// returns 0 if the option does not fit in `buffer`, or if it is an
    /// `Unknown` option whose length does not fit the length byte.
    pub fn emit(&self, buffer: &mut [u8]) -> usize {
        let len = self.buffer_len();
        let Ok(len_byte) = u8::try_from(len) else {
            return 0;
        };
        let Some(out) = buffer.get_mut(..len) else {
            return 0;
        };
        let kind = match self {
            TcpOption::EndOfList => kind::END_OF_LIST,
            TcpOption::NoOperation => kind::NO_OPERATION,
            TcpOption::MaxSegmentSize(mss) => {
                put_be16(out, 2, *mss);
                kind::MAX_SEG_SIZE
            }
            TcpOption::WindowScale(shift) => {
                if let Some(b) = out.get_mut(2) {
                    *b = *shift;
                }
                kind::WINDOW_SCALE
            }
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::SackRange(blocks) => {
                let slots = out.get_mut(2..).unwrap_or(&mut []).chunks_exact_mut(8);
                for (slot, block) in slots.zip(blocks.iter().flatten()) {
                    put_be32(slot, 0, block.left.0);
                    put_be32(slot, 4, block.right.0);
                }
                kind::SACK_RANGE
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                put_be32(out, 2, *tsval);
                put_be32(out, 6, *tsecr);
                kind::TIMESTAMPS
            }
            TcpOption::Unknown { kind, data } => {
                for (d, s) in out.get_mut(2..).unwrap_or(&mut []).iter_mut().zip(*data) {
                    *d = *s;
                }
                *kind
            }
        };
        // EOL and NOP are one byte; every other option has a length byte.
        if let Some(b) = out.get_mut(0) {
            *b = kind;
        }
        if let Some(b) = out.get_mut(1) {
            *b = len_byte;
        }
        out.len()
    }
}

/// An iterator over the options of an option area (RFC 9293 §3.1). It
/// yields each option in turn, stops after [`TcpOption::EndOfList`] (the
/// rest is padding) and stops after yielding the first error. `'a` is the
/// lifetime of the option bytes.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Iterates over `options`, e.g. [`TcpPacket::options`](super::TcpPacket::options).
    pub const fn new(options: &'a [u8]) -> Self {
        TcpOptions { rest: options }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match TcpOption::parse(self.rest) {
            Ok((option, rest)) => {
                self.rest = if option == TcpOption::EndOfList {
                    &[]
                } else {
                    rest
                };
                Some(Ok(option))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for TcpOptions<'_> {}

/// The option area of a [`TcpRepr`] (RFC 9293 §3.1 "Options").
///
/// Emitted in the order MSS (4 bytes), NOP + window scale (4), then
/// SACK-permitted and timestamps as `SACKP TS` (12, the Linux layout),
/// `NOP NOP TS` (12) or `NOP NOP SACKP` (4), then `NOP NOP SACK` (4 + 8n).
/// Every group is a multiple of 4 bytes, so the area never needs padding.
/// The fixed groups take at most 20 bytes; SACK blocks that do not fit the
/// remaining room of the 40 are dropped, keeping the first, which is the
/// most recent (RFC 2018 §4).
impl TcpRepr<'_> {
    fn fixed_options_len(&self) -> usize {
        let mss = if self.max_seg_size.is_some() { 4 } else { 0 };
        let ws = if self.window_scale.is_some() { 4 } else { 0 };
        let ts_sackp = match (self.timestamp.is_some(), self.sack_permitted) {
            (true, _) => 12,
            (false, true) => 4,
            (false, false) => 0,
        };
        mss + ws + ts_sackp
    }

    /// The number of SACK blocks emitted: those present, as many as fit.
    fn sack_count(&self) -> usize {
        let present = self.sack_ranges.iter().flatten().count();
        let room = MAX_OPTIONS_LEN.saturating_sub(self.fixed_options_len() + 4) / 8;
        present.min(room)
    }

    /// Length of the option area, a multiple of 4, at most 40.
    pub(super) fn options_len(&self) -> usize {
        match self.sack_count() {
            0 => self.fixed_options_len(),
            n => self.fixed_options_len() + 4 + 8 * n,
        }
    }

    /// Writes the option area at the start of `buffer`, as far as it fits.
    pub(super) fn emit_options(&self, buffer: &mut [u8]) {
        let mut at = 0;
        let mut put = |option: TcpOption<'_>| {
            at += option.emit(buffer.get_mut(at..).unwrap_or(&mut []));
        };
        if let Some(mss) = self.max_seg_size {
            put(TcpOption::MaxSegmentSize(mss));
        }
        if let Some(shift) = self.window_scale {
            put(TcpOption::NoOperation);
            put(TcpOption::WindowScale(shift));
        }
        match (self.timestamp.is_some(), self.sack_permitted) {
            (true, true) => put(TcpOption::SackPermitted),
            (true, false) => {
                put(TcpOption::NoOperation);
                put(TcpOption::NoOperation);
            }
            (false, true) => {
                put(TcpOption::NoOperation);
                put(TcpOption::NoOperation);
                put(TcpOption::SackPermitted);
            }
            (false, false) => {}
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            put(TcpOption::Timestamps { tsval, tsecr });
        }
        let sack_count = self.sack_count();
        if sack_count > 0 {
            let mut blocks = [None; MAX_SACK_BLOCKS];
            let present = self.sack_ranges.iter().flatten().take(sack_count);
            for (slot, block) in blocks.iter_mut().zip(present) {
                *slot = Some(*block);
            }
            put(TcpOption::NoOperation);
            put(TcpOption::NoOperation);
            put(TcpOption::SackRange(blocks));
        }
    }

    /// Fills the option fields from an option area: [`Error::Malformed`]
    /// for a malformed list (RFC 9293 §3.1, MUST-7); unknown options are
    /// ignored (MUST-6); a repeated option keeps its last value; a window
    /// scale above 14 is taken as 14 (RFC 7323 §2.3).
    pub(super) fn parse_options(&mut self, options: &[u8]) -> Result<()> {
        for option in TcpOptions::new(options) {
            match option.map_err(|_| Error::Malformed)? {
                TcpOption::MaxSegmentSize(mss) => self.max_seg_size = Some(mss),
                TcpOption::WindowScale(shift) => {
                    self.window_scale = Some(shift.min(MAX_WINDOW_SCALE));
                }
                TcpOption::SackPermitted => self.sack_permitted = true,
                TcpOption::SackRange(blocks) => self.sack_ranges = blocks,
                TcpOption::Timestamps { tsval, tsecr } => self.timestamp = Some((tsval, tsecr)),
                TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tcp::tests::{
        ack_with_sacks, block, round_trip, with_options, BASE, DST, SRC,
    };
    use crate::wire::tcp::{TcpControl, TcpPacket};

    #[test]
    fn seq_number_wraps_around() {
        let (high, low) = (SeqNumber(0xffff_fff0), SeqNumber(0x10));
        assert!(high < low && high.lt(low) && high.le(low) && !high.ge(low));
        assert!(low > high && low.gt(high) && low.ge(high) && !low.le(high));
        assert_eq!(
            (low.diff(high), high.diff(low), low - high),
            (0x20, -0x20, 0x20)
        );
        assert_eq!((high + 0x20usize, low - 0x20usize), (low, high));
        assert_eq!(
            (high.max(low), high.min(low), low.max(high)),
            (low, high, low)
        );
        let mut s = high;
        s += usize::try_from(0x1_0000_0020u64).unwrap_or(0x20); // modulo 2^32
        assert_eq!(s, low);
        s -= 0x20;
        assert_eq!(s, high);
        assert!(high.le(high) && high.ge(high) && !high.lt(high));
        assert_eq!(high.partial_cmp(&high), Some(Ordering::Equal));
        // 2^31 - 1 ahead is later; exactly 2^31 apart is incomparable.
        assert!(SeqNumber(0).lt(SeqNumber(0x7fff_ffff)));
        assert!(SeqNumber(0).gt(SeqNumber(0x8000_0001)));
        let (a, b) = (SeqNumber(5), SeqNumber(0x8000_0005));
        assert_eq!((a.partial_cmp(&b), b.partial_cmp(&a)), (None, None));
        assert!(!a.lt(b) && !a.gt(b) && !a.le(b) && !a.ge(b));
        assert_eq!((a < b, a >= b, a == b), (false, false, false));
        assert_eq!((a.max(b), a.min(b), b.max(a)), (a, a, b));
        // Not transitive around the circle.
        let q = [0u32, 0x4000_0000, 0x8000_0000, 0xc000_0000].map(SeqNumber);
        assert!(q[0] < q[1] && q[1] < q[2] && q[2] < q[3] && q[3] < q[0]);
        assert_eq!(format!("{high}"), "4294967280");
    }

    #[test]
    fn each_option_round_trips() {
        let options = [
            TcpOption::EndOfList,
            TcpOption::NoOperation,
            TcpOption::MaxSegmentSize(1460),
            TcpOption::WindowScale(7),
            TcpOption::SackPermitted,
            TcpOption::SackRange([block(1, 2), None, None, None]),
            TcpOption::SackRange([block(1, 2), block(3, 4), block(5, 6), block(0xffff_fff0, 7)]),
            TcpOption::Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0xa0b0_c0d0,
            },
            TcpOption::Unknown {
                kind: 30,
                data: &[1, 2, 3],
            },
            TcpOption::Unknown {
                kind: 99,
                data: &[],
            },
        ];
        for option in options {
            let mut buf = [0xeeu8; 40];
            let len = option.emit(&mut buf);
            assert_eq!(len, option.buffer_len());
            assert_eq!(buf[len], 0xee, "{option:?} wrote past its length");
            assert_eq!(TcpOption::parse(&buf[..len]), Ok((option, &[][..])));
            // Too short a buffer: nothing is written.
            let mut short = [0xeeu8; 40];
            assert_eq!(option.emit(&mut short[..len - 1]), 0);
            assert!(short.iter().all(|&b| b == 0xee));
        }
        let mut buf = [0u8; 4];
        TcpOption::MaxSegmentSize(536).emit(&mut buf);
        assert_eq!(buf, [2, 4, 2, 0x18]);
        // A SACK option without blocks emits nothing; gaps are compacted.
        let empty = TcpOption::SackRange([None; 4]);
        assert_eq!((empty.buffer_len(), empty.emit(&mut buf)), (0, 0));
        let mut buf = [0u8; 18];
        let gappy = TcpOption::SackRange([None, block(1, 2), None, block(3, 4)]);
        assert_eq!(gappy.emit(&mut buf), 18);
        assert_eq!(
            TcpOption::parse(&buf).unwrap().0,
            TcpOption::SackRange([block(1, 2), block(3, 4), None, None])
        );
        // An unknown option too long for its length byte is not emitted.
        let data = [0u8; 254];
        let mut buf = [0u8; 300];
        assert_eq!(
            TcpOption::Unknown {
                kind: 9,
                data: &data
            }
            .emit(&mut buf),
            0
        );
    }

    #[test]
    fn malformed_options() {
        let cases: &[&[u8]] = &[
            &[],
            // Kind > 1 without a length byte.
            &[2],
            &[30],
            // Length 0 or 1 for kinds > 1.
            &[2, 0, 5, 0xb4],
            &[2, 1, 5, 0xb4],
            &[30, 0],
            &[30, 1, 0],
            // Length beyond the buffer.
            &[2, 4, 5],
            &[30, 5, 1, 2],
            &[8, 10, 0, 0, 0, 0, 0, 0, 0],
            // Wrong fixed lengths.
            &[2, 3, 5],
            &[2, 5, 5, 0xb4, 0],
            &[3, 2],
            &[3, 4, 7, 0],
            &[4, 3, 0],
            &[8, 8, 0, 0, 0, 0, 0, 0],
            &[8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            // SACK lengths other than 2 + 8n, n = 1..=4.
            &[5, 2],
            &[5, 9, 0, 0, 0, 0, 0, 0, 0],
            &[5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[
                5, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
        ];
        for case in cases {
            assert_eq!(TcpOption::parse(case), Err(Error::Malformed), "{case:?}");
            if !case.is_empty() {
                let mut it = TcpOptions::new(case);
                assert_eq!(it.next(), Some(Err(Error::Malformed)), "{case:?}");
                assert_eq!(it.next(), None);
            }
        }
    }

    #[test]
    fn iterator_stops_at_end_of_list() {
        // NOP, MSS, EOL, then garbage that must not be parsed.
        let bytes = [1, 2, 4, 5, 0xb4, 0, 2, 0, 0xff, 0xff];
        let mut it = TcpOptions::new(&bytes);
        assert_eq!(it.next(), Some(Ok(TcpOption::NoOperation)));
        assert_eq!(it.next(), Some(Ok(TcpOption::MaxSegmentSize(1460))));
        assert_eq!(it.next(), Some(Ok(TcpOption::EndOfList)));
        assert_eq!(it.next(), None);
        assert_eq!(TcpOptions::new(&[]).next(), None);
        // An option after a good one that runs off the end.
        let bytes = [1, 1, 3, 3, 7, 8, 10, 0];
        let results: [_; 4] = core::array::from_fn(|i| TcpOptions::new(&bytes).nth(i));
        assert_eq!(results[2], Some(Ok(TcpOption::WindowScale(7))));
        assert_eq!(results[3], Some(Err(Error::Malformed)));
    }

    #[test]
    fn options_over_40_bytes_drop_sack_blocks() {
        let repr = TcpRepr {
            control: TcpControl::Syn,
            window_scale: Some(7),
            max_seg_size: Some(1460),
            sack_permitted: true,
            sack_ranges: [block(1, 2), block(3, 4), block(5, 6), block(7, 8)],
            ..ack_with_sacks()
        };
        let expected = TcpRepr {
            sack_ranges: [block(1, 2), block(3, 4), None, None],
            ..repr
        };
        assert_eq!(repr.header_len(), 60);
        round_trip(&repr, &expected);
        // Timestamps plus four blocks: 12 + 4 + 32 > 40, three remain.
        let repr = TcpRepr {
            sack_ranges: [block(1, 2), None, block(3, 4), block(5, 6)],
            ..ack_with_sacks()
        };
        let four = TcpRepr {
            sack_ranges: [block(9, 9), block(1, 2), block(3, 4), block(5, 6)],
            ..repr
        };
        assert_eq!(four.header_len(), 60);
        round_trip(
            &four,
            &TcpRepr {
                sack_ranges: [block(9, 9), block(1, 2), block(3, 4), None],
                ..repr
            },
        );
        // Gaps are compacted.
        round_trip(
            &repr,
            &TcpRepr {
                sack_ranges: [block(1, 2), block(3, 4), block(5, 6), None],
                ..repr
            },
        );
    }

    #[test]
    fn malformed_option_lists() {
        let cases: [&[u8]; 9] = [
            &[2, 0, 5, 0xb4],
            &[30, 1, 0, 0],
            &[1, 1, 1, 2],
            &[2, 3, 5, 1],
            &[4, 3, 0, 0],
            &[3, 4, 7, 0],
            &[8, 10, 0, 0, 0, 0, 0, 0],
            &[5, 6, 0, 0, 0, 0, 1, 1],
            &[5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        for options in cases {
            let (buf, len) = with_options(options);
            let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
            assert!(packet.verify_checksum(SRC, DST));
            assert_eq!(
                TcpRepr::parse(&packet, SRC, DST),
                Err(Error::Malformed),
                "{options:?}"
            );
        }
        // Unknown options are skipped, EOL ends the list, WS > 14 means 14.
        let (buf, len) = with_options(&[30, 4, 1, 2, 3, 3, 15, 0, 0xff, 0xff, 0xff, 0xff]);
        let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
        let repr = TcpRepr::parse(&packet, SRC, DST).unwrap();
        assert_eq!(
            repr,
            TcpRepr {
                window_scale: Some(14),
                ..BASE
            }
        );
    }
}
