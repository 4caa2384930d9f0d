//! Metrics and alerts, as the JS package reads them (it renders the Prometheus text
//! itself: `pkg/api/prometheus.js`).

use super::db::{object, DbHandle};
use super::error::{js, to_js, JsResult};
use super::options::{number, text};
use crate::metrics::monitor::{Monitor, Rule};
use crate::metrics::{Report, Summary};
use crate::Error;
use wasm_bindgen::prelude::*;

/// `snake_case` report names as JS property names (`wal_sync` -> `walSync`).
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn latency(s: &Summary) -> JsValue {
    let ms = |micros: u64| micros as f64 / 1000.0;
    let mean = if s.count == 0 {
        0.0
    } else {
        ms(s.sum) / s.count as f64
    };
    object(&[
        ("count", (s.count as f64).into()),
        ("p50", ms(s.p50).into()),
        ("p90", ms(s.p90).into()),
        ("p99", ms(s.p99).into()),
        ("max", ms(s.max).into()),
        ("mean", mean.into()),
    ])
    .into()
}

fn named<T>(items: &[(&str, T)], value: impl Fn(&T) -> JsValue) -> JsValue {
    let out = js_sys::Object::new();
    for (name, item) in items {
        let _ = js_sys::Reflect::set(&out, &camel(name).into(), &value(item));
    }
    out.into()
}

/// The plain object `db.metrics()` returns (latencies in milliseconds).
fn report_object(r: &Report, wasm_memory: Option<f64>) -> js_sys::Object {
    let levels = js_sys::Array::new();
    for (tables, bytes) in &r.levels {
        levels.push(&object(&[
            ("tables", (*tables as f64).into()),
            ("bytes", (*bytes as f64).into()),
        ]));
    }
    object(&[
        ("operations", named(&r.ops, |n| (*n as f64).into())),
        (
            "bytes",
            object(&[
                ("written", (r.bytes_written as f64).into()),
                ("read", (r.bytes_read as f64).into()),
            ])
            .into(),
        ),
        ("latency", named(&r.latency, latency)),
        (
            "memory",
            object(&[
                ("wasm", wasm_memory.unwrap_or(0.0).into()),
                ("memtables", (r.memtable_bytes as f64).into()),
                ("cache", (r.cache_bytes as f64).into()),
                ("limit", (r.memory_limit as f64).into()),
            ])
            .into(),
        ),
        (
            "cache",
            object(&[
                ("hits", (r.cache_hits as f64).into()),
                ("misses", (r.cache_misses as f64).into()),
                ("hitRate", r.cache_hit_rate().into()),
            ])
            .into(),
        ),
        ("compressionRatio", r.compression_ratio.into()),
        (
            "wal",
            object(&[
                ("bytes", (r.wal_bytes as f64).into()),
                ("unsyncedBytes", (r.wal_unsynced_bytes as f64).into()),
            ])
            .into(),
        ),
        ("levels", levels.into()),
        ("writeAmplification", r.write_amplification.into()),
        ("spaceAmplification", r.space_amplification.into()),
        ("recoveryDropped", (r.recovery_dropped as f64).into()),
    ])
}

/// An alert rule as JS gives it: `{ metric, above | below, name? }`.
struct RuleOption {
    metric: String,
    above: Option<f64>,
    below: Option<f64>,
    name: Option<String>,
}

impl RuleOption {
    fn parse(value: &JsValue) -> crate::Result<RuleOption> {
        if !value.is_object() {
            return Err(Error::invalid("an alert rule must be an object"));
        }
        Ok(RuleOption {
            metric: text(value, "metric")?
                .ok_or_else(|| Error::invalid("an alert rule needs a metric"))?,
            above: number(value, "above")?,
            below: number(value, "below")?,
            name: text(value, "name")?,
        })
    }
}

#[wasm_bindgen]
impl DbHandle {
    /// Counters, latencies (ms), gauges: see the package's `db.metrics()`.
    pub fn metrics(&self, wasm_memory: Option<f64>) -> JsResult<js_sys::Object> {
        Ok(report_object(&self.db()?.metrics(), wasm_memory))
    }

    /// Replaces the alert rules: an array of `{ metric, above | below, name? }`.
    #[wasm_bindgen(js_name = setAlerts)]
    pub fn set_alerts(&mut self, rules: JsValue) -> JsResult<()> {
        let rules: js_sys::Array = rules.dyn_into().map_err(|_| {
            to_js(Error::invalid(
                "alerts must be an array of { metric, above | below, name? }",
            ))
        })?;
        let mut parsed = Vec::with_capacity(rules.length() as usize);
        for rule in rules.iter() {
            let rule = js(RuleOption::parse(&rule))?;
            let (above, threshold) = match (rule.above, rule.below) {
                (Some(t), None) => (true, t),
                (None, Some(t)) => (false, t),
                _ => {
                    return Err(to_js(Error::invalid(format!(
                        "alert on {:?} needs exactly one of above or below",
                        rule.metric
                    ))))
                }
            };
            parsed.push(js(Rule::new(rule.name, &rule.metric, above, threshold))?);
        }
        self.monitor = Monitor::new(parsed);
        Ok(())
    }

    /// Alerts of rules that became true since the last check: `[{ rule, value,
    /// threshold, time }]`.
    #[wasm_bindgen(js_name = checkAlerts)]
    pub fn check_alerts(&mut self) -> JsResult<js_sys::Array> {
        let db = self.db()?.clone();
        let out = js_sys::Array::new();
        for alert in db.check_alerts(&mut self.monitor) {
            out.push(&object(&[
                ("rule", alert.rule.as_str().into()),
                ("value", alert.value.into()),
                ("threshold", alert.threshold.into()),
                ("time", alert.at_ms.into()),
            ]));
        }
        Ok(out)
    }

    /// Records a latency measured on the JS side (`'wal_sync'`: commits of OPFS and
    /// IndexedDB made there), in milliseconds.
    #[wasm_bindgen(js_name = recordLatency)]
    pub fn record_latency(&self, name: &str, millis: f64) -> JsResult<()> {
        let timed = crate::metrics::Timed::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| to_js(Error::invalid(format!("no latency named {name:?}"))))?;
        self.db()?
            .record_latency(timed, (millis * 1000.0).ceil().max(1.0) as u64);
        Ok(())
    }
}
