//! The manifest: a log (the WAL's framing) of version edits, and `CURRENT`, which names the
//! live manifest. A new manifest starts with a snapshot of the whole version and becomes
//! live when `CURRENT` is replaced (write `CURRENT.tmp`, sync, rename), so a crash at any
//! point leaves either the old or the new set of tables.

use super::edit::{FileMeta, LogEnd, VersionEdit};
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

/// What the manifest said at open ([`VersionSet::load`]). Nothing has been changed on
/// storage yet: [`VersionSet::commit`] does that once the whole open has checked out.
pub struct Loaded {
    /// Log segments below this are covered by tables.
    pub log_number: u64,
    /// Every write up to here is in a table.
    pub last_sequence: SequenceNumber,
    /// Where the log ended, if the store was closed cleanly.
    pub log_end: Option<LogEnd>,
    /// The manifest's last record was damaged (a torn write): `(manifest, offset, bytes,
    /// reason)`. That edit never took effect; what it would have changed must then be
    /// proven from the log (see `Db::open`).
    pub torn: Option<(String, u64, u64, &'static str)>,
    /// Table files the manifest does not list (left by a flush or compaction that did not
    /// commit). Deleted by `commit` when the manifest was intact; after a torn manifest the
    /// caller decides, table by table.
    pub unlisted: Vec<u64>,
    /// Manifests other than the live one.
    stale_manifests: Vec<String>,
    /// The live manifest and its length, if it was read whole and intact (no torn tail)
    /// and is small enough to go on with: the open appends to it rather than writing a
    /// new one, so opening a store writes nothing until it changes (a nearly full quota
    /// can still open and read it).
    reusable: Option<(String, u64)>,
}

/// A manifest longer than this is rewritten (as a snapshot) at the next open.
const MANIFEST_REWRITE_BYTES: u64 = 1 << 20;

/// CURRENT's content: `MANIFEST-<digits>\n` and nothing else.
fn parse_current(bytes: &[u8]) -> Result<String> {
    let bad = || {
        Error::Corruption(format!(
            "CURRENT is damaged (it must hold a manifest name and a newline): {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(64)])
        ))
    };
    let name = bytes.strip_suffix(b"\n").ok_or_else(bad)?;
    let digits = name.strip_prefix(b"MANIFEST-").ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    String::from_utf8(name.to_vec()).map_err(|_| bad())
}

impl VersionSet {
    /// Reads `CURRENT` and its manifest (if any) and opens the live tables, changing
    /// nothing on storage. Every table the manifest lists must be there, at the size it
    /// recorded.
    ///
    /// # Errors
    /// [`Error::Corruption`], naming the file, for a damaged `CURRENT`, a damaged manifest
    /// (anything but a torn last record), a missing `CURRENT` beside tables or log
    /// segments, or a listed table that is missing, of another size, or damaged; storage
    /// errors.
    pub fn load(storage: Arc<dyn Storage>, cache: Arc<BlockCache>) -> Result<(VersionSet, Loaded)> {
        let names = storage.list()?;
        let mut live: std::collections::BTreeMap<u64, (u32, FileMeta)> =
            std::collections::BTreeMap::new();
        let mut state = Log {
            name: String::new(),
            offset: 0,
            next_table: 1,
            log_number: 0,
            last_sequence: 0,
        };
        let mut log_end = None;
        let mut torn = None;
        let mut manifest = None;
        let mut manifest_len = 0;
        if names.iter().any(|n| n == CURRENT) {
            let name = parse_current(&storage.read_all(CURRENT)?)?;
            if !names.contains(&name) {
                return Err(Error::Corruption(format!(
                    "CURRENT names {name}, which does not exist"
                )));
            }
            let data = storage.read_all(&name)?;
            manifest_len = data.len() as u64;
            let events: Vec<LogEvent> = LogReader::new(&data).collect();
            // A manifest starts with a snapshot that was synced before CURRENT named it:
            // without an intact first record the set of tables is unknown.
            if !matches!(events.first(), Some(LogEvent::Record { .. })) {
                return Err(Error::Corruption(format!(
                    "{name}: its first record (the snapshot) is damaged"
                )));
            }
            let last_record = events
                .iter()
                .rposition(|e| matches!(e, LogEvent::Record { .. }));
            for (i, event) in events.iter().enumerate() {
                match event {
                    LogEvent::Record { data, offset, .. } => {
                        let edit = VersionEdit::decode(data).map_err(|e| {
                            Error::Corruption(format!("{name}: record at offset {offset}: {e}"))
                        })?;
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
                        // A clean close is the last edit of its manifest.
                        log_end = edit.closed_log;
                    }
                    // Damage before an intact record is not a torn write: records after
                    // it were synced, so this one was too, and it is lost.
                    LogEvent::Damaged { reason, offset, .. }
                        if last_record.is_some_and(|last| i < last) =>
                    {
                        return Err(Error::Corruption(format!(
                            "{name}: {reason} at offset {offset}, with intact records after it"
                        )));
                    }
                    // A torn last record was never acknowledged.
                    LogEvent::Damaged {
                        offset,
                        bytes,
                        reason,
                    } => {
                        torn = Some((name.clone(), *offset, *bytes, *reason));
                        log_end = None;
                    }
                }
            }
            manifest = Some(name);
        } else if let Some(file) = names
            .iter()
            .find(|n| parse_table_name(n).is_some() || crate::wal::parse_segment_name(n).is_some())
        {
            return Err(Error::Corruption(format!(
                "CURRENT is missing, yet the store holds {file}: the set of live tables is unknown"
            )));
        }
        let source = manifest.as_deref().unwrap_or("the manifest");
        for (number, _) in live.values().map(|(l, m)| (m.number, l)) {
            let file = table_name(number);
            if !names.contains(&file) {
                return Err(Error::Corruption(format!(
                    "{source} lists {file}, which is missing"
                )));
            }
        }
        for (_, meta) in live.values() {
            let file = table_name(meta.number);
            let len = storage.len(&file)?;
            if len != meta.size {
                return Err(Error::Corruption(format!(
                    "{file} is {len} bytes, {source} recorded {}",
                    meta.size
                )));
            }
        }
        let snapshot = VersionEdit {
            added: live.into_values().collect(),
            ..VersionEdit::default()
        };
        let open_table = |meta: &FileMeta| open_table(&storage, &cache, meta);
        let version = Version::default().apply(&snapshot, &open_table)?;
        // New numbers (tables and manifests share them) follow every file there is.
        for name in &names {
            let number = parse_table_name(name)
                .or_else(|| name.strip_prefix("MANIFEST-").and_then(|d| d.parse().ok()));
            if let Some(number) = number {
                state.next_table = state.next_table.max(number + 1);
            }
        }
        let unlisted = unlisted_tables(&names, &version)
            .filter_map(|n| parse_table_name(n))
            .collect();
        let reusable = manifest
            .clone()
            .filter(|_| torn.is_none() && manifest_len <= MANIFEST_REWRITE_BYTES)
            .map(|name| (name, manifest_len));
        let stale_manifests = names
            .iter()
            .filter(|n| n.starts_with("MANIFEST-"))
            .cloned()
            .collect();
        let loaded = Loaded {
            log_number: state.log_number,
            last_sequence: state.last_sequence,
            log_end,
            torn,
            unlisted,
            stale_manifests,
            reusable,
        };
        let set = VersionSet {
            storage: Arc::clone(&storage),
            cache,
            current: ArcSwap::from_pointee(version),
            log: SpinLock::new(state),
        };
        Ok((set, loaded))
    }

