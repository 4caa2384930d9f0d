// Runs under Deno and Bun (and Node): an fs store through the public API, written, closed,
// reopened and read back. Prints one JSON line with what it saw.
import { open, destroy } from '../../pkg/index.js';

const path = (globalThis.Deno ? Deno.args : process.argv.slice(2))[0];
const out = {};
let db = await open('runtime', { storage: 'auto', path });
out.storage = db.storage;
out.flavour = db.flavour;
for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
await db.batch([{ type: 'del', key: 'k000' }, { type: 'put', key: 'z', value: 'last' }]);
await db.close();
db = await open('runtime', { storage: 'auto', path });
out.records = db.recovery.records;
out.k199 = await db.get('k199');
out.k000 = (await db.get('k000')) ?? null;
out.count = 0;
for await (const _ of db.iterator()) out.count++;
try {
  await open('runtime', { storage: 'auto', path });
} catch (err) {
  out.second = err.code;
}
await db.close();
await destroy('runtime', { storage: 'auto', path });
console.log(JSON.stringify(out));
