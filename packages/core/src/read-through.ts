/**
 * getOrLoad: read-through with one loader per missing item across every thread of the store.
 *
 *   hit?  → the item (no lock, no version read: the same cost as get plus a resolved promise)
 *   miss  → take the item's loader lock (a lease, leases.ts); holding it, look again (a previous
 *           holder may just have stored it), read the version, run the loader, store its value
 *           fenced on that version (fences.ts), release. A caller that did not get the lock waits
 *           for its release and looks again: one load answers every waiter.
 *
 * A loader that throws: its caller gets the error, the lock is released, and the next waiter
 * becomes the loader. A loader whose thread dies: its lease lapses and a waiter takes over. A load
 * overtaken by an invalidate (or any other change to the scope) is refused by the fence: the caller
 * gets the loaded value (seq 0, ts 0: not stored) and the store keeps what the invalidate left.
 */
import { ScopeCacheError } from './errors.js'
import type { Item } from './types.js'

/** What getOrLoad needs of the store: the public calls, and the internal loader locks. */
export interface ReadThroughStore {
  get<P>(scope: string, ref: { id: string }): Item<P> | undefined
  version(scope: string): number
  /** The scope's default TTL in ms (0: none), read as a version is: not counted as a read. */
  scopeTtl(scope: string): number
  upsert(scope: string, id: string, payload: unknown, opts: { ifVersion: number; ttlMs?: number }): { item: { seq: number; ts: number } }
  /** The item's loader lock: taken (its token) or not (0). */
  tryLoader(name: string, leaseMs: number): number
  /** Waits until the loader lock may have changed hands (a release, its lease end) or `deadline`. */
  waitLoader(name: string, deadline: number): Promise<void>
  unlockLoader(name: string, token: number): void
  /** The store clock (ms). */
  now(): number
  /** Counts a loader run (for /metrics: a header counter, summed over every thread). */
  loaderRan(): void
}

export interface GetOrLoadOptions {
  /** How long one loader may run before a waiter takes over (ms). Default 5000. */
  leaseMs?: number
  /** How long a caller waits for another thread's loader before `lock_timeout` (ms). Default 10 000. */
  waitMs?: number
  /** The loaded item expires this many ms after it is stored (default: the scope's `setScopeTtl`, else never). */
  ttlMs?: number
}

/**
 * The miss path (the caller has just missed). Waiters do not queue for the lock: each wakes on a
 * release and looks again, so one load answers them all at once; only when the item is still
 * missing (the loader threw, or died and its lease lapsed) does one of them take the lock.
 */
export async function getOrLoad<P>(
  store: ReadThroughStore, name: string, scope: string, id: string, loader: () => P | Promise<P>, leaseMs: number, waitMs: number,
  ttlMs = 0,
): Promise<Item<P>> {
  const deadline = store.now() + waitMs
  for (;;) {
    const token = store.tryLoader(name, leaseMs)
    if (token > 0) return load(store, name, token, scope, id, loader, ttlMs)
    if (store.now() >= deadline) {
      throw new ScopeCacheError('lock_timeout', `scopecache: getOrLoad waited ${waitMs} ms for another thread's loader of '${id}' in '${scope}'`)
    }
    await store.waitLoader(name, deadline)
    const stored = store.get<P>(scope, { id })
    if (stored !== undefined) return stored
  }
}

/** Holding the loader lock: look again, read the version, load, store fenced on it, release. */
async function load<P>(
  store: ReadThroughStore, name: string, token: number, scope: string, id: string, loader: () => P | Promise<P>, ttlMs: number,
): Promise<Item<P>> {
  try {
    const stored = store.get<P>(scope, { id })
    if (stored !== undefined) return stored
    const version = store.version(scope)
    store.loaderRan()
    const payload = await loader()
    try {
      const { item } = store.upsert(scope, id, payload, ttlMs > 0 ? { ifVersion: version, ttlMs } : { ifVersion: version })
      // its expiry as the write set it: ttlMs, else the scope's default, from the write's ts
      const ttl = ttlMs > 0 ? ttlMs : store.scopeTtl(scope)
      const expiresTs = ttl > 0 ? item.ts + ttl * 1000 : null
      return { scope, id, seq: item.seq, ts: item.ts, expiresTs, payload }
    } catch (e) {
      if (!(e instanceof ScopeCacheError && e.code === 'conflict')) throw e
      return { scope, id, seq: 0, ts: 0, expiresTs: null, payload } // overtaken by a change: returned, not stored
    }
  } finally {
    store.unlockLoader(name, token)
  }
}
