// One opener per store folder: a LOCK file holding the owner's process id. A lock left by
// a process that no longer runs (killed) is taken over; a live owner, this process
// included, means LOCKED.
import fs from 'node:fs';
import { join } from 'node:path';
import { PpdbError, storageError } from '../api/errors.js';

const held = new Set();

function alive(pid) {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Takes the lock of `dir` (which must exist). Returns a function that releases it. */
export function lockFolder(dir) {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(path, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        fs.rmSync(path, { force: true });
      };
    } catch (err) {
      if (err.code !== 'EEXIST') throw storageError(`could not lock ${dir}`, err);
    }
    const owner = Number.parseInt(fs.readFileSync(path, 'utf8'), 10);
    if (held.has(path) || (Number.isInteger(owner) && alive(owner))) {
      throw new PpdbError('LOCKED', `${dir} is open in ${owner === process.pid ? 'this process' : `process ${owner}`}`);
    }
    fs.rmSync(path, { force: true }); // stale: its process is gone
  }
  throw new PpdbError('LOCKED', `${dir} is being opened by another process`);
}
