//! The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
//! complement sum of the data taken as big-endian 16-bit words.

use core::net::Ipv4Addr;

/// One's complement sum of `data` (not yet complemented), folded to 16 bits.
/// An odd trailing byte is padded with zero on the right (RFC 1071 §1).
///
/// Both ways below take the words in the machine's byte order and swap the
/// bytes of the sum at the end where the machine is little-endian: the one's
/// complement sum does not depend on the order in which words are added
/// nor on their width, and swapping the bytes of every word swaps the
/// bytes of the sum (RFC 1071 §2 (A), (B), (C)). A 64-bit machine adds
/// 16-bit words in 32 independent lanes, which its compiler turns into
/// vector additions; a 32-bit one adds 64-bit words with end-around carry.
pub fn sum(data: &[u8]) -> u16 {
    #[cfg(target_pointer_width = "64")]
    {
        sum_lanes(data)
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        sum_carry(data)
    }
}

/// [`sum`] in 32 lanes of 16-bit words into 32-bit accumulators, a
/// 64-byte block at a time. A lane takes at most 1,024 words (one 64 KiB
/// stretch) before the lanes are added up, so it cannot overflow.
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
pub(crate) fn sum_lanes(data: &[u8]) -> u16 {
    let mut total: u64 = 0;
    let mut stretches = data.chunks(64 * 1024);
    for part in &mut stretches {
        let mut lanes = [0u32; 32];
        let mut blocks = part.chunks_exact(64);
        for b in &mut blocks {
            for (lane, w) in lanes.iter_mut().zip(b.chunks_exact(2)) {
                *lane += u32::from(u16::from_ne_bytes([w[0], w[1]]));
            }
        }
        total += lanes.iter().map(|&l| u64::from(l)).sum::<u64>();
        let mut words = blocks.remainder().chunks_exact(2);
        for w in &mut words {
            total += u64::from(u16::from_ne_bytes([w[0], w[1]]));
        }
        // An odd byte (only at the very end: stretches are even) is the
        // high half of its big-endian word.
        if let [x] = words.remainder() {
            total += u64::from(u16::from_ne_bytes([*x, 0]));
        }
    }
    u16::from_be(fold(total))
}

/// [`sum`] over 64-bit words with end-around carry, in two accumulators.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
pub(crate) fn sum_carry(data: &[u8]) -> u16 {
    #[inline(always)]
    fn word(w: &[u8]) -> u64 {
        u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
    }
    /// One's complement addition: the carry out goes back in at the
    /// bottom.
    #[inline(always)]
    fn add(acc: u64, w: u64) -> u64 {
        let (s, carry) = acc.overflowing_add(w);
        s + u64::from(carry)
    }
    let (mut a, mut b) = (0u64, 0u64);
    let mut blocks = data.chunks_exact(32);
    for c in &mut blocks {
        a = add(add(a, word(&c[0..8])), word(&c[8..16]));
        b = add(add(b, word(&c[16..24])), word(&c[24..32]));
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        a = add(a, word(w));
    }
    // The last 0..=7 bytes, padded with zeros on the right: an odd byte
    // is the high half of its big-endian word.
    let rest = words.remainder();
    let mut last = [0u8; 8];
    for (d, s) in last.iter_mut().zip(rest) {
        *d = *s;
    }
    let total = add(add(a, b), word(&last));
    // Fold 64 -> 32 -> 16 bits, each with end-around carry.
    let folded = (total & 0xffff_ffff) + (total >> 32);
    u16::from_be(fold(folded))
}

/// Folds a wide one's complement accumulator to 16 bits.
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// One's complement addition of several partial sums.
pub fn combine(parts: &[u16]) -> u16 {
    fold(parts.iter().map(|&p| u64::from(p)).sum())
}

/// The partial sum of the IPv4 pseudo-header used by UDP and TCP
/// (RFC 768, RFC 9293 §3.1): source, destination, zero, protocol, length.
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u32) -> u16 {
    let s = src.octets();
    let d = dst.octets();
    let mut acc = u64::from(u16::from_be_bytes([s[0], s[1]]))
        + u64::from(u16::from_be_bytes([s[2], s[3]]))
        + u64::from(u16::from_be_bytes([d[0], d[1]]))
        + u64::from(u16::from_be_bytes([d[2], d[3]]))
        + u64::from(protocol);
    acc += u64::from(length >> 16) + u64::from(length & 0xffff);
    fold(acc)
}

/// The checksum to put in a header: the complement of the sum.
pub fn finish(sum: u16) -> u16 {
    !sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn odd_length_pads_right() {
        assert_eq!(sum(&[0x12]), 0x1200);
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    /// The 16-bit big-endian sum RFC 1071 describes, word by word.
    fn naive(data: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        for c in data.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
        }
        fold(acc)
    }

    #[test]
    fn every_length_and_alignment_matches_naive() {
        let data: [u8; 300] = core::array::from_fn(|i| (i * 151 + 7) as u8 ^ (i >> 3) as u8);
        for start in 0..8 {
            for end in start..data.len() {
                assert_eq!(
                    sum(&data[start..end]),
                    naive(&data[start..end]),
                    "{start}..{end}"
                );
            }
        }
        // Carries: all ones, long.
        let ones = [0xffu8; 4099];
        assert_eq!(sum(&ones), naive(&ones));
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn wide_input_matches_naive() {
        let data: [u8; 37] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        let mut naive: u32 = 0;
        for c in data.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from(c[0]) << 8
            };
            naive += u32::from(w);
        }
        while naive > 0xffff {
            naive = (naive & 0xffff) + (naive >> 16);
        }
        assert_eq!(sum(&data), naive as u16);
    }
}
