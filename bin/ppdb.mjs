#!/usr/bin/env node
// ppdb on the command line: a store in a folder (the `fs` storage). `ppdb --help` says how.
// Output goes to stdout, progress bars and errors to stderr; the store is closed on every
// path (its LOCK file keeps other processes out while it is open).
import { parseArgs } from 'node:util';
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { open, destroy, exportNdjson, importNdjson, PpdbError } from '../pkg/index.js';
import { recordLine } from '../pkg/api/ndjson.js';

const USAGE = `Usage: ppdb <dir> <command> [options]

Opens the ppdb store in the folder <dir> (put and import create it). Keys and values on
the command line are UTF-8 text.

Commands:
  put <key> <value>   set a key
  get <key>           print the value (exit 1 with NOT_FOUND if the key is absent)
  del <key>           remove a key
  scan                print "key<TAB>value" lines in key order
  stats               print the store's statistics as JSON
  export [file|-]     write the records as NDJSON to a file, or to stdout (- or nothing)
  import [file|-]     put the NDJSON records of a file, or of stdin (- or nothing)
  bench [--n N]       time N puts, gets and scanned entries (3 rounds, medians) in a new
                      store at <dir>, which must not exist or be empty; removed afterwards

Options:
  --prefix <p>, --gt <k>, --gte <k>, --lt <k>, --lte <k>
                      scan and export only these keys
  --reverse           scan and export in descending key order
  --limit <n>         scan and export at most n records
  --json              get and scan print NDJSON records (exact bytes: see docs/format.md)
  --progress          export, import, bench: show the progress bar on stderr even when it
                      is not a terminal (it shows by default when it is)
  --n <N>             bench: operations per phase (default 10000)
  -h, --help          print this help

Put "--" before a key or value that starts with "-". Bytes that are not UTF-8 print as
U+FFFD in text output; --json and export keep them (as base64).
Exit status: 0 done, 1 failed ("ppdb: <CODE>: <message>" on stderr), 2 usage error.
`;

