//! Storage: where a store's files live, behind one small synchronous, file-like trait.
//!
//! Files form a flat namespace of names such as `000001.wal`. Every backend gives the same
//! guarantees: `append` adds bytes at the end; `sync` makes everything appended to that
//! file so far durable; `rename` atomically replaces its target; `create`, `delete` and
//! `rename` are durable when they return.
//!
//! Backends: [`MemStorage`] (nothing persists), [`FsStorage`] (native `std::fs`, not on
//! wasm), `js::JsStorage` (wasm: a JS object with synchronous calls, e.g. Node's `fs`),
//! [`FaultyStorage`] (wraps any backend to simulate crashes and I/O errors). `remote`
//! carries the calls of threads without the files to the thread that owns them.

mod faulty;
#[cfg(not(target_arch = "wasm32"))]
mod fs;
#[cfg(target_arch = "wasm32")]
pub mod js;
mod mem;
// Only the threaded wasm build has files that belong to one thread (natively only its
// tests call it).
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "atomics")),
    allow(dead_code, unused_imports)
)]
pub(crate) mod remote;

pub use faulty::{Faults, FaultyStorage};
#[cfg(not(target_arch = "wasm32"))]
pub use fs::FsStorage;
pub use mem::MemStorage;

use crate::error::Result;

/// Work for the thread that owns a storage's files (see [`Storage::at_owner`]): a log
/// flush another thread needs, which another flush may make needless before it runs.
pub struct OwnerWork {
    run: Box<dyn FnOnce() -> Result<bool> + Send>,
    needed: Box<dyn Fn() -> bool + Send>,
}

impl OwnerWork {
    /// Work that `run` does (its result: whether it made progress), needed for as long
    /// as `needed` answers true.
    pub fn new(
        run: impl FnOnce() -> Result<bool> + Send + 'static,
        needed: impl Fn() -> bool + Send + 'static,
    ) -> OwnerWork {
        OwnerWork {
            run: Box::new(run),
            needed: Box::new(needed),
        }
    }

    /// False once another flush did what this work was for.
    pub fn needed(&self) -> bool {
        (self.needed)()
    }

    /// Does it (if it is still needed): whether it made progress.
    ///
    /// # Errors
    /// Its error.
    pub fn run(self) -> Result<bool> {
        if !self.needed() {
            return Ok(true);
        }
        (self.run)()
    }
}

/// The number in a file name made of decimal digits and `suffix` (`000012.wal`), if it is
/// one.
pub fn parse_numbered_name(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A flat set of named files. Implementations must be safe to call from several threads.
pub trait Storage: Send + Sync {
    /// Creates an empty file, replacing any file of that name.
    fn create(&self, name: &str) -> Result<()>;
    /// Appends `data` to the end of an existing file.
    fn append(&self, name: &str, data: &[u8]) -> Result<()>;
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize>;
    /// The length of a file.
    fn len(&self, name: &str) -> Result<u64>;
    /// Makes every byte appended to `name` so far durable.
    fn sync(&self, name: &str) -> Result<()>;
    /// Cuts a file to `len` bytes.
    fn truncate(&self, name: &str, len: u64) -> Result<()>;
    /// Removes a file (no error if it is absent).
    fn delete(&self, name: &str) -> Result<()>;
    /// The names of every file.
    fn list(&self) -> Result<Vec<String>>;
    /// Renames `from` to `to`, atomically replacing `to`.
    fn rename(&self, from: &str, to: &str) -> Result<()>;

    /// False on a thread that reaches the files through another thread owning them (a
    /// worker attached to a browser store): see [`Storage::at_owner`].
    fn owned_here(&self) -> bool {
        true
    }

    /// Runs `work` on the thread that owns the files and returns its result, waiting for
    /// it; on a thread that owns them, runs it here. A thread that may die while it waits
    /// (a worker terminated) thus holds nothing `work` takes, such as the log's flush.
    ///
    /// # Errors
    /// `work`'s error, or `IO` if the owner does not answer.
    fn at_owner(&self, work: OwnerWork) -> Result<bool> {
        work.run()
    }

    /// The whole content of a file.
    fn read_all(&self, name: &str) -> Result<Vec<u8>> {
        let len = usize::try_from(self.len(name)?)
            .map_err(|_| crate::Error::Io(format!("{name} is too large to read whole")))?;
        let mut buf = vec![0; len];
        let mut at = 0;
        while at < len {
            let n = self.read_at(name, at as u64, &mut buf[at..])?;
            if n == 0 {
                buf.truncate(at);
                break;
            }
            at += n;
        }
        Ok(buf)
    }
}
