//! The log's record framing (LevelDB's `doc/log_format.md`).
//!
//! The file is a sequence of 32 KiB blocks. A record is split into fragments that never
//! cross a block boundary; each fragment has a 7-byte header:
//! `checksum: u32 LE` (masked CRC32C of the type byte and the payload), `length: u16 LE`,
//! `type: u8` (FULL = 1, FIRST = 2, MIDDLE = 3, LAST = 4). A block tail shorter than a
//! header is filled with zeros and skipped by readers.

/// Size of a block.
pub const BLOCK_SIZE: usize = 32 * 1024;
/// Size of a fragment header.
pub const HEADER_SIZE: usize = 7;

/// The kind of a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FragmentType {
    /// A whole record.
    Full = 1,
    /// The first fragment of a record.
    First = 2,
    /// A fragment in the middle of a record.
    Middle = 3,
    /// The last fragment of a record.
    Last = 4,
}

impl FragmentType {
    /// The type with this tag, if any.
    pub fn from_tag(tag: u8) -> Option<FragmentType> {
        match tag {
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            _ => None,
        }
    }
}

const MASK_DELTA: u32 = 0xa282_ead8;

/// LevelDB's checksum masking: a CRC stored inside data that is itself checksummed would
/// make CRCs of CRCs degenerate, so stored CRCs are rotated and offset.
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// The inverse of [`mask`].
pub fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

/// The checksum stored for a fragment of `kind` with `payload`.
pub fn fragment_checksum(kind: u8, payload: &[u8]) -> u32 {
    mask(crc32c::crc32c_append(crc32c::crc32c(&[kind]), payload))
}

/// Calls `f(padding, fragment_type, payload_range)` for each fragment of a record of
/// `len` bytes written at file offset `offset`; `padding` zero bytes precede the fragment
/// (a block tail too short for a header).
fn for_each_fragment(
    offset: u64,
    len: usize,
    mut f: impl FnMut(usize, FragmentType, std::ops::Range<usize>),
) {
    let mut in_block = (offset % BLOCK_SIZE as u64) as usize;
    let mut done = 0;
    let mut first = true;
    loop {
        let mut padding = 0;
        if BLOCK_SIZE - in_block < HEADER_SIZE {
            padding = BLOCK_SIZE - in_block;
            in_block = 0;
        }
        let available = BLOCK_SIZE - in_block - HEADER_SIZE;
        let take = available.min(len - done);
        let last = done + take == len;
        let kind = match (first, last) {
            (true, true) => FragmentType::Full,
            (true, false) => FragmentType::First,
            (false, false) => FragmentType::Middle,
            (false, true) => FragmentType::Last,
        };
        f(padding, kind, done..done + take);
        in_block += HEADER_SIZE + take;
        done += take;
        first = false;
        if last {
            return;
        }
    }
}

/// Bytes a record of `len` payload bytes takes when written at `offset`.
pub fn framed_len(offset: u64, len: usize) -> u64 {
    let mut total = 0;
    for_each_fragment(offset, len, |padding, _, range| {
        total += (padding + HEADER_SIZE + range.len()) as u64;
    });
    total
}

/// Appends the framing of `payload`, as written at file offset `offset`, to `out`.
pub fn frame(offset: u64, payload: &[u8], out: &mut Vec<u8>) {
    for_each_fragment(offset, payload.len(), |padding, kind, range| {
        out.resize(out.len() + padding, 0);
        let part = &payload[range];
        out.extend_from_slice(&fragment_checksum(kind as u8, part).to_le_bytes());
        out.extend_from_slice(&(part.len() as u16).to_le_bytes());
        out.push(kind as u8);
        out.extend_from_slice(part);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_round_trips_and_changes_the_value() {
        for crc in [0u32, 1, 0xdead_beef, u32::MAX] {
            assert_eq!(unmask(mask(crc)), crc);
            assert_ne!(mask(crc), crc);
        }
    }

    #[test]
    fn framed_len_matches_the_bytes_frame_writes() {
        for offset in [
            0u64,
            1,
            100,
            BLOCK_SIZE as u64 - 8,
            BLOCK_SIZE as u64 - 7,
            BLOCK_SIZE as u64 - 3,
        ] {
            for len in [
                0usize,
                1,
                10,
                BLOCK_SIZE - 7,
                BLOCK_SIZE,
                3 * BLOCK_SIZE + 5,
            ] {
                let mut out = Vec::new();
                frame(offset, &vec![7u8; len], &mut out);
                assert_eq!(
                    out.len() as u64,
                    framed_len(offset, len),
                    "offset {offset} len {len}"
                );
            }
        }
    }

    #[test]
    fn a_short_block_tail_is_padded_with_zeros() {
        let mut out = Vec::new();
        frame(BLOCK_SIZE as u64 - 6, b"x", &mut out);
        assert_eq!(&out[..6], &[0; 6]);
        assert_eq!(out[6 + 6], FragmentType::Full as u8);
    }
}
