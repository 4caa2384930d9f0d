// The benchmarks' tables: printed aligned on the console, and as Markdown for the results
// files and the README. Rows are arrays of strings, the first row the header.

/** Ops/s (or any count) rounded, with thousands separators; '-' when missing. */
export const fmt = (x) => (x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));

/** a / b to two places; '-' when either is missing. */
export const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(2));

/** Prints `rows` as columns: the first left-aligned, the rest right-aligned. */
export function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** `rows` as a Markdown table, numbers right-aligned. */
export function markdownTable(rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(rows[0]), line(rows[0].map((_, c) => (c === 0 ? '---' : '---:'))), ...rows.slice(1).map(line)].join('\n');
}
