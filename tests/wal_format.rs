//! The log format, tested the way LevelDB's `log_test.cc` tests it: fragmentation, block
//! trailers, truncated tails, bad lengths, checksum mismatches and reading from the middle.

use ppdb::wal::format::{frame, BLOCK_SIZE, HEADER_SIZE};
use ppdb::wal::reader::{LogEvent, LogReader};

/// A log holding `records`, written one after the other.
fn write_log(records: &[Vec<u8>]) -> Vec<u8> {
    let mut log = Vec::new();
    for record in records {
        let offset = log.len() as u64;
        frame(offset, record, &mut log);
    }
    log
}

fn big(fill: u8, len: usize) -> Vec<u8> {
    vec![fill; len]
}

fn records(events: impl Iterator<Item = LogEvent>) -> Vec<Vec<u8>> {
    events
        .filter_map(|e| match e {
            LogEvent::Record { data, .. } => Some(data),
            LogEvent::Damaged { .. } => None,
        })
        .collect()
}

fn damage(events: impl Iterator<Item = LogEvent>) -> Vec<(u64, &'static str)> {
    events
        .filter_map(|e| match e {
            LogEvent::Damaged { bytes, reason, .. } => Some((bytes, reason)),
            LogEvent::Record { .. } => None,
        })
        .collect()
}

/// Overwrites the header checksum of the fragment at `at` so it no longer matches.
fn corrupt_checksum(log: &mut [u8], at: usize) {
    log[at] ^= 0x55;
}

#[test]
fn an_empty_log_has_no_records() {
    assert_eq!(LogReader::new(&[]).count(), 0);
}

#[test]
fn records_read_back_in_the_order_written() {
    let want = vec![
        b"foo".to_vec(),
        b"bar".to_vec(),
        Vec::new(),
        b"xxxx".to_vec(),
    ];
    assert_eq!(records(LogReader::new(&write_log(&want))), want);
}

#[test]
fn many_blocks_of_small_records_read_back() {
    let want: Vec<Vec<u8>> = (0..100_000u32)
        .map(|i| i.to_string().into_bytes())
        .collect();
    let log = write_log(&want);
    assert!(log.len() > 10 * BLOCK_SIZE);
    assert_eq!(records(LogReader::new(&log)), want);
}

#[test]
fn records_larger_than_a_block_are_fragmented_and_reassembled() {
    let want = vec![b"small".to_vec(), big(b'm', 50_000), big(b'l', 100_000)];
    let log = write_log(&want);
    assert_eq!(records(LogReader::new(&log)), want);
}

#[test]
fn a_record_that_leaves_exactly_a_header_of_room_is_followed_by_an_empty_first() {
    // Fill a block so that exactly HEADER_SIZE bytes remain: the next record starts with a
    // zero-length FIRST fragment there (LevelDB's MarginalTrailer).
    let n = BLOCK_SIZE - 2 * HEADER_SIZE;
    let want = vec![big(b'a', n), b"next".to_vec(), b"bar".to_vec()];
    let log = write_log(&want);
    assert_eq!(
        log[BLOCK_SIZE - 1],
        2,
        "a zero-length FIRST fragment ends the block"
    );
    assert_eq!(records(LogReader::new(&log)), want);
}

#[test]
fn a_block_trailer_shorter_than_a_header_is_skipped() {
    let n = BLOCK_SIZE - 2 * HEADER_SIZE + 4;
    let want = vec![big(b'a', n), Vec::new(), b"bar".to_vec()];
    let log = write_log(&want);
    assert_eq!(records(LogReader::new(&log)), want);
}

#[test]
fn a_truncated_trailing_record_is_reported_as_damage_at_the_end() {
    let mut log = write_log(&[b"foo".to_vec(), b"bar".to_vec()]);
    log.truncate(log.len() - 1);
    let events: Vec<_> = LogReader::new(&log).collect();
    assert_eq!(records(events.clone().into_iter()), vec![b"foo".to_vec()]);
    assert_eq!(
        damage(events.into_iter()),
        vec![(HEADER_SIZE as u64 + 2, "record cut short at the end")]
    );
}

#[test]
fn a_header_cut_short_at_the_end_is_damage() {
    let mut log = write_log(&[b"foo".to_vec(), b"bar".to_vec()]);
    log.truncate(log.len() - 5);
    assert_eq!(
        damage(LogReader::new(&log)),
        vec![(5, "header cut short at the end")]
    );
}

#[test]
fn a_checksum_mismatch_drops_only_the_damaged_record() {
    let want = vec![
        b"foo".to_vec(),
        b"bar".to_vec(),
        big(b'x', BLOCK_SIZE),
        b"after".to_vec(),
    ];
    let mut log = write_log(&want);
    corrupt_checksum(&mut log, 0);
    let events: Vec<_> = LogReader::new(&log).collect();
    assert_eq!(
        records(events.clone().into_iter()),
        want[1..].to_vec(),
        "every record after the damaged one is read"
    );
    assert_eq!(
        damage(events.into_iter()),
        vec![((HEADER_SIZE + 3) as u64, "checksum mismatch")]
    );
}

