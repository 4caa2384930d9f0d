//! Errors as JS sees them: an `Error` named `PpdbError` with a stable `code`.

use crate::Error;
use wasm_bindgen::JsValue;

/// Converts an engine error into a JS `Error` with `name` and `code` set. `WouldBlock` is
/// named `WouldBlock`, not `PpdbError`: never a caller's error, the package's page proxy
/// takes it as its cue to ask the store's worker (pkg/proxy/page.js).
pub fn to_js(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    js.set_name(match err {
        Error::WouldBlock(_) => "WouldBlock",
        _ => "PpdbError",
    });
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &err.code().into());
    js.into()
}

/// `Result` with errors already converted for JS.
pub type JsResult<T> = Result<T, JsValue>;

/// Converts `Result<T, Error>` into `JsResult<T>`.
pub fn js<T>(result: crate::Result<T>) -> JsResult<T> {
    result.map_err(to_js)
}
