// A dedicated worker a page starts to learn whether OPFS can hold a store (sync access
// handles exist only in workers; see opfsRefused in ./probe.js): posts null, or why not.
import { opfsRefused } from './probe.js';

opfsRefused().then(
  (refusal) => postMessage(refusal),
  () => postMessage(null),
);
