//! Sorted tables: the files memtables are flushed to (LevelDB's table format, with a
//! whole-table bloom filter, CRC32C on every block and LZ4 where it pays).
//!
//! - `block`: blocks with prefix compression and restart points, and their cursor.
//! - `bloom`: the filter over a table's user keys.
//! - `compression`: the codec enum (none, LZ4).
//! - `format`: block handles, block trailers, the footer.
//! - `builder` / `reader`: writing and reading a whole table.
//! - `cache`: the block cache shared by all tables.
//! - `readahead`: a forward scan's window of a file, several blocks per read.

pub mod block;
pub mod bloom;
pub mod builder;
pub mod cache;
pub mod compression;
pub mod format;
pub(crate) mod readahead;
pub mod reader;

pub use builder::{TableBuilder, TableMeta, TableOptions};
pub use cache::{BlockCache, CacheStats};
pub use compression::Compression;
pub use reader::{Found, Table, TableIter};
