//! Block compression, behind a small enum so another codec can be added with a new tag.

use crate::error::{Error, Result};
use std::borrow::Cow;

/// How a block's contents are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Compression {
    /// As they are.
    None = 0,
    /// LZ4 block format (`lz4_flex`), prefixed with the uncompressed length (u32 LE).
    Lz4 = 1,
}

impl Compression {
    /// The codec with this tag, if any.
    pub fn from_tag(tag: u8) -> Option<Compression> {
        match tag {
            0 => Some(Compression::None),
            1 => Some(Compression::Lz4),
            _ => None,
        }
    }

    /// Compresses `raw` with this codec if that saves at least an eighth; returns the codec
    /// actually used and the bytes to store.
    pub fn compress(self, raw: &[u8]) -> (Compression, Cow<'_, [u8]>) {
        match self {
            Compression::None => (Compression::None, Cow::Borrowed(raw)),
            Compression::Lz4 => {
                let packed = lz4_flex::block::compress_prepend_size(raw);
                if packed.len() <= raw.len() - raw.len() / 8 {
                    (Compression::Lz4, Cow::Owned(packed))
                } else {
                    (Compression::None, Cow::Borrowed(raw))
                }
            }
        }
    }

    /// Restores stored bytes.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the bytes do not decode.
    pub fn decompress(self, stored: &[u8]) -> Result<Cow<'_, [u8]>> {
        match self {
            Compression::None => Ok(Cow::Borrowed(stored)),
            Compression::Lz4 => {
                // LZ4 expands at most about 255x: refuse a declared size no real block has,
                // before allocating it.
                let declared = stored
                    .get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or_else(|| Error::Corruption("lz4 block shorter than its size".into()))?;
                if declared > stored.len().saturating_mul(255) {
                    return Err(Error::Corruption(
                        "lz4 block declares an impossible size".into(),
                    ));
                }
                lz4_flex::block::decompress_size_prepended(stored)
                    .map(Cow::Owned)
                    .map_err(|e| Error::Corruption(format!("lz4: {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressible_data_is_compressed_and_restored() {
        let raw = b"abcdabcdabcdabcd".repeat(100);
        let (codec, stored) = Compression::Lz4.compress(&raw);
        assert_eq!(codec, Compression::Lz4);
        assert!(stored.len() < raw.len() / 4);
        assert_eq!(codec.decompress(&stored).expect("decodes"), raw.as_slice());
    }

    #[test]
    fn incompressible_data_is_stored_as_it_is() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let raw: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let (codec, stored) = Compression::Lz4.compress(&raw);
        assert_eq!(codec, Compression::None);
        assert_eq!(&*stored, raw.as_slice());
    }

    #[test]
    fn garbage_is_corruption_not_a_panic() {
        for garbage in [
            &[][..],
            &[1, 2],
            &[255, 255, 255, 255, 0],
            &[10, 0, 0, 0, 0xf0, 1, 2],
        ] {
            assert!(Compression::Lz4.decompress(garbage).is_err());
        }
    }
}
