//! # ppdb
//!
//! An embedded LSM key-value store for WebAssembly (browsers, workers, edge runtimes, Node)
//! and native Rust. Keys are byte strings ordered bytewise; writes are atomic batches;
//! readers see consistent snapshots.
//!
//! ```
//! use ppdb::{Db, Options, ScanOptions, WriteBatch};
//!
//! let db = Db::open_in_memory(Options::default());
//! db.put(b"apple", b"red")?;
//! let mut batch = WriteBatch::new();
//! batch.put(b"banana", b"yellow").delete(b"apple");
//! db.write(&batch)?;
//! assert_eq!(db.get(b"banana")?, Some(b"yellow".to_vec()));
//! let keys: Vec<_> = db.scan(ScanOptions::all())?.map(|(k, _)| k).collect();
//! assert_eq!(keys, vec![b"banana".to_vec()]);
//! # Ok::<(), ppdb::Error>(())
//! ```
//!
//! See `docs/architecture.md` for the layers and `docs/format.md` for the bytes.

// The threaded wasm build (a pinned nightly) wakes a store's I/O owner with
// `memory.atomic.notify` (storage::remote).
#![cfg_attr(
    all(target_arch = "wasm32", target_feature = "atomics"),
    feature(stdarch_wasm_atomic_wait)
)]

pub mod batch;
mod clock;
mod db;
pub mod error;
pub mod iter;
pub mod key;
pub mod memtable;
pub mod metrics;
pub mod options;
mod sort;
pub mod storage;
pub mod sync;
pub mod table;
pub mod version;
pub mod wal;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[doc(hidden)]
pub mod bench;

pub use batch::WriteBatch;
pub use db::{Db, DbStats, Dropped, RecoveryReport, Snapshot, WeakDb};
pub use error::{Error, Result};
pub use iter::{DbIter, ScanOptions};
pub use options::{Durability, Options, RecoveryMode};
pub use storage::Storage;
