// Every tab, one store. A browser store's files can be open in one context at a time, so
// every context that opens store `name` (tabs, workers; not `exclusive`) takes part in one
// election: the holder of Web Lock `ppdb-owner:<name>` opens the files and serves the
// others, which forward each call to it. Failover is the lock's: when the owner closes,
// reloads, crashes or is terminated, the browser grants the lock to the next context
// waiting for it, which opens the store (recovering from the log as after a crash) and
// announces itself.
//
// Messages are structured clones on BroadcastChannels. On `ppdb:<name>`, which every
// context of the store hears:
//   { type: 'hello' }                              a context looks for the owner
//   { type: 'owner', owner, restarted }            the owner's id (in answer, or on taking over;
//                                                  `restarted`: it opened its store again)
// and on `ppdb:<name>:<id>`, the inbox of context `id` (so a call costs only its two ends):
//   { type: 'requests', client, owner, requests }  a client's requests (pkg/proxy/page.js protocol)
//   { type: 'replies', client, owner, replies }    the owner's replies to one client
//   { type: 'bye', client, owner }                 the client went (its iterators and snapshots released)
// Each client also holds Web Lock `ppdb-client:<name>:<id>` while it lives, so the owner
// learns when a client died without saying bye.
//
// Calls in flight to an owner that goes away reject with OWNER_CHANGED: the call may or may
// not have been applied (retry reads and idempotent writes as they are; check before
// retrying others). Calls made while no owner is known wait for the next one. A watch
// follows the store from owner to owner: it resumes at the next owner after the last
// sequence number it saw, so no change is missed or repeated (FollowingWatch).
import { ChainedBatch } from '../api/batch.js';
import { PpdbError, closed as closedError } from '../api/errors.js';
import { checkData } from '../api/encoding.js';
import { defineDbSurface } from '../api/methods.js';
import { Connection, ProxyDb, workerStopped } from './page.js';
import { Server, gettersOf } from './server.js';
import { FollowingWatch } from './following-watch.js';

/** How long a new owner waits for the files the previous owner's context still holds. */
const TAKEOVER_WAIT_MS = 10_000;
/** How long a context that failed to take over waits before it lines up again. */
const RETAKE_DELAY_MS = 1_000;

const ownerChanged = () => new PpdbError('OWNER_CHANGED', 'the context that owned the store went away during the call; it may or may not have been applied');

/**
 * Resolves to a function releasing Web Lock `name` once it is granted, or to null if it
 * is not (`ifAvailable` while held elsewhere, or aborted by `signal`).
 */
function acquire(name, options) {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(name, options, (lock) => {
        if (!lock) return resolve(null);
        return new Promise((release) => resolve(release));
      })
      .catch((err) => (err?.name === 'AbortError' ? resolve(null) : reject(err)));
  });
}

/** The client end of a connection to the owner: what Connection (page.js) expects of a worker. */
class OwnerPort extends EventTarget {
  #channel;
  #client;
  #owner;

  /** Posts to the inbox of `owner` (on `ppdb:<name>:<owner>`). */
  constructor(name, client, owner) {
    super();
    this.#channel = new BroadcastChannel(`ppdb:${name}:${owner}`);
    this.#client = client;
    this.#owner = owner;
  }

  get owner() {
    return this.#owner;
  }

  postMessage(requests) {
    this.#channel.postMessage({ type: 'requests', client: this.#client, owner: this.#owner, requests });
  }

  /** Replies from the owner. */
  deliver(replies) {
    this.dispatchEvent(new MessageEvent('message', { data: replies }));
  }

  terminate() {
    this.#channel.postMessage({ type: 'bye', client: this.#client, owner: this.#owner });
    this.#channel.close();
  }
}

/**
 * A store opened by several contexts: this context's view of it, forwarding to the owner's
 * Db (a ProxyDb) or, when this context owns the files, the Db itself. The methods are those
 * of Db (made from pkg/api/methods.js); `role` says which, and an 'ownerchange' event
 * reports a switch. Iterators and snapshots belong to the owner that made them and stop
 * with it (a client's iterator rejects with OWNER_CHANGED).
 */
