// `db.clear(range)`: the keys of a range, read from a snapshot, deleted in batches. Loaded
// on the first clear().

/** Keys deleted per batch. */
const CLEAR_BATCH = 1000;

/**
 * Deletes the keys of `range` (checked range options of `clear()`) that `snapshot` sees;
 * writes made since outside those keys stay. Returns how many keys were deleted.
 */
export async function clearRange(db, range, snapshot) {
  let deleted = 0;
  let chunk = [];
  for await (const key of snapshot.keys({ ...range, keyEncoding: 'bytes' })) {
    chunk.push({ type: 'del', key });
    if (chunk.length === CLEAR_BATCH) {
      await db.batch(chunk);
      deleted += chunk.length;
      chunk = [];
    }
  }
  if (chunk.length > 0) await db.batch(chunk);
  return deleted + chunk.length;
}
