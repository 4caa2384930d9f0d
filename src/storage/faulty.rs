//! A storage wrapper that injects faults, for crash tests (after redb's fuzzer method).
//!
//! It remembers, per file, how many bytes were synced. [`FaultyStorage::crash`] then does
//! what a power cut may do: every file loses what was appended after its last sync, except
//! a random prefix of it (a torn write), which may also come back as garbage. Afterwards
//! every call fails until [`FaultyStorage::restart`], as if the process had died.
//! [`Faults::fail_at`] makes the Nth operation fail with an I/O error;
//! [`FaultyStorage::flip_byte`] corrupts stored data in place.

use super::Storage;
use crate::error::{Error, Result};
use crate::sync::SpinLock;
use std::collections::HashMap;
use std::sync::Arc;

/// What to inject.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Fail the operation with this number (counted from 1 since the last restart), and
    /// every later one, as a crash at that point would.
    pub fail_at: Option<u64>,
    /// On crash, keep a random prefix of each file's unsynced bytes.
    pub torn_writes: bool,
    /// On crash, turn the kept unsynced prefix into random bytes, sometimes.
    pub garbage_tails: bool,
    /// Appends that would make the stored bytes exceed this fail with
    /// [`Error::QuotaExceeded`] (a full disk or an origin out of quota).
    pub quota_bytes: Option<u64>,
}

struct State {
    synced: HashMap<String, u64>,
    ops: u64,
    faults: Faults,
    crashed: bool,
    rng: u64,
}

/// Wraps a storage and injects faults into it.
pub struct FaultyStorage {
    inner: Arc<dyn Storage>,
    state: SpinLock<State>,
}

impl FaultyStorage {
    /// Wraps `inner`; `seed` drives every random choice.
    pub fn new(inner: Arc<dyn Storage>, seed: u64) -> FaultyStorage {
        FaultyStorage {
            inner,
            state: SpinLock::new(State {
                synced: HashMap::new(),
                ops: 0,
                faults: Faults::default(),
                crashed: false,
                rng: seed | 1,
            }),
        }
    }

    /// Sets the faults to inject from now on.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.state.lock();
        state.faults = faults;
        state.ops = 0;
    }

    /// Operations attempted since the last `set_faults` or `restart`.
    pub fn ops(&self) -> u64 {
        self.state.lock().ops
    }

    /// Simulates a power cut: unsynced data is lost (or torn), then every call fails.
    ///
    /// # Errors
    /// Errors of the wrapped storage while cutting files back.
    pub fn crash(&self) -> Result<()> {
        let mut state = self.state.lock();
        state.crashed = true;
        for name in self.inner.list()? {
            let len = self.inner.len(&name)?;
            let synced = state.synced.get(&name).copied().unwrap_or(0).min(len);
            let unsynced = len - synced;
            let keep = if state.faults.torn_writes && unsynced > 0 {
                next(&mut state.rng) % (unsynced + 1)
            } else {
                0
            };
            if keep > 0 && state.faults.garbage_tails && next(&mut state.rng).is_multiple_of(4) {
                let mut garbage = vec![0u8; keep as usize];
                garbage
                    .iter_mut()
                    .for_each(|b| *b = next(&mut state.rng) as u8);
                self.inner.truncate(&name, synced)?;
                self.inner.append(&name, &garbage)?;
            } else {
                self.inner.truncate(&name, synced + keep)?;
            }
            state.synced.insert(name, synced + keep);
        }
        Ok(())
    }

    /// Brings the storage back after a crash, with no faults set.
    pub fn restart(&self) {
        let mut state = self.state.lock();
        state.crashed = false;
        state.ops = 0;
        state.faults = Faults::default();
    }

    /// Flips the bits of one stored byte.
    ///
    /// # Errors
    /// Errors of the wrapped storage.
    pub fn flip_byte(&self, name: &str, offset: u64) -> Result<()> {
        let mut data = self.inner.read_all(name)?;
        let Some(byte) = data.get_mut(offset as usize) else {
            return Err(Error::invalid("offset past the end of the file"));
        };
        *byte ^= 0xff;
        self.inner.create(name)?;
        self.inner.append(name, &data)?;
        self.inner.sync(name)
    }

    /// Counts an operation and fails it if a fault is due.
    fn enter(&self, what: &str, name: &str) -> Result<()> {
        let mut state = self.state.lock();
        if state.crashed {
            return Err(Error::Io(format!("{what} {name}: the storage has crashed")));
        }
        state.ops += 1;
        if state.faults.fail_at.is_some_and(|n| state.ops >= n) {
            return Err(Error::Io(format!("{what} {name}: injected failure")));
        }
        Ok(())
    }
}

