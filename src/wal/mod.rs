//! The write-ahead log: every write batch is framed into a log segment (one per memtable
//! generation) before the memtable sees it, so recovery can replay it after a crash.
//!
//! - `format`: the record framing (LevelDB's), `reader`: reading it back with damage reports.
//! - `buffer`: the in-memory tail of a segment that writers copy into without locks.
//! - `segment`: one segment: reservation of sequence numbers and log space in one atomic
//!   step, in-order publication, and flushing to storage.
//! - `log`: the live segments in order, the flush lock (group commit), poisoning on error.

pub mod buffer;
pub mod format;
pub mod log;
pub mod reader;
pub mod segment;

/// The file name of log segment `number`.
pub fn segment_name(number: u64) -> String {
    format!("{number:06}.wal")
}

/// The segment number of a file name, if it names a segment.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    crate::storage::parse_numbered_name(name, ".wal")
}
