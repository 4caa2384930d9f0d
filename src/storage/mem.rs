//! In-memory storage: the embedded default where nothing needs to persist.

use super::Storage;
use crate::error::{Error, Result};
use crate::sync::SpinLock;
use std::collections::BTreeMap;

/// Files held in memory. Everything is lost when the value is dropped.
#[derive(Default)]
pub struct MemStorage {
    files: SpinLock<BTreeMap<String, Vec<u8>>>,
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// A storage holding these files (a copy of another one's, say).
    pub fn with_files(files: BTreeMap<String, Vec<u8>>) -> MemStorage {
        MemStorage {
            files: SpinLock::new(files),
        }
    }

    /// A copy of every file: what a crash at this moment would leave on a disk that had
    /// written everything it was asked to.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.files.lock().clone()
    }
}

fn missing(name: &str) -> Error {
    Error::NotFound(name.to_string())
}

impl Storage for MemStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.files.lock().insert(name.to_string(), Vec::new());
        Ok(())
    }

    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        let mut files = self.files.lock();
        let file = files.get_mut(name).ok_or_else(|| missing(name))?;
        file.extend_from_slice(data);
        Ok(())
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let files = self.files.lock();
        let file = files.get(name).ok_or_else(|| missing(name))?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.len());
        let n = buf.len().min(file.len() - start);
        buf[..n].copy_from_slice(&file[start..start + n]);
        Ok(n)
    }

    fn len(&self, name: &str) -> Result<u64> {
        let files = self.files.lock();
        Ok(files.get(name).ok_or_else(|| missing(name))?.len() as u64)
    }

    fn sync(&self, name: &str) -> Result<()> {
        self.files
            .lock()
            .get(name)
            .map(|_| ())
            .ok_or_else(|| missing(name))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        let mut files = self.files.lock();
        let file = files.get_mut(name).ok_or_else(|| missing(name))?;
        file.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.files.lock().remove(name);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>> {
        Ok(self.files.lock().keys().cloned().collect())
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let mut files = self.files.lock();
        let data = files.remove(from).ok_or_else(|| missing(from))?;
        files.insert(to.to_string(), data);
        Ok(())
    }
}