fn next(rng: &mut u64) -> u64 {
    // xorshift64*
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

impl Storage for FaultyStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.enter("create", name)?;
        self.inner.create(name)?;
        self.state.lock().synced.insert(name.to_string(), 0);
        Ok(())
    }

    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.enter("append", name)?;
        if let Some(quota) = self.state.lock().faults.quota_bytes {
            let mut stored = 0;
            for file in self.inner.list()? {
                stored += self.inner.len(&file)?;
            }
            if stored + data.len() as u64 > quota {
                return Err(Error::QuotaExceeded(format!(
                    "append {name}: {quota} bytes used up"
                )));
            }
        }
        self.inner.append(name, data)
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.enter("read", name)?;
        self.inner.read_at(name, offset, buf)
    }

    fn len(&self, name: &str) -> Result<u64> {
        self.enter("len", name)?;
        self.inner.len(name)
    }

    fn sync(&self, name: &str) -> Result<()> {
        self.enter("sync", name)?;
        self.inner.sync(name)?;
        let len = self.inner.len(name)?;
        self.state.lock().synced.insert(name.to_string(), len);
        Ok(())
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        self.enter("truncate", name)?;
        self.inner.truncate(name, len)?;
        let mut state = self.state.lock();
        let synced = state.synced.entry(name.to_string()).or_insert(0);
        *synced = len;
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.enter("delete", name)?;
        self.inner.delete(name)?;
        self.state.lock().synced.remove(name);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>> {
        self.enter("list", "")?;
        self.inner.list()
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.enter("rename", from)?;
        self.inner.rename(from, to)?;
        let mut state = self.state.lock();
        let synced = state.synced.remove(from).unwrap_or(0);
        state.synced.insert(to.to_string(), synced);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::storage::MemStorage;

    #[test]
    fn a_crash_loses_exactly_the_unsynced_bytes() {
        let faulty = FaultyStorage::new(Arc::new(MemStorage::new()), 1);
        faulty.create("f").expect("create");
        faulty.append("f", b"durable").expect("append");
        faulty.sync("f").expect("sync");
        faulty.append("f", b" lost").expect("append");
        faulty.crash().expect("crash");
        assert_eq!(faulty.len("f").expect_err("crashed").code(), "IO");
        faulty.restart();
        assert_eq!(faulty.read_all("f").expect("read"), b"durable");
    }

    #[test]
    fn torn_writes_keep_a_prefix_of_the_unsynced_bytes() {
        let mut kept = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let faulty = FaultyStorage::new(Arc::new(MemStorage::new()), seed);
            faulty.set_faults(Faults {
                torn_writes: true,
                ..Faults::default()
            });
            faulty.create("f").expect("create");
            faulty.append("f", b"abcdefgh").expect("append");
            faulty.crash().expect("crash");
            faulty.restart();
            let data = faulty.read_all("f").expect("read");
            assert!(b"abcdefgh".starts_with(&data));
            kept.insert(data.len());
        }
        assert!(kept.len() > 3, "tears should vary: {kept:?}");
    }

    #[test]
    fn the_nth_operation_fails_and_so_does_every_later_one() {
        let faulty = FaultyStorage::new(Arc::new(MemStorage::new()), 1);
        faulty.set_faults(Faults {
            fail_at: Some(3),
            ..Faults::default()
        });
        faulty.create("f").expect("op 1");
        faulty.append("f", b"x").expect("op 2");
        assert_eq!(faulty.sync("f").expect_err("op 3").code(), "IO");
        assert!(faulty.append("f", b"y").is_err());
    }
}