export class SharedDb extends EventTarget {
  #name;
  #options;
  #openLocal;
  #id = crypto.randomUUID();
  #channel;
  #inbox;
  #role = null;
  /** The role this context had before it lost its files (see #lostFiles), until the next. */
  #had = null;
  #target = null;
  /** The target the getters read (the last one, while a switch is under way). */
  #last = null;
  #port = null;
  #connection = null;
  /** Owner: `{ server, channel }` per client id (the channel posts to the client's inbox). */
  #servers = new Map();
  #closed = false;
  #stop = new AbortController();
  #releaseOwner = null;
  /** Opening again the store this context owns (see #lostFiles): clients attach again. */
  #restarting = false;
  #releaseClient = null;
  /** Calls waiting for an owner: resolvers of #ready(). */
  #waiting = [];
  /** Watches that follow the store (ended when it closes here). */
  #watches = new Set();

  /** @internal Use `open()`: `openLocal(name, options)` opens the files here. */
  constructor(name, options, openLocal) {
    super();
    this.#name = name;
    this.#options = options;
    this.#openLocal = openLocal;
  }

  /** @internal Opens store `name` shared (see the top of this file). */
  static async open(name, options, openLocal) {
    const db = new SharedDb(name, options, openLocal);
    await db.#start();
    return db;
  }

