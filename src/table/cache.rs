//! The block cache shared by every table of a store: decoded blocks by (table, offset),
//! least recently used out first, bounded in bytes. Sharded to spread contention; each
//! shard is a spin lock (never parks, so safe on the browser main thread).

use super::block::Block;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::SpinLock;
use lru::LruCache;
use std::sync::Arc;

const SHARDS: usize = 16;

struct Shard {
    blocks: LruCache<(u64, u64), Arc<Block>>,
    bytes: usize,
}

/// Hit and miss counts of a cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found their block.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Bytes of blocks held.
    pub bytes: usize,
}

/// A sharded LRU cache of blocks, bounded by `capacity` bytes.
pub struct BlockCache {
    shards: Vec<SpinLock<Shard>>,
    shard_capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl BlockCache {
    /// A cache holding at most about `capacity` bytes of blocks.
    pub fn new(capacity: usize) -> BlockCache {
        BlockCache {
            shards: (0..SHARDS)
                .map(|_| {
                    SpinLock::new(Shard {
                        blocks: LruCache::unbounded(),
                        bytes: 0,
                    })
                })
                .collect(),
            shard_capacity: capacity / SHARDS,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: (u64, u64)) -> &SpinLock<Shard> {
        let mix =
            key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ key.1.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        &self.shards[(mix >> 59) as usize % SHARDS]
    }

    /// The block of `table` at `offset`, if cached.
    pub fn get(&self, table: u64, offset: u64) -> Option<Arc<Block>> {
        let found = self
            .shard((table, offset))
            .lock()
            .blocks
            .get(&(table, offset))
            .cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Caches a block, evicting the least recently used ones past the capacity.
    pub fn insert(&self, table: u64, offset: u64, block: Arc<Block>) {
        let size = block.size();
        if size > self.shard_capacity {
            return;
        }
        let mut shard = self.shard((table, offset)).lock();
        if let Some(old) = shard.blocks.put((table, offset), block) {
            shard.bytes -= old.size();
        }
        shard.bytes += size;
        while shard.bytes > self.shard_capacity {
            match shard.blocks.pop_lru() {
                Some((_, evicted)) => shard.bytes -= evicted.size(),
                None => break,
            }
        }
    }

    /// Drops every block of `table` (when the table is deleted).
    pub fn forget_table(&self, table: u64) {
        for shard in &self.shards {
            let mut shard = shard.lock();
            let keys: Vec<_> = shard
                .blocks
                .iter()
                .filter(|((t, _), _)| *t == table)
                .map(|(k, _)| *k)
                .collect();
            for key in keys {
                if let Some(block) = shard.blocks.pop(&key) {
                    shard.bytes -= block.size();
                }
            }
        }
    }

    /// Hits, misses and bytes held.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.shards.iter().map(|s| s.lock().bytes).sum(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::table::block::BlockBuilder;

    fn block(fill: u8, len: usize) -> Arc<Block> {
        let mut builder = BlockBuilder::new(16);
        builder.add(&[fill], &vec![fill; len]);
        Arc::new(Block::new(builder.finish()).expect("valid"))
    }

    #[test]
    fn hits_and_misses_are_counted() {
        let cache = BlockCache::new(1 << 20);
        assert!(cache.get(1, 0).is_none());
        cache.insert(1, 0, block(1, 100));
        assert!(cache.get(1, 0).is_some());
        assert!(cache.get(2, 0).is_none());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
    }

    #[test]
    fn the_cache_stays_within_its_capacity_evicting_the_least_recently_used() {
        let cache = BlockCache::new(16 * 10_000);
        for i in 0..1000u64 {
            cache.insert(1, i, block(i as u8, 1000));
        }
        assert!(cache.stats().bytes <= 16 * 10_000);
        assert!(cache.get(1, 999).is_some(), "the newest block stays");
        assert!(cache.get(1, 0).is_none(), "the oldest block went");
        cache.forget_table(1);
        assert_eq!(cache.stats().bytes, 0);
    }
}
