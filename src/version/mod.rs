//! Versions: which tables are live, recorded in the manifest.
//!
//! - `edit`: one change (tables added and deleted, log position) and its encoding.
//! - `version`: an immutable set of live tables per level, and reads through them.
//! - `manifest`: the log of edits, `CURRENT`, and the current version.
//! - `compaction`: leveled compaction (picking and merging).

pub mod compaction;
pub mod edit;
pub mod level_iter;
pub mod manifest;
#[allow(clippy::module_inception)] // the layout DESIGN.md names: version/version.rs
pub mod version;

pub use edit::{FileMeta, LogEnd, VersionEdit};
pub use manifest::{parse_table_name, table_name, VersionSet};
pub use version::{TableFile, Version, LEVELS};
