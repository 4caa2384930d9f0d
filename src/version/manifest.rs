//! The manifest: a log (the WAL's framing) of version edits, and `CURRENT`, which names the
//! live manifest. A new manifest starts with a snapshot of the whole version and becomes
//! live when `CURRENT` is replaced (write `CURRENT.tmp`, sync, rename), so a crash at any
//! point leaves either the old or the new set of tables.

use super::edit::{FileMeta, VersionEdit};
use super::version::Version;
use crate::error::{Error, Result};
use crate::key::SequenceNumber;
use crate::storage::Storage;
use crate::sync::SpinLock;
use crate::table::{BlockCache, Table};
use crate::wal::format::frame;
use crate::wal::reader::{LogEvent, LogReader};
use arc_swap::ArcSwap;
use std::sync::Arc;

const CURRENT: &str = "CURRENT";

/// The file name of table `number`.
pub fn table_name(number: u64) -> String {
    format!("{number:06}.sst")
}

/// The table number of a file name, if it names a table.
pub fn parse_table_name(name: &str) -> Option<u64> {
    crate::storage::parse_numbered_name(name, ".sst")
}

/// The table files among `names` that `version` does not list (left by a flush or
/// compaction that did not commit).
pub fn unlisted_tables<'a>(
    names: &'a [String],
    version: &'a Version,
) -> impl Iterator<Item = &'a String> {
    names.iter().filter(move |name| {
        parse_table_name(name)
            .is_some_and(|number| !version.files().any(|(_, f)| f.meta.number == number))
    })
}

/// Opens the table a manifest entry describes, sharing the block cache.
fn open_table(
    storage: &Arc<dyn Storage>,
    cache: &Arc<BlockCache>,
    meta: &FileMeta,
) -> Result<Arc<Table>> {
    Table::open(
        Arc::clone(storage),
        &table_name(meta.number),
        meta.number,
        Some(Arc::clone(cache)),
    )
    .map(Arc::new)
}

fn manifest_name(number: u64) -> String {
    format!("MANIFEST-{number:06}")
}

struct Log {
    name: String,
    offset: u64,
    next_table: u64,
    log_number: u64,
    last_sequence: SequenceNumber,
}

/// The current version and the manifest that records it.
pub struct VersionSet {
    storage: Arc<dyn Storage>,
    cache: Arc<BlockCache>,
    current: ArcSwap<Version>,
    log: SpinLock<Log>,
}

/// What the manifest said at open.
pub struct Recovered {
    /// Log segments below this are covered by tables.
    pub log_number: u64,
    /// Every write up to here is in a table.
    pub last_sequence: SequenceNumber,
}

impl VersionSet {
    /// Reads `CURRENT` and its manifest (if any), opens the live tables, deletes tables
    /// no version uses, and starts a fresh manifest holding a snapshot.
    ///
    /// # Errors
    /// [`Error::Corruption`] for a damaged manifest or table; storage errors.
    pub fn open(
        storage: Arc<dyn Storage>,
        cache: Arc<BlockCache>,
    ) -> Result<(VersionSet, Recovered)> {
        let names = storage.list()?;
        let mut version = Version::default();
        let mut live: std::collections::BTreeMap<u64, (u32, FileMeta)> =
            std::collections::BTreeMap::new();
        let mut state = Log {
            name: String::new(),
            offset: 0,
            next_table: 1,
            log_number: 0,
            last_sequence: 0,
        };
        let open_table = |meta: &FileMeta| open_table(&storage, &cache, meta);
        if names.iter().any(|n| n == CURRENT) {
            let current = String::from_utf8(storage.read_all(CURRENT)?)
                .map_err(|_| Error::Corruption("CURRENT is not text".into()))?;
            let manifest = current.trim_end().to_string();
            if !manifest.starts_with("MANIFEST-") {
                return Err(Error::Corruption(format!("CURRENT names {manifest:?}")));
            }
            let data = storage.read_all(&manifest)?;
            let events: Vec<LogEvent> = LogReader::new(&data).collect();
            // A manifest starts with a snapshot that was synced before CURRENT named it:
            // without an intact first record the set of tables is unknown.
            if !matches!(events.first(), Some(LogEvent::Record { .. })) {
                return Err(Error::Corruption(format!(
                    "{manifest}: its first record (the snapshot) is damaged"
                )));
            }
            let last_record = events
                .iter()
                .rposition(|e| matches!(e, LogEvent::Record { .. }));
            for (i, event) in events.iter().enumerate() {
                match event {
                    LogEvent::Record { data, .. } => {
                        let edit = VersionEdit::decode(data)?;
                        // Only the final set of tables is opened: earlier ones may be gone.
                        for (_, number) in &edit.deleted {
                            live.remove(number);
                        }
                        for (level, meta) in &edit.added {
                            live.insert(meta.number, (*level, meta.clone()));
                        }
                        state.next_table = edit
                            .next_table
                            .unwrap_or(state.next_table)
                            .max(state.next_table);
                        state.log_number = edit.log_number.unwrap_or(state.log_number);
                        state.last_sequence = edit.last_sequence.unwrap_or(state.last_sequence);
                    }
                    // A torn last record was never acknowledged; damage before the last
                    // good record loses tables.
                    LogEvent::Damaged { reason, .. }
                        if last_record.is_some_and(|last| i < last) =>
                    {
                        return Err(Error::Corruption(format!("{manifest}: {reason}")));
                    }
                    LogEvent::Damaged { .. } => {}
                }
            }
        }
        let snapshot = VersionEdit {
            added: live.into_values().collect(),
            ..VersionEdit::default()
        };
        version = version.apply(&snapshot, &open_table)?;
        for (_, file) in version.files() {
            state.next_table = state.next_table.max(file.meta.number + 1);
        }
        for name in unlisted_tables(&names, &version) {
            storage.delete(name)?;
        }
        let set = VersionSet {
            storage: Arc::clone(&storage),
            cache,
            current: ArcSwap::from_pointee(version),
            log: SpinLock::new(state),
        };
        set.start_manifest()?;
        // Every other manifest is old now. (A manifest left by an open that crashed before
        // switching CURRENT may have had the new one's name: that file was replaced.)
        let live = set.log.lock().name.clone();
        for name in names
            .iter()
            .filter(|n| n.starts_with("MANIFEST-") && **n != live)
        {
            storage.delete(name)?;
        }
        let log = set.log.lock();
        let recovered = Recovered {
            log_number: log.log_number,
            last_sequence: log.last_sequence,
        };
        drop(log);
        Ok((set, recovered))
    }

