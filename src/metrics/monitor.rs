//! Alerts: rules over metric reports ("p99 put latency above 5 ms", "cache hit rate below
//! 0.8"). A rule fires once when its condition becomes true and again only after it has
//! been false in between, so a lasting condition raises one alert, not one per check.

use super::{Counts, Metrics, Report, Timed};
use crate::error::{Error, Result};

/// What a rule watches, by name: `<op>.p50|p90|p99|max` (milliseconds; op one of get,
/// put, batch, wal_write, wal_sync, flush, compaction, also written walWrite, walSync), `cacheHitRate` (0..1),
/// `memoryUse` (memtable bytes / memory limit, 0..1), `recoveryDropped` (log ranges
/// dropped at open), `walUnsyncedBytes`, `writeAmplification`, `spaceAmplification`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The name alerts carry (defaults to the metric and the comparison).
    pub name: String,
    /// The metric watched.
    pub metric: String,
    /// Fires above (true) or below (false) the threshold.
    pub above: bool,
    /// The threshold.
    pub threshold: f64,
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// The metric's value when it fired.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// When (milliseconds, wall clock).
    pub at_ms: f64,
}

/// The value of metric `name` in `report`, or `None` if there is no such metric.
pub fn value_of(report: &Report, name: &str) -> Option<f64> {
    let ms = |micros: u64| micros as f64 / 1000.0;
    if let Some((op, stat)) = name.split_once('.') {
        // `wal_sync` as in Prometheus, or `walSync` as in the JS metrics object.
        let (_, s) = report.latency.iter().find(|(n, _)| same_op(n, op))?;
        return match stat {
            "p50" => Some(ms(s.p50)),
            "p90" => Some(ms(s.p90)),
            "p99" => Some(ms(s.p99)),
            "max" => Some(ms(s.max)),
            _ => None,
        };
    }
    Some(match name {
        "cacheHitRate" => report.cache_hit_rate(),
        "memoryUse" => report.memtable_bytes as f64 / report.memory_limit.max(1) as f64,
        "recoveryDropped" => report.recovery_dropped as f64,
        "walUnsyncedBytes" => report.wal_unsynced_bytes as f64,
        "writeAmplification" => report.write_amplification,
        "spaceAmplification" => report.space_amplification,
        _ => return None,
    })
}

impl Rule {
    /// A rule on `metric`; `None` name means `"<metric> above|below <threshold>"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown metric or a threshold that is not finite.
    pub fn new(name: Option<String>, metric: &str, above: bool, threshold: f64) -> Result<Rule> {
        if !threshold.is_finite() {
            return Err(Error::invalid("an alert threshold must be a finite number"));
        }
        let probe = Report::empty();
        if value_of(&probe, metric).is_none() {
            return Err(Error::invalid(format!(
                "unknown metric {metric:?} for an alert (e.g. put.p99, cacheHitRate, memoryUse, recoveryDropped)"
            )));
        }
        let side = if above { "above" } else { "below" };
        Ok(Rule {
            name: name.unwrap_or_else(|| format!("{metric} {side} {threshold}")),
            metric: metric.to_string(),
            above,
            threshold,
        })
    }
}

/// Rules and whether each is firing.
#[derive(Default)]
pub struct Monitor {
    rules: Vec<(Rule, bool)>,
    /// Latency bucket counts at the previous check, by timed operation.
    previous: Vec<Counts>,
}

impl Monitor {
    /// A monitor of `rules`, none firing.
    pub fn new(rules: Vec<Rule>) -> Monitor {
        Monitor {
            rules: rules.into_iter().map(|r| (r, false)).collect(),
            previous: Vec::new(),
        }
    }

