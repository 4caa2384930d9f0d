//! The byte-level pieces of a table file: block handles, the block trailer (compression tag
//! and checksum), and the footer. `docs/format.md` describes the whole file.

use super::compression::Compression;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::wal::format::{mask, unmask};
use integer_encoding::{VarInt, VarIntWriter};

/// The table file's magic number (the bytes "ppdbTabl" read as a little-endian u64).
pub const MAGIC: u64 = u64::from_le_bytes(*b"ppdbTabl");
/// The table format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Room for the two block handles at the start of the footer.
const HANDLES_LEN: usize = 40;
/// Length of the footer at the end of every table.
pub const FOOTER_LEN: usize = HANDLES_LEN + 4 + 8;
/// Length of the trailer after every block: compression tag and masked CRC32C.
pub const BLOCK_TRAILER_LEN: usize = 5;

/// Where a block is: its offset in the file and its stored size (trailer excluded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockHandle {
    /// Offset of the block's first byte.
    pub offset: u64,
    /// Stored size of the block, without its trailer.
    pub size: u64,
}

impl BlockHandle {
    /// Appends the handle as two varints.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = out.write_varint(self.offset);
        let _ = out.write_varint(self.size);
    }

    /// Decodes a handle; returns it and the bytes it took.
    ///
    /// # Errors
    /// [`Error::Corruption`] on truncated varints.
    pub fn decode(input: &[u8]) -> Result<(BlockHandle, usize)> {
        let bad = || Error::Corruption("bad block handle".into());
        let (offset, a) = u64::decode_var(input).ok_or_else(bad)?;
        let (size, b) = u64::decode_var(&input[a..]).ok_or_else(bad)?;
        Ok((BlockHandle { offset, size }, a + b))
    }
}

/// The end of a table: where its filter and index blocks are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// The bloom filter block.
    pub filter: BlockHandle,
    /// The index block.
    pub index: BlockHandle,
}

impl Footer {
    /// The footer's bytes: both handles padded to 40 bytes, the version, the magic number.
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut handles = Vec::with_capacity(HANDLES_LEN);
        self.filter.encode_to(&mut handles);
        self.index.encode_to(&mut handles);
        let mut out = [0u8; FOOTER_LEN];
        out[..handles.len()].copy_from_slice(&handles);
        out[HANDLES_LEN..HANDLES_LEN + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[HANDLES_LEN + 4..].copy_from_slice(&MAGIC.to_le_bytes());
        out
    }

    /// Parses a footer, checking its magic number and version.
    ///
    /// # Errors
    /// [`Error::Corruption`] for a wrong magic number, an unknown version or bad handles.
    pub fn decode(bytes: &[u8]) -> Result<Footer> {
        if bytes.len() != FOOTER_LEN {
            return Err(Error::Corruption(
                "table footer has the wrong length".into(),
            ));
        }
        let magic = u64::from_le_bytes(bytes[HANDLES_LEN + 4..].try_into().unwrap_or_default());
        if magic != MAGIC {
            return Err(Error::Corruption(
                "not a ppdb table (bad magic number)".into(),
            ));
        }
        let version = u32::from_le_bytes(
            bytes[HANDLES_LEN..HANDLES_LEN + 4]
                .try_into()
                .unwrap_or_default(),
        );
        if version != FORMAT_VERSION {
            return Err(Error::Corruption(format!(
                "unsupported table format version {version}"
            )));
        }
        let (filter, used) = BlockHandle::decode(&bytes[..HANDLES_LEN])?;
        let (index, _) = BlockHandle::decode(&bytes[used..HANDLES_LEN])?;
        Ok(Footer { filter, index })
    }
}

/// The checksum stored in a block trailer: masked CRC32C of the stored bytes and the tag.
fn block_checksum(stored: &[u8], tag: u8) -> u32 {
    mask(crc32c::crc32c_append(crc32c::crc32c(stored), &[tag]))
}

