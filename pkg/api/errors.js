/**
 * The codes a PpdbError can carry (README, "Errors"): stable and machine-readable.
 * INTERNAL means a bug (the engine stopped); every other code is part of the API.
 */
export const CODES = Object.freeze([
  'INVALID_ARGUMENT',
  'CLOSED',
  'UNSUPPORTED',
  'CORRUPTION',
  'IO',
  'NOT_FOUND',
  'STORE_FULL',
  'QUOTA_EXCEEDED',
  'LOCKED',
  'CONFLICT',
  'OWNER_CHANGED',
  'INTERNAL',
]);

const STORAGE_CODES = ['IO', 'QUOTA_EXCEEDED', 'NOT_FOUND', 'LOCKED'];

/** The one error class of the package. `code` is one of CODES; `cause` keeps the error behind it. */
export class PpdbError extends Error {
  /**
   * @param {string} code one of CODES
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'PpdbError';
    this.code = CODES.includes(code) ? code : 'INTERNAL';
  }
}

export const invalid = (message, cause) => new PpdbError('INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });

export const closed = () => new PpdbError('CLOSED', 'the store is closed');

/** The PpdbError code for an error of Node's fs (`err.code`) or of a web storage API (`err.name`). */
export function storageCode(err) {
  // Node errors carry a string `code`; DOMExceptions a numeric one beside their `name`.
  switch (typeof err?.code === 'string' ? err.code : err?.name) {
    case 'ENOENT':
    case 'NotFoundError':
      return 'NOT_FOUND';
    case 'ENOSPC':
    case 'EDQUOT':
    case 'QuotaExceededError':
      return 'QUOTA_EXCEEDED';
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_ARG_TYPE':
    case 'TypeError':
      return 'INVALID_ARGUMENT';
    case 'NoModificationAllowedError':
      return 'LOCKED';
    // An engine with the API but not what backs it (WebKitGTK's sync access handles).
    case 'NotSupportedError':
      return 'UNSUPPORTED';
    default:
      return 'IO';
  }
}

/** A storage error as a PpdbError: `what` failed, the original kept as `cause`. */
export function storageError(what, err) {
  if (err instanceof PpdbError) return err;
  return new PpdbError(storageCode(err), `${what}: ${describeError(err)}`, { cause: err });
}

/** An error's message, or its name when the message is empty (DOMExceptions often are). */
export function describeError(err) {
  return err?.message || err?.name || String(err);
}

/**
 * Runs a call into wasm and turns what it throws into a PpdbError. A trap (a Rust panic)
 * leaves the instance unusable, so it is reported as INTERNAL and `onTrap` marks the
 * engine dead. Anything else thrown in there is a bug of the package: INTERNAL too.
 * `storageCause()` gives the storage error behind an IO, QUOTA_EXCEEDED, NOT_FOUND or
 * LOCKED error of the engine (it crossed the boundary as a message only).
 */
export function callEngine(fn, onTrap, storageCause) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PpdbError) throw err;
    if (err && err.name === 'PpdbError' && typeof err.code === 'string') {
      // A storage error inside the engine: the storage's own error is the cause.
      const cause = STORAGE_CODES.includes(err.code) ? storageCause?.() : undefined;
      throw new PpdbError(err.code, err.message, cause ? { cause } : undefined);
    }
    if (err instanceof WebAssembly.RuntimeError) {
      onTrap?.();
      throw new PpdbError('INTERNAL', `the engine stopped: ${err.message}`, { cause: err });
    }
    throw new PpdbError('INTERNAL', `unexpected error in the engine call: ${err?.message ?? err}`, { cause: err });
  }
}
