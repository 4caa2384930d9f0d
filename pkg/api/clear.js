// `db.clear(range)`: the keys of a range, read from a snapshot, deleted in batches.

/** Keys deleted per batch. */
const CLEAR_BATCH = 1000;

/**
 * Deletes the keys of `range` (checked options of `clear()`) that `range.snapshot` sees,
 * or (without one) that a snapshot taken now sees; writes made meanwhile outside those
 * keys stay. Returns how many keys were deleted.
 */
export async function clearRange(db, { snapshot: given, ...range }) {
  const snapshot = given ?? db.snapshot();
  let deleted = 0;
  try {
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
    deleted += chunk.length;
  } finally {
    if (given === undefined) snapshot.close();
  }
  return deleted;
}
