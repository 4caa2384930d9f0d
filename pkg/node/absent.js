// `#node` where there is no Node (browsers, workerd, bundlers building for them): the same
// names as index.js, none of which can work here. The package only calls them in Node,
// Deno and Bun, so these are never reached unless something is badly wrong.
import { PpdbError } from '../api/errors.js';

const absent = () => {
  throw new PpdbError('UNSUPPORTED', 'this needs Node, Deno or Bun');
};

export const readWasm = absent;
export const openFolder = absent;
export const joinFolder = absent;
export const destroyFolder = absent;
export const startMaintainer = absent;
export const syncAtExit = absent;
