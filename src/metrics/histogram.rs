//! A lock-free latency histogram: log-linear buckets of microseconds (exact below 16 µs,
//! then 8 buckets per power of two, so any quantile is within 12.5%), plus the exact count,
//! sum and maximum. Recording is three relaxed atomic adds and a max; nothing locks.

use crate::sync::atomic::{AtomicU64, Ordering};

/// Values below this are counted in a bucket of their own.
const EXACT: u64 = 16;
/// Buckets per power of two above `EXACT` (3 bits of mantissa).
const SUB_BITS: u32 = 3;
const SUBS: usize = 1 << SUB_BITS;
/// Powers of two covered above `EXACT`: 2^4 .. 2^44 µs (about 200 days).
const OCTAVES: usize = 40;
const BUCKETS: usize = EXACT as usize + OCTAVES * SUBS;

/// Latencies in microseconds.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

/// Quantiles and totals of a [`Histogram`], in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    /// Values recorded.
    pub count: u64,
    /// Their sum.
    pub sum: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest value recorded (exact).
    pub max: u64,
}

fn bucket_of(micros: u64) -> usize {
    if micros < EXACT {
        return micros as usize;
    }
    let octave = 63 - micros.leading_zeros(); // >= 4
    let sub = (micros >> (octave - SUB_BITS)) as usize & (SUBS - 1);
    let index = EXACT as usize + (octave as usize - 4) * SUBS + sub;
    index.min(BUCKETS - 1)
}

/// The largest value bucket `index` holds.
fn upper_bound(index: usize) -> u64 {
    if index < EXACT as usize {
        return index as u64;
    }
    let octave = ((index - EXACT as usize) / SUBS) as u32 + 4;
    let sub = ((index - EXACT as usize) % SUBS) as u64;
    let low = (1u64 << octave) + (sub << (octave - SUB_BITS));
    low + (1u64 << (octave - SUB_BITS)) - 1
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one latency.
    pub fn record(&self, micros: u64) {
        self.buckets[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(micros, Ordering::Relaxed);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    /// Quantiles of everything recorded so far (each the upper bound of its bucket, and
    /// never above the maximum).
    pub fn summary(&self) -> Summary {
        let mut summary = summarize(&self.counts().0, self.max.load(Ordering::Relaxed));
        summary.sum = self.sum.load(Ordering::Relaxed);
        summary
    }

    /// The count of every bucket now (subtract an earlier copy for a window).
    pub fn counts(&self) -> Counts {
        Counts(
            self.buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        )
    }
}

/// A copy of a histogram's bucket counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(Vec<u64>);

impl Counts {
    /// Quantiles of what was recorded between `earlier` and these counts (`sum` is not
    /// known here and is 0; `max` is the bound of the highest bucket used).
    pub fn since(&self, earlier: &Counts) -> Summary {
        let window: Vec<u64> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, &n)| n.saturating_sub(earlier.0.get(i).copied().unwrap_or(0)))
            .collect();
        let max = window.iter().rposition(|&n| n > 0).map_or(0, upper_bound);
        summarize(&window, max)
    }
}

/// Quantiles of bucket `counts`, none above `max`.
fn summarize(counts: &[u64], max: u64) -> Summary {
    let total: u64 = counts.iter().sum();
    let quantile = |q: f64| -> u64 {
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, &n) in counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return upper_bound(index).min(max);
            }
        }
        max
    };
    Summary {
        count: total,
        sum: 0,
        p50: quantile(0.50),
        p90: quantile(0.90),
        p99: quantile(0.99),
        max,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order_and_bound_it() {
        let mut last = 0;
        for v in (0..5_000u64).chain([1 << 20, 123_456_789, u64::MAX / 2]) {
            let b = bucket_of(v);
            assert!(b >= last || v > 5_000, "buckets grow with the value");
            last = b;
            assert!(
                upper_bound(b) >= v.min(upper_bound(BUCKETS - 1)),
                "{v} in {b}"
            );
            if v >= EXACT && b < BUCKETS - 1 {
                assert!(upper_bound(b) - v <= v / 8, "{v}: bound {}", upper_bound(b));
            }
        }
    }

    #[test]
    fn quantiles_come_within_an_eighth_of_the_true_value() {
        let h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert_eq!(s.sum, 10_000 * 10_001 / 2);
        assert_eq!(s.max, 10_000);
        for (got, want) in [(s.p50, 5_000u64), (s.p90, 9_000), (s.p99, 9_900)] {
            assert!(got >= want && got <= want + want / 8, "{got} for {want}");
        }
        assert_eq!(Histogram::default().summary(), Summary::default());
    }

    #[test]
    fn a_window_sees_only_what_came_after_its_start() {
        let h = Histogram::default();
        for _ in 0..1_000 {
            h.record(10_000);
        }
        let start = h.counts();
        for _ in 0..100 {
            h.record(20);
        }
        let window = h.counts().since(&start);
        assert_eq!(window.count, 100);
        assert!(window.p99 >= 20 && window.p99 <= 22, "{window:?}");
        assert!(window.max < 30);
        assert_eq!(h.counts().since(&h.counts()).count, 0);
    }
}
