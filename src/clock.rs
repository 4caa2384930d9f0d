//! Clocks (`std::time::Instant` is not available in wasm): wall-clock milliseconds for
//! reports, and a monotonic microsecond clock for latencies (`performance.now()` in wasm,
//! which every browser, worker, Node, Deno, Bun and workerd has).

/// Milliseconds since some fixed point, as a float.
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        now_micros() / 1000.0
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Monotonic microseconds since some fixed point.
pub fn now_micros() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        performance_now() * 1000.0
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e6
    }
}
