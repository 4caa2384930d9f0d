// Writes www/data/sample.ndjson, the demo's sample dataset: an invented library of authors
// and books, in the NDJSON export format of ppdb (docs/format.md), so the demo imports it
// with importNdjson. Deterministic: the same file every run (a seeded generator).
//
//   node scripts/make-sample-data.mjs
//
// Keys (values are JSON text):
//   author:<slug>                 {"name","born","country","books"}
//   book:<00001>                  {"title","author","year","genre","pages"}
//   genre:<genre>:book:<00001>    the title: an index, so a prefix search lists a genre
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'www', 'data', 'sample.ndjson');
const AUTHORS = 300;
const BOOKS = 3000;

// mulberry32: a small seeded generator, so the file never changes between runs.
let seed = 0x5eed1e55;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const FIRST = ['Ada', 'Amara', 'Bruno', 'Chen', 'Clara', 'Dario', 'Elena', 'Emil', 'Farah', 'Felix', 'Greta', 'Hana',
  'Hugo', 'Ines', 'Ivan', 'Jonas', 'Kai', 'Lena', 'Lucas', 'Maya', 'Mateo', 'Nadia', 'Noah', 'Olga', 'Omar', 'Paula',
  'Priya', 'Rafael', 'Rosa', 'Sami', 'Sofia', 'Tariq', 'Tomas', 'Uma', 'Vera', 'Wen', 'Yara', 'Yusuf', 'Zoe', 'Aiko'];
const LAST = ['Abara', 'Berg', 'Castillo', 'Dubois', 'Eriksen', 'Ferreira', 'Garcia', 'Haddad', 'Ito', 'Jansen',
  'Kowalski', 'Larsen', 'Moreno', 'Nakamura', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Silva', 'Tanaka', 'Ueda',
  'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhou', 'Novak', 'Mensah', 'Lindqvist', 'Kaur'];
const COUNTRIES = ['Argentina', 'Brazil', 'Canada', 'Chile', 'Egypt', 'France', 'Germany', 'Ghana', 'India',
  'Ireland', 'Italy', 'Japan', 'Kenya', 'Mexico', 'Nigeria', 'Norway', 'Poland', 'Portugal', 'Spain', 'Sweden',
  'Turkey', 'Vietnam'];
const GENRES = ['fantasy', 'history', 'mystery', 'poetry', 'romance', 'science', 'science-fiction', 'thriller', 'travel'];
const ADJECTIVES = ['Silent', 'Last', 'Hidden', 'Broken', 'Golden', 'Northern', 'Quiet', 'Burning', 'Lost', 'Distant',
  'Winter', 'Paper', 'Glass', 'Crimson', 'Endless', 'Forgotten', 'Little', 'Secret', 'Salt', 'Iron'];
const NOUNS = ['River', 'Garden', 'Harbour', 'Library', 'Mountain', 'Letters', 'Orchard', 'Clockmaker', 'Lighthouse',
  'Island', 'Cartographer', 'Kingdom', 'Station', 'Summer', 'Archive', 'Bridge', 'Forest', 'Daughter', 'Tides', 'Map'];
const PATTERNS = [
  (a, n) => `The ${a} ${n}`,
  (a, n, m) => `The ${n} and the ${m}`,
  (a, n, m) => `${n} of the ${a} ${m}`,
  (a, n) => `${a} ${n}`,
];

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const pad = (n) => String(n).padStart(5, '0');

const authors = new Map();
while (authors.size < AUTHORS) {
  const name = `${pick(FIRST)} ${pick(LAST)}`;
  if (!authors.has(slug(name))) authors.set(slug(name), { name, born: between(1890, 1995), country: pick(COUNTRIES), books: 0 });
}
const authorKeys = [...authors.keys()];

const records = [];
const put = (key, value) => records.push({ key, value: typeof value === 'string' ? value : JSON.stringify(value) });
for (let i = 1; i <= BOOKS; i++) {
  const author = pick(authorKeys);
  const info = authors.get(author);
  info.books++;
  const noun = pick(NOUNS);
  const other = pick(NOUNS.filter((n) => n !== noun));
  const title = pick(PATTERNS)(pick(ADJECTIVES), noun, other);
  const genre = pick(GENRES);
  put(`book:${pad(i)}`, { title, author: `author:${author}`, year: between(info.born + 20, Math.min(info.born + 80, 2024)), genre, pages: between(90, 900) });
  put(`genre:${genre}:book:${pad(i)}`, title);
}
for (const [key, info] of authors) put(`author:${key}`, info);

// Key order, as an export writes it (an import does not need it).
records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const lines = [JSON.stringify({ ppdb: 'export', version: 1 }), ...records.map((r) => JSON.stringify(r))];
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, lines.join('\n') + '\n');
console.log(`${OUT}: ${records.length} records, ${Buffer.byteLength(lines.join('\n') + '\n')} bytes`);
