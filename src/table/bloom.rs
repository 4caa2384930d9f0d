//! The bloom filter of a table: one filter over the user keys of the whole table.
//!
//! Bytes: the bit array (`m` bits, `ceil(m / 8)` bytes, bit `i` is `byte[i / 8] >> (i % 8)`),
//! then one byte `k`, the number of probes. Key `x` sets bits `(h1 + i * h2) mod m` for
//! `i` in `0..k`, where `h = xxh3_64(x)`, `h1 = h mod 2^32`, `h2 = (h >> 32) | 1`.

/// Collects the keys of a table and builds its filter.
pub struct BloomBuilder {
    bits_per_key: usize,
    hashes: Vec<u64>,
}

fn probes(bits_per_key: usize) -> u8 {
    // k = bits_per_key * ln 2 minimizes the false positive rate.
    ((bits_per_key as f64 * std::f64::consts::LN_2).round() as u8).clamp(1, 30)
}

impl BloomBuilder {
    /// A builder spending about `bits_per_key` bits on each key.
    pub fn new(bits_per_key: usize) -> BloomBuilder {
        BloomBuilder {
            bits_per_key: bits_per_key.max(1),
            hashes: Vec::new(),
        }
    }

    /// Adds a user key.
    pub fn add(&mut self, user_key: &[u8]) {
        self.hashes.push(xxhash_rust::xxh3::xxh3_64(user_key));
    }

    /// The filter's bytes.
    pub fn finish(&self) -> Vec<u8> {
        let bits = (self.hashes.len() * self.bits_per_key).max(64);
        let bytes = bits.div_ceil(8);
        let m = (bytes * 8) as u64;
        let k = probes(self.bits_per_key);
        let mut out = vec![0u8; bytes + 1];
        for &h in &self.hashes {
            let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
            for i in 0..k as u64 {
                let bit = (h1.wrapping_add(i.wrapping_mul(h2))) % m;
                out[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        out[bytes] = k;
        out
    }
}

/// False if `user_key` is certainly not in the table; true if it may be. A malformed filter
/// says "may be" (it can only cost a read, never hide data).
pub fn may_contain(filter: &[u8], user_key: &[u8]) -> bool {
    let Some((&k, bits)) = filter.split_last() else {
        return true;
    };
    if bits.is_empty() || k == 0 || k > 30 {
        return true;
    }
    let m = (bits.len() * 8) as u64;
    let h = xxhash_rust::xxh3::xxh3_64(user_key);
    let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
    (0..k as u64).all(|i| {
        let bit = (h1.wrapping_add(i.wrapping_mul(h2))) % m;
        bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_added_key_may_be_contained() {
        let mut builder = BloomBuilder::new(10);
        for i in 0..10_000u32 {
            builder.add(&i.to_be_bytes());
        }
        let filter = builder.finish();
        assert!((0..10_000u32).all(|i| may_contain(&filter, &i.to_be_bytes())));
    }

    #[test]
    fn the_false_positive_rate_is_within_twice_the_theory() {
        let n = 20_000u32;
        let mut builder = BloomBuilder::new(10);
        for i in 0..n {
            builder.add(format!("key-{i}").as_bytes());
        }
        let filter = builder.finish();
        let trials = 200_000u32;
        let false_positives = (0..trials)
            .filter(|i| may_contain(&filter, format!("other-{i}").as_bytes()))
            .count();
        let rate = false_positives as f64 / trials as f64;
        // (1 - e^(-k n / m))^k with m / n = 10 and k = 7.
        let k = 7.0;
        let theory = (1.0 - (-k / 10.0f64).exp()).powf(k);
        assert!(
            rate < 2.0 * theory,
            "false positive rate {rate:.4}, theory {theory:.4}"
        );
        assert!(
            rate > theory / 4.0,
            "suspiciously low rate {rate:.5}: is the filter checking anything?"
        );
    }

    #[test]
    fn an_empty_or_malformed_filter_says_maybe() {
        assert!(may_contain(&[], b"x"));
        assert!(may_contain(&[0, 0, 0, 99], b"x"));
        let empty = BloomBuilder::new(10).finish();
        assert!(
            !may_contain(&empty, b"x"),
            "a filter of no keys contains nothing"
        );
    }
}
