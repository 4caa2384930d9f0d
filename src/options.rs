//! Options for opening a store, with their defaults.

/// The hard ceiling for [`Options::max_key_size`].
pub const KEY_SIZE_LIMIT: usize = 64 * 1024;
/// The hard ceiling for [`Options::max_value_size`].
pub const VALUE_SIZE_LIMIT: usize = 256 * 1024 * 1024;

/// How a store is opened. Build it with the `#[must_use]` setters:
/// `Options::default().max_value_size(1 << 20)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Longest key accepted, in bytes. Default 16 KiB; at most [`KEY_SIZE_LIMIT`].
    pub max_key_size: usize,
    /// Longest value accepted, in bytes. Default 16 MiB; at most [`VALUE_SIZE_LIMIT`].
    pub max_value_size: usize,
    /// Size of the memtable arena's shared chunks, in bytes. Default 1 MiB.
    pub arena_chunk_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_key_size: 16 * 1024,
            max_value_size: 16 * 1024 * 1024,
            arena_chunk_size: 1 << 20,
        }
    }
}

impl Options {
    /// Sets the longest key accepted (default 16 KiB; clamped to [`KEY_SIZE_LIMIT`]).
    #[must_use]
    pub fn max_key_size(mut self, bytes: usize) -> Options {
        self.max_key_size = bytes.min(KEY_SIZE_LIMIT);
        self
    }

    /// Sets the longest value accepted (default 16 MiB; clamped to [`VALUE_SIZE_LIMIT`]).
    #[must_use]
    pub fn max_value_size(mut self, bytes: usize) -> Options {
        self.max_value_size = bytes.min(VALUE_SIZE_LIMIT);
        self
    }

    /// Sets the memtable arena chunk size (default 1 MiB; at least 4 KiB).
    #[must_use]
    pub fn arena_chunk_size(mut self, bytes: usize) -> Options {
        self.arena_chunk_size = bytes.max(4096);
        self
    }
}
