// Types of the package's one error class and its codes (pkg/api/errors.js); index.d.ts
// exports them.

/**
 * The codes a `PpdbError` carries (README, "Errors"): stable and machine-readable.
 * INTERNAL means a bug (the engine stopped); every other code is part of the API.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'UNSUPPORTED'
  | 'CORRUPTION'
  | 'IO'
  | 'NOT_FOUND'
  | 'STORE_FULL'
  | 'QUOTA_EXCEEDED'
  | 'LOCKED'
  | 'CONFLICT'
  | 'OWNER_CHANGED'
  | 'INTERNAL';

/** Every rejection of the package. */
export class PpdbError extends Error {
  /** As the package makes them (a code it does not know becomes INTERNAL). */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown });
  /** Always 'PpdbError'. */
  readonly name: 'PpdbError';
  /** What went wrong, one of the documented codes. */
  readonly code: ErrorCode;
  /** The error behind it, when there is one: the OS or browser storage error, the caller's throwing getter. */
  readonly cause?: unknown;
}
