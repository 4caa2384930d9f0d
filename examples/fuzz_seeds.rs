//! Writes the seed inputs of the fuzz targets (`fuzz/seeds/<target>/`): a real table, one of
//! its blocks, and a log segment, so fuzzing starts from valid files.
//! Run: `cargo run --example fuzz_seeds`.

use ppdb::key::{internal_key, ValueKind};
use ppdb::storage::MemStorage;
use ppdb::table::block::BlockBuilder;
use ppdb::table::{TableBuilder, TableOptions};
use ppdb::{Db, Options, Storage};
use std::sync::Arc;

fn main() -> ppdb::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let write = |target: &str, bytes: &[u8]| {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder).expect("seed folder");
        std::fs::write(folder.join("seed"), bytes).expect("seed file");
    };

    let storage: std::sync::Arc<dyn ppdb::Storage> = std::sync::Arc::new(MemStorage::new());
    let mut table = TableBuilder::new(
        std::sync::Arc::clone(&storage),
        "t",
        TableOptions {
            block_size: 256,
            ..TableOptions::default()
        },
    )?;
    let mut block = BlockBuilder::new(4);
    for i in 0..40u32 {
        let key = internal_key(
            format!("key{i:04}").as_bytes(),
            u64::from(i) + 1,
            ValueKind::Put,
        );
        let value = format!("value {i}").repeat(3);
        table.add(&key, value.as_bytes())?;
        block.add(&key, value.as_bytes());
    }
    table.finish()?;
    write("table_reader", &storage.read_all("t")?);
    write("block_reader", &block.finish());

    let storage = Arc::new(MemStorage::new());
    let db = Db::open(storage.clone(), Options::default().background_work(false))?;
    for i in 0..20u32 {
        db.put(format!("k{i}").as_bytes(), b"v")?;
    }
    db.delete(b"k3")?;
    let segment = storage
        .list()?
        .into_iter()
        .find(|n| n.ends_with(".wal"))
        .expect("a segment");
    write("wal_reader", &storage.read_all(&segment)?);
    Ok(())
}
