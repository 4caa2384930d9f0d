// The JS side of the engine's scratch region (src/wasm/scratch.rs): single-key calls write
// their key (and value) straight into wasm memory and read a value back from it, so a get,
// put or del crosses the boundary with two numbers. Strings go in with
// TextEncoder.encodeInto and come out with one TextDecoder call, where the runtime takes
// views of the memory (browsers refuse views of shared memory: there they are copied).
import { ENCODE_SHORT, asciiInto } from '../api/text.js';
import { checkData } from '../api/encoding.js';

const encoder = new TextEncoder();

/** True if `fn(view)` accepts a view of shared memory (Node does; browsers do not). */
function takesShared(fn) {
  try {
    fn(new Uint8Array(new SharedArrayBuffer(16)));
    return true;
  } catch {
    return false;
  }
}

/**
 * The largest value peek() copies into its reused buffer, rather than into a new one. In a
 * Chromium worker, a new Uint8Array of 100 bytes (past 64 bytes its memory is outside the
 * JS heap) took 0.6-0.9 µs, as long as the rest of a get, and two workers making them at
 * once took about as long together as one after the other: copying 100 bytes out of shared
 * memory and decoding them took 1.1-1.2 µs that way, 0.23-0.29 µs through a kept buffer.
 */
const PLAIN = 64 * 1024;

export class Scratch {
  #wasm;
  #memory;
  #view = new Uint8Array(0);
  #pointer = 0;
  /** Bytes the engine keeps at #pointer at least (until the region is asked for more). */
  #room = 0;
  /** The view region() answers (see there). */
  #region = null;
  #encodeShared;
  #decodeShared;
  /** Where peek() copies what it cannot hand out as a view (null until it first must). */
  #plain = null;

  /** `engine`: a loaded engine (see loader.js). */
  constructor(engine) {
    this.#wasm = engine.wasm;
    this.#memory = engine.ownMemory;
    const shared = typeof SharedArrayBuffer !== 'undefined' && this.#memory.buffer instanceof SharedArrayBuffer;
    this.#encodeShared = !shared || takesShared((view) => encoder.encodeInto('x', view));
    this.#decodeShared = !shared || takesShared((view) => new TextDecoder().decode(view));
  }

  /**
   * A view of the region, at least `len` bytes (it may be longer: callers keep to what they
   * wrote). The same view serves every call until the region moves or memory grows.
   */
  region(len) {
    if (len > this.#room) {
      this.#pointer = this.#wasm.scratchPointer(len);
      this.#room = len;
      this.#region = null;
    }
    // (A view of memory that grew reads as empty, or, shared, still reaches the region.)
    if (this.#region === null || this.#region.length < this.#room) this.#region = this.view(this.#pointer, this.#room);
    return this.#region;
  }

  /**
   * A view of `length` bytes of wasm memory at `pointer`, good until memory grows (a view
   * of memory that grew reads as empty: ask again).
   */
  view(pointer, length) {
    // A view of memory that grew since is still good where it reaches (shared memory), or
    // empty (detached): renew it only when it does not reach the bytes asked for.
    if (this.#view.length < pointer + length) this.#view = new Uint8Array(this.#memory.buffer);
    return this.#view.subarray(pointer, pointer + length);
  }

  /** True if views of wasm memory can be decoded as they are (not shared memory in browsers). */
  get decodesViews() {
    return this.#decodeShared;
  }

  /**
   * Writes `data` (a string as the caller got it, or bytes the caller checked) at `offset`
   * of a region of at least `offset + Scratch.room(data)` bytes; returns its length in
   * bytes. Short ASCII text, well-formed whatever it holds, is written as it is read; other
   * text is checked first (checkData, `what` naming it in the error).
   */
  write(region, offset, data, what) {
    if (typeof data === 'string') {
      if (data.length <= ENCODE_SHORT) {
        const written = asciiInto(data, region, offset);
        if (written >= 0) return written;
      }
      checkData(data, what);
      if (this.#encodeShared) return encoder.encodeInto(data, region.subarray(offset)).written;
      data = encoder.encode(data);
    }
    region.set(data, offset);
    return data.length;
  }

  /** Bytes a string may take as UTF-8 (at most). */
  static room(data) {
    return typeof data === 'string' ? data.length * 3 : data.length;
  }

  /** The `len` bytes a read left at the start of the region: a copy (the caller's own). */
  result(len) {
    return this.region(len).slice(0, len);
  }

  /**
   * The `len` bytes a read left, as a view to decode at once, before the next call here (a
   * copy where the decoder refuses views of shared memory: into a buffer of this context's
   * own, reused, up to PLAIN bytes).
   */
  peek(len) {
    if (this.#decodeShared) return this.region(len).subarray(0, len);
    if (len > PLAIN) return this.result(len);
    const plain = (this.#plain ??= new Uint8Array(PLAIN));
    plain.set(this.region(len).subarray(0, len));
    return plain.subarray(0, len);
  }

  /** The error of a call that answered -2. */
  error() {
    return this.#wasm.takeError();
  }
}
