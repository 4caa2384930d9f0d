//! The one error type of the public API. Every variant has a stable, machine-readable code
//! (`Error::code`), which the JS package exposes as `err.code`.

/// Everything that can go wrong in ppdb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something the API cannot accept (empty key, oversized value, ...).
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
}

impl Error {
    /// The stable code of this error, as the JS package reports it in `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::Closed => "CLOSED",
            Error::Unsupported(_) => "UNSUPPORTED",
            Error::Corruption(_) => "CORRUPTION",
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidArgument(message.into())
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
        ];
        for (error, code, words) in cases {
            assert_eq!(error.code(), code);
            assert!(error.to_string().contains(words), "{error}");
        }
    }
}