    /// Finishes an open: goes on with the live manifest if it is intact and small, else
    /// starts a fresh one holding a snapshot and makes it live; deletes the other
    /// manifests and the table files in `obsolete` (which the caller has proven to be:
    /// unlisted by an intact manifest, or covered by the log).
    ///
    /// # Errors
    /// Storage errors.
    pub fn commit(&self, loaded: &Loaded, obsolete: &[u64]) -> Result<()> {
        match &loaded.reusable {
            Some((name, len)) => {
                // What this open read is what it goes on from: durable before anything
                // (segments, tables) is deleted on its word.
                self.storage.sync(name)?;
                let mut log = self.log.lock();
                log.name = name.clone();
                log.offset = *len;
            }
            None => self.start_manifest()?,
        }
        for &number in obsolete {
            self.storage.delete(&table_name(number))?;
        }
        // Every other manifest is old now. (A manifest left by an open that crashed before
        // switching CURRENT may have had the new one's name: that file was replaced.)
        let live = self.log.lock().name.clone();
        for name in loaded.stale_manifests.iter().filter(|n| **n != live) {
            self.storage.delete(name)?;
        }
        Ok(())
    }

    /// Records a clean close: where the log ends (see [`LogEnd`]).
    ///
    /// # Errors
    /// Storage errors.
    pub fn record_close(&self, end: LogEnd) -> Result<()> {
        self.log_and_apply(VersionEdit {
            closed_log: Some(end),
            ..VersionEdit::default()
        })
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
            closed_log: None,
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

    /// The current version, for a short look: no reference count is taken (which every
    /// thread's gets would otherwise contend on).
    pub fn peek(&self) -> arc_swap::Guard<Arc<Version>> {
        self.current.load()
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

    /// The storage the tables and the manifest live in.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The block cache the tables share.
    pub fn cache(&self) -> &Arc<BlockCache> {
        &self.cache
    }
}