    /// The alerts of rules that became true since the last check. Latency rules look at
    /// the operations since the previous check (a window as long as the check interval),
    /// so a slow spell fires and a recovery clears; a window with no such operation
    /// leaves the rule as it was. Other rules read `report` as it is.
    pub fn check(&mut self, report: &Report, metrics: &Metrics, now_ms: f64) -> Vec<Alert> {
        let counts: Vec<Counts> = Timed::ALL
            .iter()
            .map(|&t| metrics.latency_counts(t))
            .collect();
        let mut recent = report.clone();
        recent.latency = Timed::ALL
            .iter()
            .zip(&counts)
            .enumerate()
            .map(|(i, (t, now))| {
                let before = self.previous.get(i).cloned().unwrap_or_default();
                (t.name(), now.since(&before))
            })
            .collect();
        self.previous = counts;
        let mut alerts = Vec::new();
        for (rule, firing) in &mut self.rules {
            let Some(value) = value_of(&recent, &rule.metric) else {
                continue;
            };
            if is_latency(&rule.metric) && latency_count(&recent, &rule.metric) == 0 {
                continue;
            }
            let now = if rule.above {
                value > rule.threshold
            } else {
                value < rule.threshold
            };
            if now && !*firing {
                alerts.push(Alert {
                    rule: rule.name.clone(),
                    value,
                    threshold: rule.threshold,
                    at_ms: now_ms,
                });
            }
            *firing = now;
        }
        alerts
    }
}

fn is_latency(metric: &str) -> bool {
    metric.contains('.')
}

/// Operations in the latency summary a metric name refers to.
fn latency_count(report: &Report, metric: &str) -> u64 {
    let op = metric.split('.').next().unwrap_or_default();
    report
        .latency
        .iter()
        .find(|(n, _)| same_op(n, op))
        .map_or(0, |(_, s)| s.count)
}

/// `wal_sync` as in Prometheus, or `walSync` as in the JS metrics object.
fn same_op(name: &str, op: &str) -> bool {
    name == op || name.replace('_', "").eq_ignore_ascii_case(op)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_latency_rule_fires_on_a_slow_spell_and_clears_after_it() {
        let rule = Rule::new(None, "put.p99", true, 5.0).expect("rule");
        assert_eq!(rule.name, "put.p99 above 5");
        let mut monitor = Monitor::new(vec![rule]);
        let metrics = Metrics::default();
        let report = Report::empty();
        assert!(monitor.check(&report, &metrics, 1.0).is_empty(), "no data");
        for _ in 0..100 {
            metrics.record(Timed::Put, 9_000);
        }
        let alerts = monitor.check(&report, &metrics, 2.0);
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].value >= 9.0 && alerts[0].value < 10.2,
            "{alerts:?}"
        );
        assert!(
            monitor.check(&report, &metrics, 3.0).is_empty(),
            "no new puts: no repeat"
        );
        for _ in 0..100 {
            metrics.record(Timed::Put, 9_000);
        }
        assert!(
            monitor.check(&report, &metrics, 4.0).is_empty(),
            "still slow: no repeat"
        );
        // A fast spell: the window's p99 is low although the total's is still 9 ms.
        for _ in 0..100 {
            metrics.record(Timed::Put, 50);
        }
        assert!(monitor.check(&report, &metrics, 5.0).is_empty());
        for _ in 0..10 {
            metrics.record(Timed::Put, 20_000);
        }
        assert_eq!(
            monitor.check(&report, &metrics, 6.0).len(),
            1,
            "fires again"
        );
    }

    #[test]
    fn a_gauge_rule_reads_the_report() {
        let mut monitor =
            Monitor::new(vec![
                Rule::new(Some("full".into()), "memoryUse", true, 0.5).expect("rule")
            ]);
        let metrics = Metrics::default();
        let mut report = Report::empty();
        report.memory_limit = 100;
        report.memtable_bytes = 10;
        assert!(monitor.check(&report, &metrics, 1.0).is_empty());
        report.memtable_bytes = 90;
        let alerts = monitor.check(&report, &metrics, 2.0);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule, "full");
        assert!((alerts[0].value - 0.9).abs() < 1e-9);
    }

    #[test]
    fn unknown_metrics_and_bad_thresholds_are_refused() {
        assert!(Rule::new(None, "put.p42", true, 1.0).is_err());
        assert!(Rule::new(None, "walSync.p99", true, 1.0).is_ok());
        assert!(Rule::new(None, "wal_sync.max", true, 1.0).is_ok());
        assert!(Rule::new(None, "walsink.p99", true, 1.0).is_err());
        assert!(Rule::new(None, "nope", true, 1.0).is_err());
        assert!(Rule::new(None, "cacheHitRate", false, f64::NAN).is_err());
        assert!(Rule::new(Some("hits".into()), "cacheHitRate", false, 0.8).is_ok());
    }
}
