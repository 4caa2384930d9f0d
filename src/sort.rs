//! Sorts of the engine's own. Each use of the standard library's sort is its own copy of a
//! large algorithm (driftsort, ipnsort: 2-5 KiB each of the single-threaded wasm, gzipped,
//! whose budget is 150 KiB); these are small, and each is written once.

/// Sorts `items` by `less`, stably: a bottom-up merge sort, skipped when the items are in
/// order already. Not the standard library's sort: each use of that is its own copy of
/// the algorithm, and this one cost 4.8 KiB of the single-threaded wasm (gzipped; its
/// budget is 150 KiB).
pub(crate) fn merge_sort<T: Copy>(items: &mut Vec<T>, less: fn(&T, &T) -> bool) {
    let n = items.len();
    if (1..n).all(|i| !less(&items[i], &items[i - 1])) {
        return;
    }
    let mut from = std::mem::take(items);
    let mut to = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        to.clear();
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (mid + width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                // A tie takes the left (earlier) item: stable.
                if less(&from[j], &from[i]) {
                    to.push(from[j]);
                    j += 1;
                } else {
                    to.push(from[i]);
                    i += 1;
                }
            }
            to.extend_from_slice(&from[i..mid]);
            to.extend_from_slice(&from[j..end]);
        }
        std::mem::swap(&mut from, &mut to);
        width *= 2;
    }
    *items = from;
}

/// Sorts `items` by `less`, stably: an insertion sort, for short lists that are mostly in
/// order already (a level's tables after an edit added a few, a store's log segments).
pub(crate) fn insertion_sort<T>(items: &mut [T], less: fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` (key, position) pairs over `spread` keys: positions show whether equal keys kept
    /// their order.
    fn items(n: usize, spread: u32, x: &mut u32) -> Vec<(u32, usize)> {
        (0..n)
            .map(|i| {
                *x ^= *x << 13;
                *x ^= *x >> 17;
                *x ^= *x << 5;
                (*x % spread.max(1), i)
            })
            .collect()
    }

    #[test]
    fn both_sort_stably_like_the_standard_sort() {
        let mut x = 12_345u32;
        for n in [0usize, 1, 2, 3, 5, 16, 17, 100, 1000, 4097] {
            for spread in [1u32, 3, 50, u32::MAX] {
                let items = items(n, spread, &mut x);
                let mut sorted = items.clone();
                sorted.sort_by_key(|item| item.0);
                for input in [items.clone(), sorted, items.iter().rev().copied().collect()] {
                    let mut want = input.clone();
                    want.sort_by_key(|item| item.0);
                    let mut merged = input.clone();
                    merge_sort(&mut merged, |a, b| a.0 < b.0);
                    assert_eq!(merged, want, "merge sort, {n} items of {spread} keys");
                    // (quadratic: for the short lists it is used for)
                    if n <= 1000 {
                        let mut inserted = input;
                        insertion_sort(&mut inserted, |a, b| a.0 < b.0);
                        assert_eq!(inserted, want, "insertion sort, {n} items of {spread} keys");
                    }
                }
            }
        }
    }
}
