//! Native storage on `std::fs`: one directory per store, a `LOCK` file held with an OS lock
//! so a second process opening the same store gets [`Error::Locked`].

use super::Storage;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const LOCK_FILE: &str = "LOCK";

/// Files in a directory of the native file system.
pub struct FsStorage {
    dir: PathBuf,
    /// Open handles for appending and syncing, by file name.
    handles: Mutex<HashMap<String, Arc<File>>>,
    /// Held for the life of the storage: the OS lock on `LOCK`.
    _lock: File,
}

impl FsStorage {
    /// Opens (creating it if needed) the store directory `dir` and locks it.
    ///
    /// # Errors
    /// [`Error::Locked`] if another process holds the store; [`Error::Io`] otherwise.
    pub fn open(dir: impl AsRef<Path>) -> Result<FsStorage> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::from_io("create the store directory", &e))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(|e| Error::from_io("open LOCK", &e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked(format!(
                    "{} is open in another process",
                    dir.display()
                )))
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::from_io("lock LOCK", &e)),
        }
        Ok(FsStorage {
            dir,
            handles: Mutex::new(HashMap::new()),
            _lock: lock,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn handles(&self) -> MutexGuard<'_, HashMap<String, Arc<File>>> {
        // A poisoned map of handles is still a valid map.
        self.handles.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn handle(&self, name: &str) -> Result<Arc<File>> {
        if let Some(file) = self.handles().get(name) {
            return Ok(Arc::clone(file));
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(self.path(name))
            .map_err(|e| Error::from_io(name, &e))?;
        let file = Arc::new(file);
        self.handles().insert(name.to_string(), Arc::clone(&file));
        Ok(file)
    }

    fn sync_dir(&self) -> Result<()> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::from_io("sync the store directory", &e))
    }
}

impl Storage for FsStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.handles().remove(name);
        File::create(self.path(name)).map_err(|e| Error::from_io(name, &e))?;
        self.sync_dir()
    }

    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        let file = self.handle(name)?;
        (&*file)
            .write_all(data)
            .map_err(|e| Error::from_io(name, &e))
    }

    #[cfg(unix)]
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        use std::os::unix::fs::FileExt;
        // Positional reads on the cached handle: no open, seek or close per read.
        let file = self.handle(name)?;
        let mut read = 0;
        while read < buf.len() {
            match file.read_at(&mut buf[read..], offset + read as u64) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(name, &e)),
            }
        }
        Ok(read)
    }

    #[cfg(not(unix))]
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(self.path(name)).map_err(|e| Error::from_io(name, &e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::from_io(name, &e))?;
        let mut read = 0;
        while read < buf.len() {
            match file.read(&mut buf[read..]) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(name, &e)),
            }
        }
        Ok(read)
    }

    fn len(&self, name: &str) -> Result<u64> {
        fs::metadata(self.path(name))
            .map(|m| m.len())
            .map_err(|e| Error::from_io(name, &e))
    }

    fn sync(&self, name: &str) -> Result<()> {
        self.handle(name)?
            .sync_data()
            .map_err(|e| Error::from_io(name, &e))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        let file = self.handle(name)?;
        file.set_len(len).map_err(|e| Error::from_io(name, &e))?;
        file.sync_all().map_err(|e| Error::from_io(name, &e))
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.handles().remove(name);
        match fs::remove_file(self.path(name)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::from_io(name, &e)),
        }
    }

    fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| Error::from_io("list", &e))? {
            let entry = entry.map_err(|e| Error::from_io("list", &e))?;
            if let Some(name) = entry.file_name().to_str() {
                if name != LOCK_FILE && entry.path().is_file() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let mut handles = self.handles();
        handles.remove(from);
        handles.remove(to);
        drop(handles);
        fs::rename(self.path(from), self.path(to)).map_err(|e| Error::from_io(from, &e))?;
        self.sync_dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ppdb-fs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn files_round_trip_and_survive_reopening() {
        let dir = temp_dir("roundtrip");
        {
            let storage = FsStorage::open(&dir).expect("open");
            storage.create("a.wal").expect("create");
            storage.append("a.wal", b"hello ").expect("append");
            storage.append("a.wal", b"world").expect("append");
            storage.sync("a.wal").expect("sync");
            storage.create("tmp").expect("create");
            storage.append("tmp", b"x").expect("append");
            storage.rename("tmp", "CURRENT").expect("rename");
        }
        let storage = FsStorage::open(&dir).expect("reopen");
        assert_eq!(storage.read_all("a.wal").expect("read"), b"hello world");
        assert_eq!(storage.list().expect("list"), vec!["CURRENT", "a.wal"]);
        let mut buf = [0u8; 5];
        assert_eq!(storage.read_at("a.wal", 6, &mut buf).expect("read"), 5);
        assert_eq!(&buf, b"world");
        storage.truncate("a.wal", 5).expect("truncate");
        assert_eq!(storage.len("a.wal").expect("len"), 5);
        storage.delete("a.wal").expect("delete");
        storage.delete("a.wal").expect("deleting twice is fine");
        assert_eq!(storage.len("a.wal").expect_err("gone").code(), "NOT_FOUND");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_open_of_the_same_directory_is_locked() {
        let dir = temp_dir("lock");
        let first = FsStorage::open(&dir).expect("open");
        let second = FsStorage::open(&dir).err().expect("locked");
        assert_eq!(second.code(), "LOCKED");
        drop(first);
        FsStorage::open(&dir).expect("free again after the first closed");
        let _ = fs::remove_dir_all(&dir);
    }
}
