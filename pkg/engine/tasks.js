// Waiting for the next task of the event loop (not a microtask): background work such as
// opening files gets to run, and more concurrent writes join one flush.
export const nextTask =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : (() => {
        // MessageChannel tasks are not clamped like nested setTimeout(0).
        const channel = new MessageChannel();
        const waiting = [];
        channel.port1.onmessage = () => waiting.shift()?.();
        return () =>
          new Promise((resolve) => {
            waiting.push(resolve);
            channel.port2.postMessage(0);
          });
      })();
