// Waiting for the next task of the event loop (not a microtask): background work such as
// opening files gets to run, and more concurrent writes join one flush. Nothing is made at
// module load: a runtime that lacks a global (workerd before 2025-08-15 has no
// MessageChannel) still loads the package, and gets the fallback.
let next = null;

/** A promise that settles in a later task of the event loop. */
export function nextTask() {
  next ??= pickNextTask();
  return next();
}

function pickNextTask() {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    // MessageChannel tasks are not clamped like nested setTimeout(0).
    const channel = new MessageChannel();
    const waiting = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(0);
      });
  }
  return () => new Promise((resolve) => setTimeout(resolve, 0));
}
