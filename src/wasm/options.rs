//! Open options as the JS package passes them: a plain object, camelCase, every field
//! optional. The package has checked them already (`pkg/api/options.js`); these checks
//! keep a caller of the raw bindings from reaching anything but a typed error.

use crate::options::{Durability, LatencySwitch, RecoveryMode};
use crate::{Error, Options};
use wasm_bindgen::JsValue;

/// Property `name` of `object` (`undefined` when absent or unreadable).
pub(super) fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Property `name` read by `read` (`None` for another type, refused as not `kind`);
/// `None` when undefined or null.
fn optional<T>(
    object: &JsValue,
    name: &str,
    kind: &str,
    read: impl FnOnce(&JsValue) -> Option<T>,
) -> crate::Result<Option<T>> {
    let value = field(object, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    read(&value)
        .map(Some)
        .ok_or_else(|| Error::invalid(format!("{name} must be {kind}")))
}

/// Number property `name`, `None` when undefined or null.
pub(super) fn number(object: &JsValue, name: &str) -> crate::Result<Option<f64>> {
    optional(object, name, "a number", JsValue::as_f64)
}

/// String property `name`, `None` when undefined or null.
pub(super) fn text(object: &JsValue, name: &str) -> crate::Result<Option<String>> {
    optional(object, name, "a string", JsValue::as_string)
}

/// Non-negative integer property `name`, `None` when undefined or null.
fn whole(object: &JsValue, name: &str) -> crate::Result<Option<u64>> {
    match number(object, name)? {
        None => Ok(None),
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => {
            Ok(Some(n as u64))
        }
        Some(_) => Err(Error::invalid(format!(
            "{name} must be a non-negative integer"
        ))),
    }
}

fn size(object: &JsValue, name: &str) -> crate::Result<Option<usize>> {
    whole(object, name)?
        .map(|n| usize::try_from(n).map_err(|_| Error::invalid(format!("{name} is too large"))))
        .transpose()
}

/// An `Options` setter taking a size in bytes.
type SetSize = fn(Options, usize) -> Options;

/// The engine's options from the JS open options (`undefined` or null: the defaults).
pub(super) fn open_options(value: &JsValue) -> crate::Result<Options> {
    let mut options = Options::default().relaxed_flush_interval_ms(0);
    if value.is_undefined() || value.is_null() {
        return Ok(options);
    }
    if !value.is_object() {
        return Err(Error::invalid("bad options: expected an object"));
    }
    let sizes: [(&str, SetSize); 6] = [
        ("maxKeySize", Options::max_key_size),
        ("maxValueSize", Options::max_value_size),
        ("memtableSize", Options::memtable_size),
        ("memoryLimit", Options::memory_limit),
        ("relaxedFlushBytes", Options::relaxed_flush_bytes),
        ("blockCacheSize", Options::block_cache_size),
    ];
    for (name, set) in sizes {
        if let Some(n) = size(value, name)? {
            options = set(options, n);
        }
    }
    if let Some(ms) = whole(value, "stallTimeout")? {
        options = options.stall_timeout_ms(ms);
    }
    let switch = field(value, "latencySwitch");
    if !switch.is_undefined() && !switch.is_null() {
        let (average, min_bytes) = (
            whole(&switch, "averageMicros")?,
            size(&switch, "minMemtableBytes")?,
        );
        let (Some(average_micros), Some(min_memtable_bytes)) = (average, min_bytes) else {
            return Err(Error::invalid(
                "latencySwitch needs averageMicros and minMemtableBytes",
            ));
        };
        options = options.latency_switch(Some(LatencySwitch {
            average_micros,
            min_memtable_bytes,
        }));
    }
    options = options.durability(match text(value, "durability")?.as_deref() {
        None | Some("sync") => Durability::Sync,
        Some("relaxed") => Durability::Relaxed,
        Some(other) => {
            return Err(Error::invalid(format!(
                "durability must be 'sync' or 'relaxed', got '{other}'"
            )))
        }
    });
    options = options.recovery_mode(match text(value, "recovery")?.as_deref() {
        None | Some("strict") => RecoveryMode::Strict,
        Some("skip-corrupted") => RecoveryMode::SkipCorrupted,
        Some(other) => {
            return Err(Error::invalid(format!(
                "recovery must be 'strict' or 'skip-corrupted', got '{other}'"
            )))
        }
    });
    Ok(options)
}
