//! The Internet checksum (64-bit words with end-around carry) against the
//! word-by-word RFC 1071 sum on random data, every length 0..2000 at
//! offsets 0..8, plus carry-heavy inputs.

use wolfip_core::wire::checksum::{combine, fold, sum};

/// xorshift64*, fixed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn naive(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    for c in data.chunks(2) {
        acc += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
    }
    fold(acc)
}

#[test]
fn random_data_every_length_and_offset_matches_naive() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; 2000 + 8];
    for round in 0..4 {
        for b in buf.iter_mut() {
            *b = match round {
                // Mostly 0xff: long carry chains.
                0 => 0xff ^ (rng.next() % 64 == 0) as u8,
                1 => 0xff,
                _ => rng.next() as u8,
            };
        }
        for off in 0..8 {
            for len in 0..2000 {
                let d = &buf[off..off + len];
                assert_eq!(sum(d), naive(d), "round {round} off {off} len {len}");
            }
        }
    }
}

#[test]
fn split_sums_combine_like_the_whole() {
    // Splitting at even offsets and combining must give the whole sum
    // (the way headers and payloads are summed separately).
    let mut rng = Rng(42);
    let data: Vec<u8> = (0..1600).map(|_| rng.next() as u8).collect();
    for cut in (0..data.len()).step_by(2) {
        let (a, b) = data.split_at(cut);
        assert_eq!(combine(&[sum(a), sum(b)]), naive(&data), "cut {cut}");
    }
}
