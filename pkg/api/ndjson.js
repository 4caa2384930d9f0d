// NDJSON export and import: a store's records as text, one JSON object per line, for
// backups, moving a store between storages or machines, and reading with ordinary tools.
// No Node imports: this runs wherever the package runs. The format (docs/format.md):
//
//   {"ppdb":"export","version":1}                  the header, the first line of an export
//   {"key":"user:1","value":"Ada"}                 bytes that are UTF-8, as JSON strings
//   {"keyBase64":"AP8=","valueBase64":"3q2+7w=="}  other bytes as base64 (chosen per field)
import { PpdbError, invalid } from './errors.js';
import { readOptions, readField, checkStore } from './options.js';
import { isBytes } from './encoding.js';

/** The first line of every export. */
const HEADER = { ppdb: 'export', version: 1 };
/** onProgress is called once per this many records (and at the end). */
const PROGRESS_EVERY = 5000;
/** An import writes a batch once it holds this many records or this many bytes. */
const BATCH_RECORDS = 1000;
const BATCH_BYTES = 1 << 20;

const encoder = new TextEncoder();
// fatal: bytes that are not UTF-8 throw (and are written as base64); ignoreBOM: a leading
// U+FEFF in a key or value is data and must survive the round trip.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as a string, or undefined when they are not valid UTF-8. */
function asText(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * One NDJSON record line (ending in "\n") for a key and a value given as bytes: each field
 * is `"key"`/`"value"` text when its bytes are UTF-8, else `"keyBase64"`/`"valueBase64"`.
 */
export function recordLine(key, value) {
  const record = {};
  for (const [name, bytes] of [['key', key], ['value', value]]) {
    const text = asText(bytes);
    if (text === undefined) record[`${name}Base64`] = toBase64(bytes);
    else record[name] = text;
  }
  return JSON.stringify(record) + '\n';
}

/**
 * The records of `db` as NDJSON lines (strings ending in "\n"), in key order: the header
 * line, then one record per line. Options: the range options of `db.iterator` (gt, gte,
 * lt, lte, prefix, reverse, limit) and `onProgress({ records, bytes })`, called every few
 * thousand records and at the end (`bytes`: UTF-8 bytes of the lines so far). The lines
 * come from one snapshot, taken when iteration starts. `exportNdjson()` (pkg/index.js)
 * checks the arguments, then loads this module.
 */
export async function* exportLines(db, { gt, gte, lt, lte, prefix, reverse, limit, onProgress }) {
  const progress = { records: 0, bytes: 0 };
  const header = JSON.stringify(HEADER) + '\n';
  progress.bytes += header.length;
  yield header;
  const range = { gt, gte, lt, lte, prefix, reverse, limit, keyEncoding: 'bytes', valueEncoding: 'bytes' };
  for await (const [key, value] of db.iterator(range)) {
    const line = recordLine(key, value);
    progress.records++;
    progress.bytes += encoder.encode(line).length;
    yield line;
    if (progress.records % PROGRESS_EVERY === 0) onProgress?.({ ...progress });
  }
  onProgress?.({ ...progress });
}

/** An INVALID_ARGUMENT error about input line `line`. */
function malformed(line, reason) {
  return invalid(`line ${line}: ${reason}`);
}

/** The chunks of an import source (see importNdjson). */
function chunksOf(source) {
  if (typeof source === 'string' || isBytes(source)) return [source];
  const has = (name) => typeof source === 'object' && source !== null && typeof readField(source, name, 'the source') === 'function';
  if (has(Symbol.asyncIterator)) return source;
  if (has('getReader')) return readStream(source);
  if (has(Symbol.iterator)) return source;
  throw invalid('importNdjson() reads an async iterable of strings or Uint8Array chunks, or a ReadableStream');
}

/** The chunks of `source`; an error of the source itself (a stream that failed, say) is
 * an IO PpdbError with that error as its cause. */
async function* sourceChunks(source) {
  const failed = (err) =>
    err instanceof TypeError
      ? invalid(`importNdjson(): the source is not a working iterable: ${err.message}`, err)
      : new PpdbError('IO', `importNdjson(): the source failed: ${err?.message ?? err}`, { cause: err });
  const chunks = chunksOf(source);
  let iterator;
  try {
    iterator = typeof chunks[Symbol.asyncIterator] === 'function' ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  } catch (err) {
    throw failed(err);
  }
  for (;;) {
    let step;
    try {
      step = await iterator.next();
    } catch (err) {
      throw failed(err);
    }
    if (step === null || typeof step !== 'object') throw invalid('importNdjson(): the source is not a proper iterator');
    if (step.done) return;
    yield step.value;
  }
}

/** A web ReadableStream's chunks (for runtimes where it is not async iterable). */
async function* readStream(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The lines of `source` without their "\n", however the chunks split them (a line, or a
 * UTF-8 character, may span chunks). Adds the bytes read to `counter.bytes`.
 */
async function* splitLines(source, counter) {
  const decoder = new TextDecoder('utf-8', { fatal: true }); // a BOM at the start is skipped
  let lines = 0;
  const decode = (bytes, stream) => {
    try {
      return decoder.decode(bytes, { stream });
    } catch {
      throw invalid(`the input is not valid UTF-8 (somewhere after line ${lines})`);
    }
  };
  let rest = '';
  for await (const chunk of sourceChunks(source)) {
    let text;
    if (typeof chunk === 'string') {
      text = chunk;
      counter.bytes += encoder.encode(chunk).length;
    } else if (isBytes(chunk)) {
      text = decode(chunk, true);
      counter.bytes += chunk.length;
    } else {
      throw invalid(`importNdjson() chunks must be strings or Uint8Array, got ${typeof chunk}`);
    }
    const parts = (rest + text).split('\n');
    rest = parts.pop();
    for (const part of parts) {
      lines++;
      yield part;
    }
  }
  rest += decode(undefined, false);
  if (rest !== '') yield rest;
}

/** A key or value field of a record: text, or bytes from base64. */
function field(record, name, line) {
  const text = record[name];
  const base64 = record[`${name}Base64`];
  if ((text === undefined) === (base64 === undefined)) {
    throw malformed(line, `a record needs exactly one of "${name}" and "${name}Base64"`);
  }
  if (text !== undefined) {
    if (typeof text !== 'string') throw malformed(line, `"${name}" must be a string`);
    return text;
  }
  if (typeof base64 !== 'string') throw malformed(line, `"${name}Base64" must be a string`);
  try {
    return fromBase64(base64);
  } catch {
    throw malformed(line, `"${name}Base64" is not base64`);
  }
}

/**
 * The put operation on input line number `line`, or null for a blank line or a header
 * (headers are checked and skipped wherever they are, so concatenated exports import).
 */
function parseLine(text, line) {
  if (text.trim() === '') return null;
  let record;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw malformed(line, `not JSON (${err.message})`);
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw malformed(line, 'not a JSON object');
  if ('ppdb' in record) {
    if (record.ppdb !== HEADER.ppdb || record.version !== HEADER.version) {
      throw malformed(line, `unsupported header; this version reads ${JSON.stringify(HEADER)}`);
    }
    return null;
  }
  const key = field(record, 'key', line);
  const value = field(record, 'value', line);
  return { type: 'put', key, value };
}

/**
 * Writes NDJSON records (what `exportNdjson` writes, or record lines without the header)
 * into `db`, in batches of about 1,000 records or 1 MiB. `source`: an async (or sync)
 * iterable of strings or Uint8Array chunks (a Node stream, `fs.createReadStream`), a web
 * ReadableStream (`response.body`, `file.stream()`), or one string or Uint8Array. Lines
 * may be split anywhere between chunks; blank lines are skipped. `onProgress({ records,
 * bytes })` is called every few thousand records and at the end (`bytes`: input bytes
 * read). Resolves to `{ records, bytes }`.
 *
 * A malformed line (not JSON, no key, bad base64, a key or value the store refuses)
 * rejects with a PpdbError `INVALID_ARGUMENT` whose message names the line number; every
 * record before that line has been written, nothing after it. Records are puts: keys
 * already in `db` are overwritten, other keys are kept.
 */
export async function importNdjson(db, source, options) {
  checkStore(db, 'importNdjson()');
  const { onProgress } = readOptions(options, 'importNdjson() options', ['onProgress']);
  const progress = { records: 0, bytes: 0 };
  let reported = 0;
  let pending = [];
  let pendingLines = [];
  let pendingBytes = 0;

  const write = async () => {
    const ops = pending;
    const lines = pendingLines;
    pending = [];
    pendingLines = [];
    pendingBytes = 0;
    if (ops.length === 0) return;
    await writeBatch(db, ops, lines);
    progress.records += ops.length;
    if (progress.records - reported >= PROGRESS_EVERY) {
      reported = progress.records;
      onProgress?.({ ...progress });
    }
  };

  let line = 0;
  try {
    for await (const text of splitLines(source, progress)) {
      const op = parseLine(text, ++line);
      if (op === null) continue;
      pending.push(op);
      pendingLines.push(line);
      pendingBytes += op.key.length + op.value.length;
      if (pending.length >= BATCH_RECORDS || pendingBytes >= BATCH_BYTES) await write();
    }
    await write();
  } catch (err) {
    // Write what came before the failure; the failure is what the caller needs to see.
    await write().catch(() => {});
    throw err;
  }
  onProgress?.({ ...progress });
  return { ...progress };
}

/**
 * Writes `ops` in one batch. If the store refuses the batch (a key or value over its
 * limit), writes the operations one by one up to the refused one and names its line.
 */
async function writeBatch(db, ops, lines) {
  try {
    await db.batch(ops, { valueEncoding: 'bytes' });
  } catch (err) {
    if (err?.code !== 'INVALID_ARGUMENT') throw err;
    for (let i = 0; i < ops.length; i++) {
      try {
        await db.batch([ops[i]], { valueEncoding: 'bytes' });
      } catch (opErr) {
        throw malformed(lines[i], opErr.message.replace(/^operation 0: /, ''));
      }
    }
    throw err;
  }
}