    /// Writes a new manifest holding the current version and makes it live.
    fn start_manifest(&self) -> Result<()> {
        let mut log = self.log.lock();
        let number = log.next_table;
        log.next_table += 1;
        let name = manifest_name(number);
        let version = self.current.load();
        let snapshot = VersionEdit {
            log_number: Some(log.log_number),
            next_table: Some(log.next_table),
            last_sequence: Some(log.last_sequence),
            deleted: Vec::new(),
            added: version
                .files()
                .map(|(level, f)| (level as u32, f.meta.clone()))
                .collect(),
        };
        let mut bytes = Vec::new();
        frame(0, &snapshot.encode(), &mut bytes);
        self.storage.create(&name)?;
        self.storage.append(&name, &bytes)?;
        self.storage.sync(&name)?;
        self.storage.create("CURRENT.tmp")?;
        self.storage
            .append("CURRENT.tmp", format!("{name}\n").as_bytes())?;
        self.storage.sync("CURRENT.tmp")?;
        self.storage.rename("CURRENT.tmp", CURRENT)?;
        log.name = name;
        log.offset = bytes.len() as u64;
        Ok(())
    }

    /// The current version.
    pub fn current(&self) -> Arc<Version> {
        self.current.load_full()
    }

    /// A fresh table number.
    pub fn new_table_number(&self) -> u64 {
        let mut log = self.log.lock();
        log.next_table += 1;
        log.next_table - 1
    }

    /// The oldest log segment still needed.
    pub fn log_number(&self) -> u64 {
        self.log.lock().log_number
    }

    /// Records `edit` in the manifest (synced), then installs the version it makes.
    ///
    /// # Errors
    /// Storage errors (the edit then did not happen); errors opening added tables.
    pub fn log_and_apply(&self, mut edit: VersionEdit) -> Result<()> {
        let mut log = self.log.lock();
        edit.next_table = Some(log.next_table);
        let log_number = edit
            .log_number
            .unwrap_or(log.log_number)
            .max(log.log_number);
        edit.log_number = Some(log_number);
        let last_sequence = edit
            .last_sequence
            .unwrap_or(log.last_sequence)
            .max(log.last_sequence);
        edit.last_sequence = Some(last_sequence);
        let open = |meta: &FileMeta| open_table(&self.storage, &self.cache, meta);
        let next = self.current.load().apply(&edit, &open)?;
        let mut bytes = Vec::new();
        frame(log.offset, &edit.encode(), &mut bytes);
        self.storage.append(&log.name, &bytes)?;
        self.storage.sync(&log.name)?;
        log.offset += bytes.len() as u64;
        log.log_number = log_number;
        log.last_sequence = last_sequence;
        self.current.store(Arc::new(next));
        Ok(())
    }

    /// The block cache the tables share.
    pub fn cache(&self) -> &Arc<BlockCache> {
        &self.cache
    }
}
