import { open } from 'ppdb';

const $ = (id) => document.getElementById(id);
const status = $('status');

function say(text) {
  status.textContent = text;
  status.classList.remove('error');
  delete status.dataset.code;
}

function fail(err) {
  const code = err?.code ?? err?.name ?? 'ERROR';
  status.textContent = `${code}: ${err?.message ?? err}`;
  status.classList.add('error');
  status.dataset.code = code;
  console.error(err);
}

// Runs a button's action, reporting any error in the status line instead of the console only.
const action = (fn) => async (event) => {
  event?.preventDefault();
  try {
    await fn();
  } catch (err) {
    fail(err);
  }
};

$('isolated').textContent = String(globalThis.crossOriginIsolated === true);

let db;
try {
  db = await open('demo', { storage: 'memory' });
  $('flavour').textContent = db.flavour;
  document.body.dataset.ready = 'true';
  say('Ready. The database lives in memory and is gone when you reload.');
} catch (err) {
  $('flavour').textContent = 'unavailable';
  fail(err);
}

async function refresh() {
  const prefix = $('prefix').value;
  const rows = [];
  for await (const [key, value] of db.iterator({ ...(prefix ? { prefix } : {}), limit: 100 })) {
    const row = document.createElement('tr');
    for (const text of [key, value]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    rows.push(row);
  }
  $('entries').replaceChildren(...rows);
  return rows.length;
}

$('edit').addEventListener('submit', action(async () => {
  const key = $('key').value;
  await db.put(key, $('value').value);
  await refresh();
  say(`Put "${key}".`);
}));

$('get').addEventListener('click', action(async () => {
  const key = $('key').value;
  const value = await db.get(key);
  if (value === undefined) {
    $('value').value = '';
    say(`"${key}" not found.`);
  } else {
    $('value').value = value;
    say(`"${key}" = "${value}"`);
  }
}));

$('del').addEventListener('click', action(async () => {
  const key = $('key').value;
  await db.del(key);
  await refresh();
  say(`Deleted "${key}".`);
}));

$('browse').addEventListener('submit', action(async () => {
  const n = await refresh();
  say(`${n} ${n === 1 ? 'entry' : 'entries'}${n === 100 ? ' (first 100)' : ''}.`);
}));
