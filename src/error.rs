//! The one error type of the public API. Every variant has a stable, machine-readable code
//! (`Error::code`), which the JS package exposes as `err.code`.

/// Everything that can go wrong in ppdb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something the API cannot accept (an oversized key or value, a bad option, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The store (or this handle to it) was closed.
    #[error("the store is closed")]
    Closed,
    /// The operation is not available in this build or place (for example `share` in the
    /// single-threaded build).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Stored data failed a check (checksum, length, magic number): it is not returned.
    #[error("corruption: {0}")]
    Corruption(String),
    /// The storage failed (an I/O error). Writes are refused until the store is reopened.
    #[error("i/o error: {0}")]
    Io(String),
    /// A file the store needs is missing.
    #[error("not found: {0}")]
    NotFound(String),
    /// The memory limit for unflushed data is reached; the store stays readable.
    #[error("store full: {0}")]
    StoreFull(String),
    /// The storage quota is used up; acknowledged writes are kept.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// Another context (tab, worker, process) has the store open.
    #[error("locked: {0}")]
    Locked(String),
    /// A conditional write found a key at another version than the one it expected;
    /// nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A thread that must never wait (a browser page reading a store whose files a worker
    /// owns) needed that worker's I/O. The JS package then asks the worker instead, so this
    /// never reaches its callers; natively it does not occur.
    #[error("would block: {0}")]
    WouldBlock(String),
}

impl Error {
    /// The stable code of this error, as the JS package reports it in `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::Closed => "CLOSED",
            Error::Unsupported(_) => "UNSUPPORTED",
            Error::Corruption(_) => "CORRUPTION",
            Error::Io(_) => "IO",
            Error::NotFound(_) => "NOT_FOUND",
            Error::StoreFull(_) => "STORE_FULL",
            Error::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            Error::Locked(_) => "LOCKED",
            Error::Conflict(_) => "CONFLICT",
            Error::WouldBlock(_) => "WOULD_BLOCK",
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidArgument(message.into())
    }

    /// An I/O error from `std::io`, keeping quota and lock conditions distinguishable.
    pub fn from_io(context: &str, err: &std::io::Error) -> Error {
        let message = format!("{context}: {err}");
        match err.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(message),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Error::QuotaExceeded(message)
            }
            std::io::ErrorKind::WouldBlock => Error::Locked(message),
            _ => Error::Io(message),
        }
    }
}

/// The result type of the public API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_stable_code_and_a_message() {
        let cases = [
            (Error::invalid("empty key"), "INVALID_ARGUMENT", "empty key"),
            (Error::Closed, "CLOSED", "closed"),
            (Error::Unsupported("share".into()), "UNSUPPORTED", "share"),
            (Error::Corruption("bad crc".into()), "CORRUPTION", "bad crc"),
            (Error::Io("disk".into()), "IO", "disk"),
            (
                Error::NotFound("000001.wal".into()),
                "NOT_FOUND",
                "000001.wal",
            ),
            (Error::StoreFull("limit".into()), "STORE_FULL", "limit"),
            (
                Error::QuotaExceeded("opfs".into()),
                "QUOTA_EXCEEDED",
                "opfs",
            ),
            (Error::Locked("LOCK".into()), "LOCKED", "LOCK"),
            (Error::Conflict("key k".into()), "CONFLICT", "key k"),
            (Error::WouldBlock("read".into()), "WOULD_BLOCK", "read"),
        ];
        for (error, code, words) in cases {
            assert_eq!(error.code(), code);
            assert!(error.to_string().contains(words), "{error}");
        }
    }
}