const OPTIONS = {
  prefix: { type: 'string' },
  gt: { type: 'string' },
  gte: { type: 'string' },
  lt: { type: 'string' },
  lte: { type: 'string' },
  reverse: { type: 'boolean' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  n: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const RANGE = ['prefix', 'gt', 'gte', 'lt', 'lte', 'reverse', 'limit'];

/** A mistake in the command line: exit status 2. */
class UsageError extends Error {
  code = 'USAGE';
}

/**
 * The commands: `args` is the usage of their arguments (`<required>`, `[optional]`),
 * `options` the options they take, `creates` whether they may create the store.
 */
const COMMANDS = {
  put: { args: '<key> <value>', options: [], creates: true, run: put },
  get: { args: '<key>', options: ['json'], run: get },
  del: { args: '<key>', options: [], run: del },
  scan: { args: '', options: [...RANGE, 'json'], run: scan },
  stats: { args: '', options: [], run: stats },
  export: { args: '[file|-]', options: [...RANGE, 'progress'], run: exportCommand },
  import: { args: '[file|-]', options: ['progress'], creates: true, run: importCommand },
  bench: { args: '', options: ['n', 'progress'] },
};

/** `{ help }` or `{ dir, name, command, args, values }` from the command line. */
function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [dir, name, ...args] = positionals;
  if (dir === undefined || name === undefined) throw new UsageError('expected <dir> <command>');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command '${name}'`);
  const words = command.args.split(' ').filter(Boolean);
  const required = words.filter((w) => w.startsWith('<')).length;
  if (args.length < required || args.length > words.length) {
    throw new UsageError(`expected: ppdb <dir> ${name} ${command.args}`.trimEnd());
  }
  for (const option of Object.keys(values)) {
    if (!command.options.includes(option)) throw new UsageError(`--${option} does not apply to ${name}`);
  }
  for (const option of ['limit', 'n']) {
    if (values[option] !== undefined && !/^\d+$/.test(values[option])) {
      throw new UsageError(`--${option} takes a whole number, got '${values[option]}'`);
    }
  }
  return { dir, name, command, args, values };
}

/** The iterator range the options ask for. */
function rangeOf(values) {
  const range = {};
  for (const option of RANGE) if (values[option] !== undefined) range[option] = values[option];
  if (range.limit !== undefined) range.limit = Number(range.limit);
  return range;
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A progress bar on stderr (never stdout) when --progress is given, or when stderr is a
 * terminal that the records are not being printed to; null otherwise. Off a terminal it
 * prints a line every second.
 */
function progressBar(values, format, { printsToStdout = false } = {}) {
  const terminal = process.stderr.isTTY && !(printsToStdout && process.stdout.isTTY);
  if (!values.progress && !terminal) return null;
  return new cliProgress.SingleBar(
    { format, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}

/** Writes text lines to a file or stdout ('-'), gathered into chunks of about 64 KiB. */
async function writeLines(lines, file) {
  async function* chunks() {
    let chunk = '';
    for await (const line of lines) {
      chunk += line;
      if (chunk.length >= 65536) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const out = file === '-' ? process.stdout : createWriteStream(file);
  await pipeline(Readable.from(chunks()), out);
}

async function put(db, [key, value]) {
  await db.put(key, value);
}

async function get(db, [key], values) {
  const value = await db.get(key, { valueEncoding: 'bytes' });
  if (value === undefined) throw new PpdbError('NOT_FOUND', `no key ${JSON.stringify(key)}`);
  process.stdout.write(values.json ? recordLine(new TextEncoder().encode(key), value) : `${new TextDecoder().decode(value)}\n`);
}

async function del(db, [key]) {
  await db.del(key);
}

async function scan(db, args, values) {
  const range = rangeOf(values);
  async function* lines() {
    if (values.json) {
      for await (const [k, v] of db.iterator({ ...range, keyEncoding: 'bytes', valueEncoding: 'bytes' })) yield recordLine(k, v);
    } else {
      for await (const [k, v] of db.iterator({ ...range, keyEncoding: 'utf8', valueEncoding: 'utf8' })) yield `${k}\t${v}\n`;
    }
  }
  await writeLines(lines(), '-');
}

async function stats(db) {
  process.stdout.write(`${JSON.stringify(await db.stats(), null, 2)}\n`);
}

/** Export; with a progress bar, counts the records first (one more scan) for its total. */
async function exportCommand(db, [file = '-'], values) {
  const range = rangeOf(values);
  const bar = progressBar(values, 'export [{bar}] {percentage}% | {value}/{total} records | {size} | ETA {eta_formatted}', {
    printsToStdout: file === '-',
  });
  if (bar) {
    let total = 0;
    for await (const _ of db.iterator({ ...range, keyEncoding: 'bytes', valueEncoding: 'bytes' })) total++;
    bar.start(total, 0, { size: mib(0) });
  }
  const onProgress = ({ records, bytes }) => bar?.update(records, { size: mib(bytes) });
  try {
    await writeLines(exportNdjson(db, { ...range, onProgress }), file);
  } finally {
    bar?.stop();
  }
}

/** Import; the progress bar follows the bytes read (of the file's size; stdin has none). */
async function importCommand(db, [file = '-'], values) {
  const size = file === '-' ? undefined : statSync(file).size;
  const bar = progressBar(
    values,
    size === undefined
      ? 'import | {records} records | {size} | {duration_formatted}'
      : 'import [{bar}] {percentage}% | {records} records | {size} of {total_size} | ETA {eta_formatted}',
  );
  bar?.start(size ?? 0, 0, { records: 0, size: mib(0), total_size: mib(size ?? 0) });
  const onProgress = ({ records, bytes }) => bar?.update(bytes, { records, size: mib(bytes) });
  try {
    await importNdjson(db, file === '-' ? process.stdin : createReadStream(file), { onProgress });
  } finally {
    bar?.stop();
  }
}

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The numbers 0..n-1 in a random order. */
function shuffled(n) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Three rounds, each on a new store at `dir` (removed after it): N puts of 16-byte keys
 * and 100-byte values in random order (relaxed durability, the final sync timed too), N
 * gets in another random order, one full scan. Prints the median ops/s of each phase.
 */
async function bench(dir, values) {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new PpdbError('INVALID_ARGUMENT', `bench writes a store of its own and removes it: ${dir} must not exist or be empty`);
  }
  const n = Number(values.n ?? 10000);
  if (n < 1) throw new UsageError('--n must be at least 1');
  const rounds = 3;
  const key = (i) => `bench:${String(i).padStart(10, '0')}`;
  const value = 'v'.repeat(100);
  const results = { put: [], get: [], scan: [] };
  const bar = progressBar(values, 'bench [{bar}] {percentage}% | {value}/{total} operations | ETA {eta_formatted}');
  bar?.start(rounds * 3 * n, 0);
  let operations = 0;
  const tick = () => ++operations % 1000 === 0 && bar?.update(operations);
  let flavour;
  const name = basename(resolve(dir));
  try {
    for (let round = 0; round < rounds; round++) {
      const db = await open(name, { storage: 'fs', path: dir, durability: 'relaxed' });
      flavour = db.flavour;
      try {
        let started = performance.now();
        for (const i of shuffled(n)) {
          await db.put(key(i), value);
          tick();
        }
        await db.flush();
        results.put.push(n / ((performance.now() - started) / 1000));

        started = performance.now();
        for (const i of shuffled(n)) {
          await db.get(key(i));
          tick();
        }
        results.get.push(n / ((performance.now() - started) / 1000));

        started = performance.now();
        let seen = 0;
        for await (const _ of db.iterator()) {
          seen++;
          tick();
        }
        results.scan.push(seen / ((performance.now() - started) / 1000));
      } finally {
        await db.close();
        await destroy(name, { storage: 'fs', path: dir });
      }
    }
    bar?.update(operations);
  } finally {
    bar?.stop();
  }
  const rate = (phase) => Math.round(median(results[phase])).toLocaleString('en-US').padStart(12);
  process.stdout.write(
    `ppdb bench: ${n} operations per phase, median of ${rounds} rounds, ${flavour} build, fs store at ${dir}\n` +
      `put   ${rate('put')} ops/s   random order, relaxed durability, synced at the end\n` +
      `get   ${rate('get')} ops/s   random order\n` +
      `scan  ${rate('scan')} ops/s   entries of one full scan\n`,
  );
}

async function main(argv) {
  const { help, dir, name, command, args, values } = parse(argv);
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  if (name === 'bench') return bench(dir, values);
  if (!command.creates && !existsSync(dir)) throw new PpdbError('NOT_FOUND', `no store at ${dir}`);
  if (name === 'import' && args[0] !== undefined && args[0] !== '-') statSync(args[0]); // ENOENT before creating the store
  const db = await open(basename(resolve(dir)), { storage: 'fs', path: dir });
  try {
    await command.run(db, args, values);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  // A reader that went away (`ppdb dir scan | head`) is not a failure.
  if (err?.code === 'EPIPE') return;
  const code = typeof err?.code === 'string' ? err.code : 'ERROR';
  // Node's fs errors start with their code already ("ENOENT: no such file ...").
  const message = String(err?.message ?? err).replace(`${code}: `, '');
  process.stderr.write(`ppdb: ${code}: ${message}\n`);
  if (err instanceof UsageError) process.stderr.write('Run "ppdb --help" for usage.\n');
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
