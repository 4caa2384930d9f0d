// The app's worker: an entry that only imports what the worker does (./run-log.js). Safari's
// engine, WebKit, runs a module worker's entry a second time when another module imports it,
// and the chunks Vite splits off a worker import what they share from its entry chunk (ppdb
// loads its storage and encodings as such chunks): with ppdb imported here, WebKit ran this
// worker's code twice. An entry with no code of its own shares nothing.
import('./run-log.js');
