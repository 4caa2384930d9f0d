//! Version edits: what one manifest record changes (LevelDB's `db/version_edit.cc`).
//!
//! Encoding: a sequence of fields, each `tag: varint32` then its payload:
//! 1 log number (varint64), 2 next table number (varint64), 3 last sequence (varint64),
//! 4 deleted table (level varint32, number varint64), 5 added table (level varint32,
//! number varint64, size varint64, smallest key and largest key each as
//! `len: varint32, bytes`), 6 closed log (segment varint64, length varint64, last sequence
//! varint64: where the log ended when the store was closed cleanly).

use crate::error::{Error, Result};
use integer_encoding::{VarInt, VarIntWriter};

/// A table as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// The table number (file `NNNNNN.sst`).
    pub number: u64,
    /// File size in bytes.
    pub size: u64,
    /// Smallest internal key.
    pub smallest: Vec<u8>,
    /// Largest internal key.
    pub largest: Vec<u8>,
}

/// Where the log ended when the store was closed cleanly: the newest segment, its length,
/// and the last sequence number written. Recorded last in the manifest by a clean close;
/// the next open then knows exactly what the log must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEnd {
    /// The newest log segment.
    pub segment: u64,
    /// Its length in bytes.
    pub length: u64,
    /// The last sequence number in the log.
    pub last_sequence: u64,
}

/// Changes to the set of live tables and the log position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// Log segments below this number are no longer needed (their data is in tables).
    pub log_number: Option<u64>,
    /// The next table number to hand out.
    pub next_table: Option<u64>,
    /// Every write up to this sequence number is in a table.
    pub last_sequence: Option<u64>,
    /// Tables removed, by level.
    pub deleted: Vec<(u32, u64)>,
    /// Tables added, by level.
    pub added: Vec<(u32, FileMeta)>,
    /// Set by a clean close (the last edit of its manifest).
    pub closed_log: Option<LogEnd>,
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Writing to a Vec cannot fail.
    let _ = out.write_varint(bytes.len() as u32);
    out.extend_from_slice(bytes);
}

impl VersionEdit {
    /// The edit's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let field = |tag: u32, value: u64, out: &mut Vec<u8>| {
            let _ = out.write_varint(tag);
            let _ = out.write_varint(value);
        };
        if let Some(n) = self.log_number {
            field(1, n, &mut out);
        }
        if let Some(n) = self.next_table {
            field(2, n, &mut out);
        }
        if let Some(n) = self.last_sequence {
            field(3, n, &mut out);
        }
        for &(level, number) in &self.deleted {
            let _ = out.write_varint(4u32);
            let _ = out.write_varint(level);
            let _ = out.write_varint(number);
        }
        for (level, file) in &self.added {
            let _ = out.write_varint(5u32);
            let _ = out.write_varint(*level);
            let _ = out.write_varint(file.number);
            let _ = out.write_varint(file.size);
            put_bytes(&mut out, &file.smallest);
            put_bytes(&mut out, &file.largest);
        }
        if let Some(end) = self.closed_log {
            let _ = out.write_varint(6u32);
            let _ = out.write_varint(end.segment);
            let _ = out.write_varint(end.length);
            let _ = out.write_varint(end.last_sequence);
        }
        out
    }

    /// Parses an edit.
    ///
    /// # Errors
    /// [`Error::Corruption`] for unknown tags or truncated fields.
    pub fn decode(mut input: &[u8]) -> Result<VersionEdit> {
        fn num<T: VarInt>(input: &mut &[u8]) -> Result<T> {
            let (v, used) = T::decode_var(input)
                .ok_or_else(|| Error::Corruption("version edit cut short".into()))?;
            *input = &input[used..];
            Ok(v)
        }
        fn bytes(input: &mut &[u8]) -> Result<Vec<u8>> {
            let len = num::<u32>(input)? as usize;
            if len > input.len() {
                return Err(Error::Corruption(
                    "version edit key runs past its end".into(),
                ));
            }
            let (head, rest) = input.split_at(len);
            *input = rest;
            Ok(head.to_vec())
        }
        let mut edit = VersionEdit::default();
        while !input.is_empty() {
            match num::<u32>(&mut input)? {
                1 => edit.log_number = Some(num(&mut input)?),
                2 => edit.next_table = Some(num(&mut input)?),
                3 => edit.last_sequence = Some(num(&mut input)?),
                4 => edit.deleted.push((num(&mut input)?, num(&mut input)?)),
                5 => {
                    let level = num(&mut input)?;
                    let file = FileMeta {
                        number: num(&mut input)?,
                        size: num(&mut input)?,
                        smallest: bytes(&mut input)?,
                        largest: bytes(&mut input)?,
                    };
                    edit.added.push((level, file));
                }
                6 => {
                    edit.closed_log = Some(LogEnd {
                        segment: num(&mut input)?,
                        length: num(&mut input)?,
                        last_sequence: num(&mut input)?,
                    })
                }
                tag => {
                    return Err(Error::Corruption(format!(
                        "unknown version edit field {tag}"
                    )))
                }
            }
        }
        Ok(edit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_round_trips() {
        let edit = VersionEdit {
            log_number: Some(7),
            next_table: Some(42),
            last_sequence: Some(1 << 50),
            deleted: vec![(0, 3), (1, 4)],
            added: vec![(
                0,
                FileMeta {
                    number: 41,
                    size: 4096,
                    smallest: b"a\x01".to_vec(),
                    largest: b"zz".to_vec(),
                },
            )],
            closed_log: Some(LogEnd {
                segment: 9,
                length: 12_345,
                last_sequence: 1 << 40,
            }),
        };
        assert_eq!(VersionEdit::decode(&edit.encode()).expect("valid"), edit);
        assert_eq!(
            VersionEdit::decode(&[]).expect("empty"),
            VersionEdit::default()
        );
    }

    #[test]
    fn malformed_edits_are_corruption() {
        let edit = VersionEdit {
            added: vec![(
                0,
                FileMeta {
                    number: 1,
                    size: 2,
                    smallest: vec![1; 10],
                    largest: vec![2; 10],
                },
            )],
            ..VersionEdit::default()
        };
        let bytes = edit.encode();
        for cut in 1..bytes.len() {
            assert!(VersionEdit::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(VersionEdit::decode(&[99, 1]).is_err());
    }
}
