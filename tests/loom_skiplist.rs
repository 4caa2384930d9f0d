//! A `loom` model of the skiplist's insert protocol: every interleaving of two concurrent
//! inserters and a reader (bounded by loom's preemption limit). Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_skiplist`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use ppdb::memtable::arena::Arena;
use ppdb::memtable::skiplist::SkipList;

fn keys(list: &SkipList) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut node = list.first();
    while let Some(n) = node {
        assert_eq!(list.value(n), list.key(n), "a reader saw a half-built node");
        out.push(list.key(n).to_vec());
        node = list.next(n);
    }
    out
}

#[test]
fn concurrent_inserts_are_all_linked_in_order_and_readers_see_whole_nodes() {
    check(false);
}

/// The same, each writer inserting its two keys through one splice, which the other
/// writer's inserts make stale in some interleavings.
#[test]
fn inserts_through_a_splice_are_linked_in_order_too() {
    check(true);
}

fn check(with_splice: bool) {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(move || {
        let list = Arc::new(SkipList::new(Arena::new(4096), |a, b| a.cmp(b), 0));
        list.insert(&[b"m"], b"m");
        let writers: Vec<_> = [[b"c", b"x"], [b"d", b"a"]]
            .into_iter()
            .map(|pair| {
                let list = Arc::clone(&list);
                thread::spawn(move || {
                    let mut splice = list.splice();
                    for k in pair {
                        if with_splice {
                            splice.insert(&[k], k);
                        } else {
                            list.insert(&[k], k);
                        }
                    }
                })
            })
            .collect();
        let reader = {
            let list = Arc::clone(&list);
            thread::spawn(move || {
                let seen = keys(&list);
                assert!(seen.windows(2).all(|w| w[0] < w[1]), "unsorted: {seen:?}");
                assert!(seen.contains(&b"m".to_vec()));
            })
        };
        for w in writers {
            w.join().expect("writer");
        }
        reader.join().expect("reader");
        let all = keys(&list);
        let want: Vec<Vec<u8>> = ["a", "c", "d", "m", "x"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        assert_eq!(all, want);
        assert_eq!(list.len(), 5);
    });
}
