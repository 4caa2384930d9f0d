// The page: a todo list in a ppdb store. `storage: 'auto'` is OPFS on a page (the package runs
// the store in a worker of its own; IndexedDB where there is no OPFS), so the list survives
// reloads, and follows what other tabs of the app do to it (db.watch()). Keys are
// `todo:<time>` so that a scan lists them in the order they were added.
import { open } from 'ppdb';

const $ = (selector) => document.querySelector(selector);
const status = (text, error = false) => {
  $('#status').textContent = text;
  $('#status').className = error ? 'error' : '';
};

let lastKey = '';
/** A key after every key made so far, even for two adds in the same millisecond. */
function nextKey() {
  let key = `todo:${Date.now().toString().padStart(15, '0')}`;
  if (key <= lastKey) key = `${lastKey}+`;
  lastKey = key;
  return key;
}

let shown = '';
/** Shows the todos as they are now; leaves the list alone when they have not changed. */
async function draw(db) {
  const todos = await db.iterator({ prefix: 'todo:' }).all();
  // Replacing the list under a click (between its press and release) would lose the click,
  // so a render that finds nothing new (the watch's, after this tab's own render) keeps it.
  const now = JSON.stringify(todos);
  if (now === shown) return;
  shown = now;
  $('#items').replaceChildren(
    ...todos.map(([key, text]) => {
      const li = document.createElement('li');
      li.dataset.key = key;
      const span = document.createElement('span');
      span.textContent = text;
      const remove = document.createElement('button');
      remove.textContent = 'Delete';
      remove.className = 'delete';
      li.append(span, remove);
      if (key > lastKey) lastKey = key;
      return li;
    }),
  );
}

let drawn = Promise.resolve();
/**
 * Renders one at a time, in order, so that an older render never shows after a newer one. The
 * promise is that render's (its caller shows its error); the next render starts either way.
 */
const render = (db) => (drawn = drawn.catch(() => {}).then(() => draw(db)));

/** Renders the list again whenever it changes, here or in another tab of the app. */
async function follow(db) {
  try {
    for await (const change of db.watch({ prefix: 'todo:' })) {
      if (change.type === 'put' && change.key > lastKey) lastKey = change.key;
      await render(db);
    }
  } catch (err) {
    status(`${err.code ?? 'ERROR'}: ${err.message}`, true);
  }
}

async function main() {
  const db = await open('todos');
  $('#storage').textContent = db.storage;
  $('#flavour').textContent = db.flavour;
  await render(db);
  follow(db);

  $('#add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('#text').value.trim();
    if (!text) return;
    // Cleared now, not once the put resolves: the list may show the todo before that (the
    // watch), and what is typed next must not be cleared.
    $('#text').value = '';
    try {
      await db.put(nextKey(), text); // resolves once durable (OPFS flushed)
      await render(db);
      status(`added “${text}”`);
    } catch (err) {
      if (!$('#text').value) $('#text').value = text;
      status(`${err.code ?? 'ERROR'}: ${err.message}`, true);
    }
  });

  $('#items').addEventListener('click', async (event) => {
    const li = event.target.closest('button.delete')?.closest('li');
    if (!li) return;
    try {
      await db.del(li.dataset.key);
      await render(db);
      status('deleted');
    } catch (err) {
      status(`${err.code ?? 'ERROR'}: ${err.message}`, true);
    }
  });

  document.body.dataset.ready = 'true';
}

// The worker keeps its own store in OPFS (only dedicated workers can use OPFS synchronously).
// Vite bundles the file this `new URL(...)` names as a module worker.
function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    $('#worker').textContent = data.ok
      ? `worker: ${data.storage} store, ${data.flavour} build, run #${data.runs}, ${data.count} entries read back`
      : `worker failed: ${data.error}`;
    $('#worker').className = data.ok ? '' : 'error';
    $('#worker').dataset.result = JSON.stringify(data);
    worker.terminate();
  };
  worker.onerror = (event) => {
    $('#worker').textContent = `worker failed: ${event.message}`;
    $('#worker').className = 'error';
    $('#worker').dataset.result = JSON.stringify({ ok: false, error: event.message });
  };
}

startWorker();
main().catch((err) => status(`${err.code ?? 'ERROR'}: ${err.message}`, true));