#[test]
fn damage_in_the_last_block_is_followed_by_the_records_after_it() {
    // One small block: skipping to the next block (LevelDB's way) would lose "c" and make
    // the damage look like a torn tail.
    let want = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()];
    let mut log = write_log(&want);
    let second = 7 + 1;
    log[second + 7] ^= 1; // the payload of "b"
    let events: Vec<_> = LogReader::new(&log).collect();
    assert_eq!(
        records(events.clone().into_iter()),
        vec![b"a".to_vec(), b"c".to_vec()]
    );
    assert_eq!(
        damage(events.into_iter()),
        vec![((HEADER_SIZE + 1) as u64, "checksum mismatch")]
    );
}

#[test]
fn a_damaged_length_does_not_hide_the_records_after_it() {
    let want = vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()];
    let mut log = write_log(&want);
    let second = 7 + 5;
    log[second + 5] = 0x7f; // a length that runs past the end of the file
    let found = records(LogReader::new(&log));
    assert_eq!(found, vec![b"first".to_vec(), b"third".to_vec()]);
}

#[test]
fn a_bad_length_that_runs_past_the_block_is_damage() {
    let mut log = write_log(&[b"foo".to_vec()]);
    log.resize(BLOCK_SIZE, 0);
    frame(BLOCK_SIZE as u64, b"second block", &mut log);
    log[4] = 0xff;
    log[5] = 0xff;
    let events: Vec<_> = LogReader::new(&log).collect();
    assert_eq!(
        records(events.clone().into_iter()),
        vec![b"second block".to_vec()]
    );
    assert!(!damage(events.into_iter()).is_empty());
}

#[test]
fn a_bad_record_type_is_damage() {
    let mut log = write_log(&[b"foo".to_vec()]);
    log[6] = 100;
    assert_eq!(
        damage(LogReader::new(&log)),
        vec![(log.len() as u64, "unknown fragment type")]
    );
}

#[test]
fn a_record_missing_its_last_fragment_at_the_end_is_damage() {
    let mut log = write_log(&[big(b'x', BLOCK_SIZE)]);
    log.truncate(BLOCK_SIZE);
    let events: Vec<_> = LogReader::new(&log).collect();
    assert!(records(events.clone().into_iter()).is_empty());
    assert_eq!(
        damage(events.into_iter()),
        vec![(BLOCK_SIZE as u64, "record cut short at the end")]
    );
}

#[test]
fn a_damaged_first_fragment_loses_its_record_and_the_next_record_survives() {
    let want = vec![big(b'x', 2 * BLOCK_SIZE), b"tail".to_vec()];
    let mut log = write_log(&want);
    corrupt_checksum(&mut log, 0);
    let events: Vec<_> = LogReader::new(&log).collect();
    assert_eq!(records(events.clone().into_iter()), vec![b"tail".to_vec()]);
    let tail_at = log.len() - (HEADER_SIZE + 4);
    assert_eq!(
        damage(events.into_iter()),
        vec![(tail_at as u64, "checksum mismatch")],
        "one damaged range: the record and its orphan fragments"
    );
}

#[test]
fn reading_from_the_middle_starts_at_the_next_whole_record() {
    let want: Vec<Vec<u8>> = vec![
        big(b'a', 10_000),
        big(b'b', 10_000),
        big(b'c', 2 * BLOCK_SIZE),
        big(b'd', 1),
    ];
    let log = write_log(&want);
    let starts: Vec<u64> = LogReader::new(&log)
        .filter_map(|e| match e {
            LogEvent::Record { offset, .. } => Some(offset),
            LogEvent::Damaged { .. } => None,
        })
        .collect();
    assert_eq!(records(LogReader::starting_at(&log, 0)), want);
    assert_eq!(records(LogReader::starting_at(&log, starts[1])), want[1..]);
    assert_eq!(
        records(LogReader::starting_at(&log, starts[1] + 1)),
        want[2..]
    );
    assert_eq!(
        records(LogReader::starting_at(&log, starts[3] - 1)),
        want[3..]
    );
    assert_eq!(
        records(LogReader::starting_at(&log, BLOCK_SIZE as u64 + 10)),
        want[3..]
    );
    assert_eq!(
        records(LogReader::starting_at(&log, log.len() as u64)),
        Vec::<Vec<u8>>::new()
    );
    assert_eq!(
        records(LogReader::starting_at(&log, log.len() as u64 + 100)),
        Vec::<Vec<u8>>::new()
    );
}
