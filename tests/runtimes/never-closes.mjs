// A program that opens an fs store, writes, and ends without calling close(), as a new user
// writes it: `node never-closes.mjs <dir> <sync|relaxed> <threaded|single>`. Prints "done"
// after its last write; the test measures how long the process takes to exit after that.
import { open } from '../../pkg/index.js';

const [dir, durability, build] = process.argv.slice(2);
const db = await open('unclosed', { storage: 'fs', path: dir, durability, threads: build === 'threaded' });
for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put', key: `b${String(i).padStart(3, '0')}`, value: 'in a batch' })));
console.log(`done ${db.flavour} ${db.maintenance}`);
