//! The `json` value encoding: structured JS values to and from JSON bytes, converted by
//! `serde-wasm-bindgen` (so what is stored is plain JSON any reader can parse).

use super::error::{to_js, JsResult};
use crate::Error;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// `value` (objects, arrays, strings, finite numbers, booleans, null) as JSON bytes.
#[wasm_bindgen(js_name = encodeJson)]
pub fn encode_json(value: JsValue) -> JsResult<Vec<u8>> {
    let parsed: serde_json::Value = serde_wasm_bindgen::from_value(value).map_err(|err| {
        to_js(Error::invalid(format!(
            "the value cannot be stored as JSON: {err}"
        )))
    })?;
    serde_json::to_vec(&parsed).map_err(|err| to_js(Error::invalid(err.to_string())))
}

/// The JS value of JSON `bytes` (objects come back as plain objects).
#[wasm_bindgen(js_name = decodeJson)]
pub fn decode_json(bytes: &[u8]) -> JsResult<JsValue> {
    let parsed: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        to_js(Error::invalid(format!(
            "the stored value is not JSON ({err}); read it with valueEncoding 'utf8' or 'bytes'"
        )))
    })?;
    parsed
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|err| to_js(Error::invalid(err.to_string())))
}
