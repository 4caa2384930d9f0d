//! Forwards the engine's `log` records to JS: to a callback the package sets for this
//! thread, else to the console, in one format (`[ppdb] LEVEL module: message {k=v ...}`).
//! Quiet by default: nothing is logged until `setLogger` raises the level.

use js_sys::{Function, Object, Reflect};
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The callback of this thread (JS functions cannot be called from other threads).
    static CALLBACK: RefCell<Option<Function>> = const { RefCell::new(None) };
}

struct JsLogger;

static LOGGER: JsLogger = JsLogger;

/// Collects a record's key-value fields.
struct Fields(Vec<(String, String)>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        self.0.push((key.to_string(), text(&value)));
        Ok(())
    }
}

/// A field's value as text: numbers (fractions to three places), booleans and strings,
/// the kinds the engine logs. Written without `Value`'s `Display`, which would bring the
/// wasm build float formatting it has no other use for.
fn text(value: &log::kv::Value) -> String {
    if let Some(n) = value.to_u64() {
        n.to_string()
    } else if let Some(n) = value.to_i64() {
        n.to_string()
    } else if let Some(x) = value.to_f64() {
        let thousandths = (x.abs() * 1000.0).round() as u64;
        let sign = if x < 0.0 && thousandths > 0 { "-" } else { "" };
        format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000)
    } else if let Some(b) = value.to_bool() {
        b.to_string()
    } else {
        value.to_borrowed_str().unwrap_or_default().to_owned()
    }
}

impl Log for JsLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = Fields(Vec::new());
        let _ = record.key_values().visit(&mut fields);
        let module = record.module_path().unwrap_or("ppdb");
        let message = record.args().to_string();
        // Cloned out of the cell, so a callback may set another one (or log) safely.
        match CALLBACK.with(|c| c.borrow().clone()) {
            Some(callback) => {
                let entry = entry(record.level(), module, &message, &fields.0);
                let _ = callback.call1(&JsValue::NULL, &entry);
            }
            None => to_console(record.level(), module, &message, &fields.0),
        }
    }

    fn flush(&self) {}
}

/// A record as the object JS callbacks get: `{ level, module, message, fields, time }`.
fn entry(level: Level, module: &str, message: &str, fields: &[(String, String)]) -> Object {
    let object = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&object, &k.into(), &v.into());
    }
    let entry = Object::new();
    let level = level.as_str().to_ascii_lowercase();
    let _ = Reflect::set(&entry, &"level".into(), &level.into());
    let _ = Reflect::set(&entry, &"module".into(), &module.into());
    let _ = Reflect::set(&entry, &"message".into(), &message.into());
    let _ = Reflect::set(&entry, &"fields".into(), &object);
    let _ = Reflect::set(&entry, &"time".into(), &js_sys::Date::now().into());
    entry
}

/// A record on the console: `[ppdb] LEVEL module: message {k=v ...}`.
fn to_console(level: Level, module: &str, message: &str, fields: &[(String, String)]) {
    let shown: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let tail = if shown.is_empty() {
        String::new()
    } else {
        format!(" {{{}}}", shown.join(" "))
    };
    let line = JsValue::from(format!("[ppdb] {level} {module}: {message}{tail}"));
    match level {
        Level::Error => web_sys::console::error_1(&line),
        Level::Warn => web_sys::console::warn_1(&line),
        _ => web_sys::console::log_1(&line),
    }
}

/// Installs the logger (once per instance); it stays quiet until a level is set.
pub(super) fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Off);
    }
}

/// Sets the level (`off`, `error`, `warn`, `info`, `debug`, `trace`) for the whole
/// instance, and this thread's callback (`undefined`: the console).
#[wasm_bindgen(js_name = setLogger)]
pub fn set_logger(level: &str, callback: Option<Function>) -> Result<(), JsValue> {
    let filter: LevelFilter = level.parse().map_err(|_| {
        super::error::to_js(crate::Error::invalid(format!(
            "log level must be off, error, warn, info, debug or trace, got {level:?}"
        )))
    })?;
    install();
    log::set_max_level(filter);
    CALLBACK.with(|c| *c.borrow_mut() = callback);
    Ok(())
}

/// Sets this thread's callback only (`undefined`: the console), leaving the level, which
/// is the whole instance's, as it is. A worker attached to a shared store uses it to send
/// its records to the thread that owns the store.
#[wasm_bindgen(js_name = setLogCallback)]
pub fn set_log_callback(callback: Option<Function>) {
    install();
    CALLBACK.with(|c| *c.borrow_mut() = callback);
}
