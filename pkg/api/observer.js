// What a store tells about itself: metrics (as an object or Prometheus text), stats, and
// alert rules over the metrics, checked on a timer. The engine keeps the numbers and the
// rules; this adds the wasm memory the engine cannot see and runs the timer.
import { invalid } from './errors.js';
import { describe } from './encoding.js';
import { readOptions } from './options.js';

/** How often alert rules are checked, by default (milliseconds). */
const ALERT_INTERVAL_MS = 1000;

export class Observer {
  #handle;
  #engine;
  #call;
  #dispatch;
  #alive;
  #timer = null;

  /**
   * `call` runs an engine call (errors mapped); `dispatch(alert)` raises an 'alert' event;
   * `alive()` is false once the store closed or its engine stopped (the timer then checks nothing).
   */
  constructor({ handle, engine, call, dispatch, alive }) {
    this.#handle = handle;
    this.#engine = engine;
    this.#call = call;
    this.#dispatch = dispatch;
    this.#alive = alive;
  }

  #wasmMemory() {
    return this.#engine.ownMemory?.buffer.byteLength ?? 0;
  }

  metrics() {
    return this.#call(() => this.#handle.metrics(this.#wasmMemory()));
  }

  /** The metrics as Prometheus text (its renderer loads on first use). */
  async metricsText() {
    const report = this.metrics();
    return (await import('./prometheus.js')).render(report);
  }

  stats() {
    const stats = this.#call(() => this.#handle.stats());
    stats.wasmMemoryBytes = this.#wasmMemory();
    return stats;
  }

  /**
   * Replaces the rules, `[{ metric, above | below, name? }]`, and checks them every
   * `interval` ms. Metrics: `<op>.p50|p90|p99|max` (ms), `cacheHitRate`, `memoryUse`,
   * `recoveryDropped`, `walUnsyncedBytes`, `writeAmplification`, `spaceAmplification`.
   */
  setAlerts(rules, options) {
    if (!Array.isArray(rules)) throw invalid(`alerts must be an array of rules, got ${describe(rules)}`);
    const { interval = ALERT_INTERVAL_MS } = readOptions(options, 'setAlerts() options', ['interval']);
    this.#call(() => this.#handle.setAlerts(rules));
    this.stop();
    if (rules.length > 0) {
      this.#timer = setInterval(() => this.#alive() && this.checkAlerts(), interval);
      this.#timer.unref?.();
    }
  }

  /** Checks the rules now; dispatches and returns the alerts raised. */
  checkAlerts() {
    const alerts = this.#call(() => this.#handle.checkAlerts());
    for (const alert of alerts) this.#dispatch(alert);
    return alerts;
  }

  /** Stops the timer (the store closes). */
  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
  }
}