/// Appends a block (compressed with `compression` if it pays) and its trailer to `out`,
/// which starts at file offset `offset`; returns the block's handle.
pub fn write_block(
    out: &mut Vec<u8>,
    offset: u64,
    contents: &[u8],
    compression: Compression,
) -> BlockHandle {
    let (codec, stored) = compression.compress(contents);
    let handle = BlockHandle {
        offset,
        size: stored.len() as u64,
    };
    out.extend_from_slice(&stored);
    out.push(codec as u8);
    out.extend_from_slice(&block_checksum(&stored, codec as u8).to_le_bytes());
    handle
}

/// Reads, checks and decompresses the block at `handle` of table `name`.
///
/// # Errors
/// [`Error::Corruption`] for a checksum mismatch, an unknown codec or a handle outside the
/// file; storage errors.
pub fn read_block(
    storage: &dyn Storage,
    name: &str,
    handle: BlockHandle,
    file_len: u64,
) -> Result<Vec<u8>> {
    let end = block_end(name, handle, file_len)?;
    let mut buf = vec![0u8; (end - handle.offset) as usize];
    let n = storage.read_at(name, handle.offset, &mut buf)?;
    if n != buf.len() {
        return Err(Error::Corruption(format!("{name}: block cut short")));
    }
    decode_block(name, handle, &buf)
}

/// Where the block at `handle` ends, its trailer included, checked against the file's length.
///
/// # Errors
/// [`Error::Corruption`] for a handle that points outside the file.
pub(crate) fn block_end(name: &str, handle: BlockHandle, file_len: u64) -> Result<u64> {
    handle
        .offset
        .checked_add(handle.size)
        .and_then(|e| e.checked_add(BLOCK_TRAILER_LEN as u64))
        .filter(|&e| e <= file_len)
        .ok_or_else(|| Error::Corruption(format!("{name}: block handle points outside the file")))
}

/// Checks and decompresses `raw`, the stored bytes of the block at `handle` and its trailer.
///
/// # Errors
/// [`Error::Corruption`] for a checksum mismatch or an unknown codec.
pub(crate) fn decode_block(name: &str, handle: BlockHandle, raw: &[u8]) -> Result<Vec<u8>> {
    let (stored, trailer) = raw.split_at(handle.size as usize);
    let tag = trailer[0];
    let checksum = u32::from_le_bytes([trailer[1], trailer[2], trailer[3], trailer[4]]);
    if unmask(checksum) != unmask(block_checksum(stored, tag)) {
        return Err(Error::Corruption(format!(
            "{name}: block checksum mismatch at offset {}",
            handle.offset
        )));
    }
    let codec = Compression::from_tag(tag)
        .ok_or_else(|| Error::Corruption(format!("{name}: unknown compression {tag}")))?;
    Ok(codec.decompress(stored)?.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_footer_round_trips() {
        let footer = Footer {
            filter: BlockHandle {
                offset: 1 << 40,
                size: 300,
            },
            index: BlockHandle {
                offset: u64::MAX - 5,
                size: u64::MAX,
            },
        };
        assert_eq!(Footer::decode(&footer.encode()).expect("valid"), footer);
    }

    #[test]
    fn a_footer_with_a_wrong_magic_or_version_is_corruption() {
        let good = Footer {
            filter: BlockHandle::default(),
            index: BlockHandle::default(),
        }
        .encode();
        let mut bad_magic = good;
        bad_magic[FOOTER_LEN - 1] ^= 1;
        assert_eq!(
            Footer::decode(&bad_magic).expect_err("magic").code(),
            "CORRUPTION"
        );
        let mut bad_version = good;
        bad_version[HANDLES_LEN] = 9;
        let err = Footer::decode(&bad_version).expect_err("version");
        assert!(err.to_string().contains("version 9"), "{err}");
        assert!(Footer::decode(&good[1..]).is_err());
    }
}
