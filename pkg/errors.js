/** The one error class of the package. `code` is stable and machine-readable. */
export class PpdbError extends Error {
  /**
   * @param {string} code e.g. 'INVALID_ARGUMENT', 'CLOSED', 'UNSUPPORTED', 'INTERNAL'
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'PpdbError';
    this.code = code;
  }
}

export const invalid = (message) => new PpdbError('INVALID_ARGUMENT', message);

/**
 * Runs a call into wasm and turns what it throws into a PpdbError. A trap (a Rust panic)
 * leaves the instance unusable, so it is reported as INTERNAL and `onTrap` marks the
 * engine dead.
 */
export function callEngine(fn, onTrap) {
  try {
    return fn();
  } catch (err) {
    if (err && err.name === 'PpdbError' && typeof err.code === 'string') {
      throw new PpdbError(err.code, err.message);
    }
    if (err instanceof WebAssembly.RuntimeError) {
      onTrap?.();
      throw new PpdbError('INTERNAL', `the engine stopped: ${err.message}`);
    }
    throw err;
  }
}
