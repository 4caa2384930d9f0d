//! Reading back recent changes, for a change feed that resumes: a watcher whose store
//! changed hands (a tab took over the files) or whose messages from another thread went
//! missing asks for every change committed after the last sequence number it saw. The
//! memtables hold every version written since the last memtable-to-table write, each
//! with its sequence number, so those changes are still there unless a flush wrote them
//! to a table since.

use super::Db;
use crate::batch::WriteBatch;
use crate::iter::InternalIterator;
use crate::key::{self, SequenceNumber, ValueKind};

/// One change read back: its kind, key and value.
type Change = (ValueKind, Vec<u8>, Vec<u8>);

impl Db {
    /// The sequence number of the last write readers see.
    pub fn last_sequence(&self) -> SequenceNumber {
        self.inner.publisher.visible()
    }

    /// Every change committed after sequence `after`, in commit order, as one write batch
    /// whose sequence is `after + 1` (the sequence of its operation `i` is `after + 1 + i`),
    /// up to the last sequence visible now. `None` when the memtables no longer hold all
    /// of them: a memtable holding some was written to a table since.
    pub fn changes_since(&self, after: SequenceNumber) -> Option<WriteBatch> {
        // The sequence first, the state second (as readers): every entry up to `last` is
        // in a memtable of this state, or in a table.
        let last = self.inner.publisher.visible();
        let state = self.inner.state.load_full();
        if after >= last {
            let mut batch = WriteBatch::new();
            batch.set_sequence(after + 1);
            return (after == last).then_some(batch);
        }
        let wanted = usize::try_from(last - after).ok()?;
        // More changes than the memtables hold entries: some are in tables.
        if wanted > state.memtables().map(|m| m.len()).sum::<usize>() {
            return None;
        }
        // Sequence numbers are unique: each change has its slot (no sort), and all of them
        // are there when every slot is filled.
        let mut slots: Vec<Option<Change>> = vec![None; wanted];
        let mut found = 0;
        for memtable in state.memtables() {
            let mut entries = memtable.iter();
            entries.seek_to_first();
            while entries.valid() {
                if let Some(parsed) = key::parse(entries.key()) {
                    if parsed.seq > after && parsed.seq <= last {
                        let slot = &mut slots[(parsed.seq - after - 1) as usize];
                        found += usize::from(slot.is_none());
                        *slot = Some((
                            parsed.kind,
                            parsed.user_key.to_vec(),
                            entries.value().to_vec(),
                        ));
                    }
                }
                entries.next();
            }
        }
        if found != wanted {
            return None;
        }
        let mut batch = WriteBatch::new();
        for (kind, key, value) in slots.iter().flatten() {
            match kind {
                ValueKind::Put => batch.put(key, value),
                ValueKind::Delete => batch.delete(key),
            };
        }
        batch.set_sequence(after + 1);
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use crate::batch::{BatchOp, WriteBatch};
    use crate::options::Options;
    use crate::storage::MemStorage;
    use crate::Db;
    use std::sync::Arc;

    fn ops(batch: &WriteBatch) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        batch
            .iter()
            .map(|op| match op.expect("valid op") {
                BatchOp::Put { key, value } => (key.to_vec(), Some(value.to_vec())),
                BatchOp::Delete { key } => (key.to_vec(), None),
            })
            .collect()
    }

    #[test]
    fn reads_back_every_version_in_commit_order() {
        let db = Db::open_in_memory(Options::default());
        let start = db.last_sequence();
        db.put(b"b", b"1").expect("write");
        db.put(b"a", b"2").expect("write");
        db.delete(b"b").expect("write");
        db.put(b"b", b"3").expect("write");
        let changes = db.changes_since(start).expect("in the memtable");
        assert_eq!(changes.sequence(), start + 1);
        let expected: Vec<(Vec<u8>, Option<Vec<u8>>)> = vec![
            (b"b".to_vec(), Some(b"1".to_vec())),
            (b"a".to_vec(), Some(b"2".to_vec())),
            (b"b".to_vec(), None),
            (b"b".to_vec(), Some(b"3".to_vec())),
        ];
        assert_eq!(ops(&changes), expected);
        let later = db.changes_since(start + 2).expect("in the memtable");
        assert_eq!(ops(&later), expected[2..].to_vec());
        assert!(db
            .changes_since(db.last_sequence())
            .expect("nothing since")
            .is_empty());
        // Ahead of the store: not something it can answer.
        assert!(db.changes_since(db.last_sequence() + 5).is_none());
    }

    #[test]
    fn says_so_when_a_table_holds_some() {
        let storage = Arc::new(MemStorage::new());
        let db = Db::open(storage, Options::default()).expect("open");
        db.put(b"old", b"x").expect("write");
        let before = db.last_sequence();
        db.compact().expect("compact");
        db.put(b"new", b"y").expect("write");
        // The change after `before` is still in the memtable; the one before it is not.
        assert_eq!(
            ops(&db.changes_since(before).expect("in the memtable")).len(),
            1
        );
        assert!(db.changes_since(before - 1).is_none());
    }
}
