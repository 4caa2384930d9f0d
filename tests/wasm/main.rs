//! The engine compiled to wasm, run under Node by `wasm-bindgen-test-runner`:
//! `cargo test --target wasm32-unknown-unknown --test wasm`.
#![cfg(target_arch = "wasm32")]

use ppdb::wasm::DbHandle;
use ppdb::{Db, Options, ScanOptions, WriteBatch};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn code_of(err: JsValue) -> String {
    js_sys::Reflect::get(&err, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn the_engine_reads_back_what_it_wrote_in_wasm() {
    let db = Db::open_in_memory(Options::default());
    for i in 0..1000u32 {
        db.put(&i.to_be_bytes(), &(i * 2).to_le_bytes())
            .expect("put");
    }
    let mut batch = WriteBatch::new();
    batch.delete(&5u32.to_be_bytes()).put(b"zz", b"last");
    db.write(&batch).expect("batch");
    assert_eq!(
        db.get(&7u32.to_be_bytes()).expect("get"),
        Some(14u32.to_le_bytes().to_vec())
    );
    assert_eq!(db.get(&5u32.to_be_bytes()).expect("get"), None);
    let last: Vec<_> = db
        .scan(ScanOptions::all().reverse(true).limit(2))
        .expect("scan")
        .collect();
    assert_eq!(last[0], (b"zz".to_vec(), b"last".to_vec()));
    assert_eq!(last[1].0, 999u32.to_be_bytes().to_vec());
    assert_eq!(db.scan(ScanOptions::all()).expect("scan").count(), 1000);
}

#[wasm_bindgen_test]
fn the_js_handle_returns_typed_errors_instead_of_panicking() {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"maxKeySize".into(), &8.into()).expect("set");
    js_sys::Reflect::set(&options, &"maxValueSize".into(), &16.into()).expect("set");
    let mut handle = DbHandle::open_memory(options.into()).expect("open");
    handle.put(b"key", b"value").expect("put");
    assert_eq!(handle.get(b"key").expect("get"), Some(b"value".to_vec()));
    // The empty key is a key like any other (as in LevelDB).
    handle.put(b"", b"empty").expect("put the empty key");
    assert_eq!(handle.get(b"").expect("get"), Some(b"empty".to_vec()));
    assert_eq!(
        code_of(handle.put(b"123456789", b"v").expect_err("long key")),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        code_of(handle.put(b"k", &[0; 17]).expect_err("long value")),
        "INVALID_ARGUMENT"
    );
    handle.close();
    assert_eq!(code_of(handle.get(b"key").expect_err("closed")), "CLOSED");
    assert_eq!(
        code_of(handle.put(b"key", b"v").expect_err("closed")),
        "CLOSED"
    );
}

#[wasm_bindgen_test]
fn unknown_option_values_are_invalid_arguments() {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"durability".into(), &"eventually".into()).expect("set");
    let err = DbHandle::open_memory(options.into())
        .err()
        .expect("rejected");
    assert_eq!(code_of(err), "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
fn share_is_refused_by_the_single_threaded_build() {
    let handle = DbHandle::open_memory(JsValue::UNDEFINED).expect("open");
    if !cfg!(target_feature = "atomics") {
        assert_eq!(
            code_of(handle.share().expect_err("single build")),
            "UNSUPPORTED"
        );
    }
}