  /** Joins the election; resolves once this context owns the store or reaches its owner. */
  async #start() {
    this.#channel = new BroadcastChannel(`ppdb:${this.#name}`);
    this.#channel.onmessage = ({ data }) => this.#receive(data);
    this.#inbox = new BroadcastChannel(`ppdb:${this.#name}:${this.#id}`);
    this.#inbox.onmessage = ({ data }) => this.#receive(data);
    this.#releaseClient = await acquire(`ppdb-client:${this.#name}:${this.#id}`, {});
    const release = await acquire(`ppdb-owner:${this.#name}`, { ifAvailable: true });
    if (release) {
      try {
        await this.#own(release, false);
      } catch (err) {
        this.#shutDown();
        throw err;
      }
      return;
    }
    // Wait in line to own it, and ask who owns it now.
    this.#queue();
    const reached = this.#ready();
    this.#channel.postMessage({ type: 'hello' });
    await reached;
  }

  /** Waits in line to own the store: the browser grants the lock when the owner goes. */
  #queue() {
    acquire(`ppdb-owner:${this.#name}`, { signal: this.#stop.signal }).then(
      (granted) => granted && this.#takeOver(granted),
      () => {},
    );
  }

  /** 'owner' if this context holds the store's files, 'client' if it forwards to the one that does. */
  get role() {
    return this.#role ?? this.#had;
  }

  /** True once `close()` was called. */
  get closed() {
    return this.#closed;
  }

  /** Opens the files here (the owner lock `release` is held) and serves the others. */
  async #own(release, takeover) {
    let db;
    for (const started = Date.now(); ; ) {
      try {
        // Taking over, wait for the files the previous owner's context still holds.
        db = await this.#openLocal(this.#name, takeover ? { ...this.#options, lockTimeout: TAKEOVER_WAIT_MS } : this.#options);
        break;
      } catch (err) {
        // The previous owner's context may hold its files a moment longer than its lock.
        if (!(takeover && err?.code === 'LOCKED' && Date.now() - started < TAKEOVER_WAIT_MS)) {
          release();
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    if (this.#closed) {
      await db.close();
      release();
      return;
    }
    this.#releaseOwner = release;
    // The store's alerts reach this context and every client.
    db.addEventListener?.('alert', ({ detail }) => {
      this.dispatchEvent(new CustomEvent('alert', { detail }));
      for (const { server } of this.#servers.values()) server.event('alert', detail);
    });
    this.#switchTo('owner', db);
    this.#channel.postMessage({ type: 'owner', owner: this.#id, restarted: this.#restarting });
    this.#restarting = false;
    db[workerStopped]?.then(() => this.#lostFiles(db));
  }

  /**
   * This context's store went with the worker that held its files (the page's proxy
   * worker stopped): the owner lock goes, so that the next context in line takes the files
   * over (recovering them from the log, as after a crash), and this context lines up
   * again: a client of that owner or, alone, the owner once more, with a new worker. Calls
   * in flight to the worker failed with INTERNAL; later calls wait for the next owner. A
   * `threads: true` store stays here, opened again (its workers can follow it only in this
   * page's memory: pkg/api/failover.js), and its clients attach again (`restarted`).
   */
  #lostFiles(db) {
    if (this.#closed || this.#target !== db) return;
    for (const client of [...this.#servers.keys()]) this.#forget(client);
    this.#had = this.#role;
    this.#role = null;
    this.#target = null;
    const release = this.#releaseOwner;
    this.#releaseOwner = null;
    db.close().catch(() => {});
    if (release && this.#options.threads === true) {
      this.#restarting = true;
      return this.#takeOver(release);
    }
    release?.();
    this.#queue();
  }

  async #takeOver(release) {
    if (this.#closed) return release();
    // The owner went: what was in flight to it is lost or done; its callers learn which
    // they cannot know (OWNER_CHANGED).
    this.#dropOwner();
    try {
      await this.#own(release, true);
    } catch (err) {
      // The files could not be opened here: calls waiting for an owner fail with why, and
      // this context waits in line again (another may own the store, or a later try work).
      this.#fail(err);
      if (!this.#closed) setTimeout(() => this.#closed || this.#queue(), RETAKE_DELAY_MS);
    }
  }

  #receive(message) {
    if (this.#closed || message === null || typeof message !== 'object') return;
    switch (message.type) {
      case 'hello':
        if (this.#role === 'owner') this.#channel.postMessage({ type: 'owner', owner: this.#id });
        break;
      case 'owner':
        if (message.owner !== this.#id && (message.owner !== this.#port?.owner || message.restarted)) this.#attach(message.owner);
        break;
      case 'requests':
        if (this.#role === 'owner' && message.owner === this.#id) this.#serverFor(message.client).handle(message.requests);
        break;
      case 'replies':
        if (message.client === this.#id && message.owner === this.#port?.owner) this.#port.deliver(message.replies);
        break;
      case 'bye':
        if (message.owner === this.#id) this.#forget(message.client);
        break;
    }
  }

  /** Connects to owner `owner` as a client. */
  async #attach(owner) {
    if (this.#role === 'owner') return; // two owners cannot both hold the lock
    this.#dropOwner();
    const port = new OwnerPort(this.#name, this.#id, owner);
    const connection = new Connection(port);
    this.#port = port;
    this.#connection = connection;
    let getters;
    try {
      getters = await connection.call('attach', []);
    } catch {
      return; // that owner went before answering; the next one announces itself
    }
    if (this.#port !== port || this.#closed) return;
    const proxy = new ProxyDb(connection, getters);
    proxy.addEventListener('alert', ({ detail }) => this.dispatchEvent(new CustomEvent('alert', { detail })));
    this.#switchTo('client', proxy);
  }

  /** Forgets the current owner: calls in flight to it reject with OWNER_CHANGED. */
  #dropOwner() {
    const connection = this.#connection;
    this.#port = null;
    this.#connection = null;
    if (this.#role === 'client') this.#target = null;
    connection?.end(ownerChanged());
  }

  #switchTo(role, target) {
    const previous = this.#role ?? this.#had;
    this.#had = null;
    this.#role = role;
    this.#target = target;
    this.#last = target;
    for (const { resolve } of this.#waiting.splice(0)) resolve(target);
    if (previous !== null) this.dispatchEvent(new CustomEvent('ownerchange', { detail: { role, previous } }));
  }

  #fail(err) {
    for (const { reject } of this.#waiting.splice(0)) reject(err);
  }

  /** The Db calls go to now, once there is one. */
  #ready() {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#target) return Promise.resolve(this.#target);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** The Server of client `client` (made on its first request; released when its lock frees). */
  #serverFor(client) {
    const known = this.#servers.get(client);
    if (known) return known.server;
    const channel = new BroadcastChannel(`ppdb:${this.#name}:${client}`);
    const server = new Server((replies) => channel.postMessage({ type: 'replies', client, owner: this.#id, replies }), {
      db: this.#target,
      internal: {
        attach() {
          return gettersOf(this.db);
        },
        // A client's close() ends its connection, never the store.
        close() {
          this.release();
        },
      },
    });
    this.#servers.set(client, { server, channel });
    acquire(`ppdb-client:${this.#name}:${client}`, { signal: this.#stop.signal }).then(
      (release) => {
        if (!release) return;
        release();
        this.#forget(client);
      },
      () => {},
    );
    return server;
  }

  #forget(client) {
    const known = this.#servers.get(client);
    if (!known) return;
    this.#servers.delete(client);
    known.server.release();
    known.channel.close();
  }

  static {
    const kinds = {
      // Straight to the store when there is one (no extra promise), else once there is.
      call: (method) =>
        function (...args) {
          if (this.#target && !this.#closed) return this.#target[method](...args);
          return this.#ready().then((target) => target[method](...args));
        },
      iterate: (method) =>
        function (...args) {
          if (this.#closed) throw closedError();
          if (this.#target) return this.#target[method](...args);
          return laterIterator(this.#ready().then((target) => target[method](...args)));
        },
      batch: (method) =>
        function (...args) {
          if (args[0] !== undefined) {
            if (this.#target && !this.#closed) return this.#target[method](...args);
            return this.#ready().then((target) => target[method](...args));
          }
          if (this.#closed) throw closedError();
          return new ChainedBatch((operations, options) => this.#ready().then((target) => target[method](operations, options)));
        },
      snapshot: (method) =>
        function () {
          if (this.#closed) throw closedError();
          if (!this.#target) throw ownerChanged();
          return this.#target[method]();
        },
      watch: (method) =>
        function (options) {
          if (this.#closed) throw closedError();
          const watch = new FollowingWatch(() => this.#ready(), method, options, (w) => this.#watches.delete(w), this.#target);
          this.#watches.add(watch);
          return watch;
        },
      share: (method) =>
        function (...args) {
          if (!this.#target) throw ownerChanged();
          return this.#target[method](...args);
        },
      close: () =>
        async function () {
          if (this.#closed) return;
          await this.#shutDown();
        },
    };
    defineDbSurface(
      SharedDb,
      (method, kind) => kinds[kind](method),
      (getter) =>
        function () {
          return this.#last?.[getter];
        },
      ['closed', 'role'],
    );
  }

  async #shutDown() {
    this.#closed = true;
    this.#stop.abort();
    for (const watch of [...this.#watches]) watch.close();
    this.#fail(closedError());
    const target = this.#target;
    this.#target = null;
    try {
      if (this.#role === 'owner') {
        for (const client of [...this.#servers.keys()]) this.#forget(client);
        await target?.close();
      } else {
        // Only this context's connection ends; the store stays open at its owner.
        this.#port = null;
        this.#connection?.end(closedError());
        this.#connection = null;
      }
    } finally {
      this.#channel.close();
      this.#inbox.close();
      // The store's files are closed: the next context in line may open them.
      this.#releaseOwner?.();
      this.#releaseClient?.();
    }
  }
}

/** An async iterator over the iterator `made` resolves to. */
function laterIterator(made) {
  made.catch(() => {});
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      return (await made).next();
    },
    async return() {
      (await made).close();
      return { done: true, value: undefined };
    },
    seek(target) {
      checkData(target, 'seek() target');
      made.then((it) => it.seek(target), () => {});
    },
    close() {
      made.then((it) => it.close(), () => {});
    },
    async all() {
      return (await made).all();
    },
  };
}

/** Opens store `name` shared with the origin's other contexts (see above). */
export function openShared(name, options, openLocal) {
  return SharedDb.open(name, options, openLocal);
}
