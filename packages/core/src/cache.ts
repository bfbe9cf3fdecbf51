/**
 * ScopeCache: the public class, the same in the thread that creates a store and in every thread
 * that attaches to it. This file is the facade: it creates, attaches, watches and closes a handle,
 * checks each call's arguments (args.ts) and hands the work to the file that holds it (the table
 * is in packages/core/README.md § Source layout).
 *
 * Reads are optimistic, validated by the scope's seqlock, and write nothing shared (read.ts).
 * Writes prepare outside any lock, then fill blocks no reader can reach yet and publish them in a
 * short odd-S_VER window under the scope's lock (scope-life.ts, item-write.ts, txn.ts).
 * Lock order: directory → scope(s, in slot order) → allocator.
 */
import type { Worker } from 'node:worker_threads'
import { checkKey, checkOptions, checkRef, checkScope, checkTargets } from './args.js'
import { Beyond } from './beyond.js'
import { releaseBatch } from './bulk.js'
import { bulkCommit, prepareBulk, warmCommit } from './bulk-commit.js'
import { invalid, ScopeCacheError } from './errors.js'
import { startSweepTimer, sweepMsOption } from './expiry.js'
import { addToCounter, deleteItem, touchItem, trimItems, updateItem } from './item-ops.js'
import { H_REAPS, H_SCOPES_LOST, T_FENCE } from './layout.js'
import { startProcessLiveness, type ProcessLiveness } from './liveness-process.js'
import { startLiveness, type WebLockLiveness } from './liveness-weblocks.js'
import { checkBufferSize, createBuffer, readConfig, resolveConfig, wrap, type Config, type Views } from './memory.js'
import type { LeaseGrant } from './leases.js'
import { headWindow, tailWindow } from './page-window.js'
import type { Format } from './read-base.js'
import { Reader } from './read.js'
import { ReadTally } from './read-tally.js'
import type { GetOrLoadOptions } from './read-through.js'
import { listScopes, storeStats } from './scope-info.js'
import { dropPrefixBusy, dropScopeBusy, flushBusy } from './scope-life.js'
import { lockedRead } from './read-locked.js'
import { ScopeView } from './scope-view.js'
import { openShared, unlinkShared } from './shm-open.js'
import { ID_SEED, INTERNALS, Store, type Internals } from './store.js'
import { Txn } from './txn.js'
import { WriteArgs } from './write-args.js'
import type {
  AppendOptions, FenceOptions, GetTarget, WriteOptions, HeadOptions, Item, ItemMeta, ItemRef, JsonPayload, Page, PayloadInput, RawReadOptions, ReadOptions,
  ReapReport, ScopeCacheHandle, ScopeCacheOptions, ScopeInfo, ScopeLimitOptions, ScopeListOptions, StoreStats, TailOptions, TrimOptions, WarmItem,
} from './types.js'
import { freeSlots, reapLater } from './watch.js'

export class ScopeCache {
  /** Structured-cloneable: pass it in `workerData` or `postMessage` and `attach` it there. */
  readonly handle: ScopeCacheHandle
  readonly maxStoreBytes: number
  readonly scopeMaxItems: number
  readonly maxItemBytes: number
  /** Thread slots: how many handles may be attached at once. */
  readonly maxThreadSlots: number
  /** @deprecated the old name of `maxThreadSlots`. */
  get maxThreads(): number { return this.maxThreadSlots } // prettier-ignore

  /** This thread's view of the store (store.ts) and its write transaction state (txn.ts). */
  private readonly s: Store
  private readonly t: Txn
  private readonly tally: ReadTally
  private readonly reader: Reader
  /** append's and upsert's arguments for their locked bodies (write-args.ts). */
  private readonly w: WriteArgs
  /** Locks, fences and read-through (beyond.ts). */
  private readonly x: Beyond
  private closed = false
  /** The expiry sweep's timer (the creating handle only). */
  private sweepTimer: ReturnType<typeof setInterval> | null = null
  /** Finds dead threads without `watch` where Web Locks exist (Node ≥ 24); null elsewhere. */
  private readonly liveness: WebLockLiveness | null
  /** Finds dead processes, in a store shared by processes (ScopeCache.open); null elsewhere. */
  private readonly processes: ProcessLiveness | null

  /** Creates a new store; this thread owns its memory (other threads `attach`). */
  static create(options?: ScopeCacheOptions | null): ScopeCache {
    checkOptions(options, 'create')
    const cfg = resolveConfig(options ?? undefined)
    const sweepMs = sweepMsOption(options?.expirySweepMs)
    const v = createBuffer(cfg)
    const cache = new ScopeCache(v, cfg)
    if (sweepMs > 0) cache.sweepTimer = startSweepTimer(sweepMs, () => cache.sweepExpired())
    return cache
  }

  /**
   * Creates or attaches the store named `name` in POSIX shared memory (/dev/shm/scopecache-NAME),
   * shared by every process and thread that opens it (a node:cluster app); the other options are
   * create's, used when this call creates it. Needs the optional package `@scopecache/shm`. The store
   * outlives its processes until `ScopeCache.unlink(name)`.
   */
  static open(options: ScopeCacheOptions & { name: string }): ScopeCache {
    if (options === null || typeof options !== 'object') throw invalid("open needs options with a 'name': ScopeCache.open({ name })")
    checkOptions(options, 'open')
    const { name, ...createOptions } = options
    const { v, cfg } = openShared(name, createOptions)
    return new ScopeCache(v, cfg)
  }

  /** Removes the store `name` from shared memory (true if it was there). Processes attached to it keep it until they close. */
  static unlink(name: string): boolean {
    return unlinkShared(name)
  }

  /** Attaches this thread to a store created elsewhere: the same memory, no copies. */
  static attach(handle: ScopeCacheHandle): ScopeCache {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'scopecache/v1' || !(handle.buffer instanceof SharedArrayBuffer)) {
      throw invalid('attach() needs the `handle` of a ScopeCache')
    }
    checkBufferSize(handle.buffer)
    const v = wrap(handle.buffer)
    return new ScopeCache(v, readConfig(v))
  }

  private constructor(v: Views, cfg: Config) {
    this.handle = { kind: 'scopecache/v1', buffer: v.sab }
    this.maxStoreBytes = cfg.maxStoreBytes
    this.scopeMaxItems = cfg.scopeMaxItems
    this.maxItemBytes = cfg.maxItemBytes
    this.maxThreadSlots = cfg.maxThreads
    const s = (this.s = new Store(v, cfg))
    const t = (this.t = new Txn(s))
    this.w = new WriteArgs(t)
    const tally = (this.tally = new ReadTally(v.i32, v.f64, cfg.scopesW, cfg.scopeSlots, cfg.evict))
    this.reader = new Reader({
      v, dir: s.dir, idx: s.idx, tally, scopesW: cfg.scopesW, idSeed: cfg.seed ^ ID_SEED,
      fenceWord: s.slotW + T_FENCE, locked: (scope, visit) => lockedRead(s, tally, scope, visit), checkOpen: () => this.open(), clock: s,
    })
    this.x = new Beyond(s, t, this.reader, this)
    this.liveness = startLiveness(v.i32, s.threads, s.token, cfg.lockLeaseMs, () => s)
    this.processes = s.shm === null ? null : startProcessLiveness(s.shm, v.i32, s.threads, cfg.lockLeaseMs, () => s)
  }

  /**
   * Call in the thread that owns a Worker attached to this store. When it exits (terminated,
   * thrown, out of memory, or simply done without `close()`), the reaper runs here: it releases
   * the locks the worker held, frees the blocks it had allocated or unpublished, empties any
   * scope it left half-written (reported in `scopesLost`) and frees its thread slot. `onReap` gets
   * the report when there was something to recover.
   */
  watch(worker: Worker, onReap?: (report: ReapReport) => void): void {
    this.open()
    const id = worker.threadId // -1 once it has exited: capture it now
    worker.once('exit', () => reapLater(this.s, () => this.closed, id, onReap))
  }

  /** Thread slots in all, and free now (each attached handle holds one until its `close()`). */
  threadSlots(): { total: number; free: number } {
    this.open()
    return freeSlots(this.s)
  }

  /** A typed view of one scope: writes and reads that share the payload type `P` (scope-view.ts). */
  scope<P = JsonPayload>(name: string): ScopeView<P> {
    this.open()
    checkScope(name)
    return new ScopeView<P>(this, name)
  }

  /** Detaches this thread: flushes its read tallies and frees its thread slot. */
  close(): void {
    if (this.closed) return
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    this.tally.flush()
    this.t.settle()
    this.closed = true
    this.s.dir.close() // reads now miss the name cache and throw 'closed' (read.ts noScope)
    this.reader.forget()
    // A dirty thread may own garbage: keep its slot ALIVE and busy so its exit gets reaped.
    const dirty = this.t.dirty
    if (!dirty) this.s.threads.release(this.s.token)
    this.liveness?.stop(!dirty) // a dirty slot stays ALIVE: so does its Web Lock, until the thread ends
    this.processes?.stop()
  }

  /** `using cache = ScopeCache.create()`: `close()` at the end of the block. */
  [Symbol.dispose](): void { this.close() } // prettier-ignore

  /** @internal This thread's view of the store, for the invariant checker and tests (not in the published types). */
  [INTERNALS](): Internals {
    return this.s
  }

  // ===================================================== beyond ScopeCache (beyond.ts) ====

  /** Takes the lock `name` for `leaseMs` (default 5000) if it is free; null while another lease holds it. */
  tryLock(name: string, opts?: { leaseMs?: number } | null): LeaseGrant | null {
    this.open()
    return this.x.tryLock(name, opts)
  }

  /** Waits up to `waitMs` (default 5000) for the lock without blocking the event loop; null if it ran out. */
  lock(name: string, opts?: { leaseMs?: number; waitMs?: number } | null): Promise<LeaseGrant | null> {
    this.open()
    return this.x.lock(name, opts)
  }

  /** Extends a lease still held under `token` by `leaseMs` from now; false when it lapsed or is not yours. */
  renew(name: string, token: number, opts?: { leaseMs?: number } | null): boolean {
    this.open()
    return this.x.renew(name, token, opts)
  }

  /** Releases the lock if it is still recorded under `token`; false otherwise. */
  unlock(name: string, token: number): boolean {
    this.open()
    return this.x.unlock(name, token)
  }

  /** The scope's version: moves with every change to it, never goes back (a missing scope has one too). */
  version(scope: string): number {
    this.open()
    return this.x.version(scope)
  }

  /** Deletes the item (or, without `ref`, drops the scope) and moves the version; returns items removed. */
  invalidate(scope: string, ref?: ItemRef | null): number {
    this.open()
    return this.x.invalidate(scope, ref)
  }

  /**
   * Read-through: the item, or on a miss the value of `loader()`, run by one caller at a time across
   * every thread (the others wait and read what it stored) and stored fenced on the version read
   * before it ran: if the scope changed meanwhile, the value is returned (seq 0) but not stored.
   */
  getOrLoad<P = unknown>(scope: string, ref: { id: string }, loader: () => P | Promise<P>, opts?: GetOrLoadOptions | null): Promise<Item<P>> {
    return this.x.getOrLoad(scope, ref, loader, opts)
  }

  /**
   * A per-scope item limit (≤ scopeMaxItems): at `maxItems` an append is refused (`scope_full`,
   * whenFull 'reject', the default) or drops the oldest items (whenFull 'drop-oldest': a ring of
   * the newest maxItems). `maxItems: null` removes it. Creates a missing scope (scope-limit.ts).
   */
  setScopeLimit(scope: string, opts: ScopeLimitOptions): { created: boolean } {
    this.open()
    return this.x.setScopeLimit(scope, opts)
  }

  // =============================================================================== writes ====

  append<P>(scope: string, payload: PayloadInput<P>, opts?: AppendOptions | null): ItemMeta {
    this.open()
    return this.w.appendItem(scope, payload, opts)
  }

  upsert<P>(scope: string, id: string, payload: PayloadInput<P>, opts?: WriteOptions | null): { created: boolean; item: ItemMeta } {
    this.open()
    return this.w.upsertItem(scope, id, payload, opts)
  }

  update<P>(scope: string, ref: ItemRef, payload: PayloadInput<P>, opts?: WriteOptions | null): 0 | 1 {
    this.open()
    return updateItem(this.t, scope, ref, payload, opts)
  }

  /** A new expiry `ttlMs` from now for a live item; 0 when there is none (or it has expired). */
  touch(scope: string, ref: ItemRef, opts: { ttlMs: number }): 0 | 1 {
    this.open()
    return touchItem(this.t, scope, ref, opts)
  }

  /** The scope's default TTL for items written without ttlMs (null: none); items already stored keep theirs. */
  setScopeTtl(scope: string, ttlMs: number | null): void {
    this.open()
    this.x.setScopeTtl(scope, ttlMs)
  }

  /**
   * Reclaims every expired item now; returns how many. The handle that created the store runs it
   * every `expirySweepMs` on an unref'd timer; writes reclaim their scope's expired items too.
   */
  sweepExpired(): number {
    this.open()
    return this.x.sweepExpired()
  }

  /** Adds `by` to an integer counter item (created as `by` if absent); returns the new value. */
  counterAdd(scope: string, id: string, by = 1): number {
    return this.counter(scope, id, by).value
  }

  /** counterAdd that also says whether this call created the counter (what `/counter_add` answers). */
  counter(scope: string, id: string, by = 1): { created: boolean; value: number } {
    this.open()
    return addToCounter(this.t, scope, id, by)
  }

  delete(scope: string, ref: ItemRef, opts?: FenceOptions | null): 0 | 1 {
    this.open()
    return deleteItem(this.t, scope, ref, opts)
  }

  trim(scope: string, opts: TrimOptions): number {
    this.open()
    return trimItems(this.t, scope, opts)
  }

  dropScope(scope: string): { found: boolean; items: number } {
    this.open()
    checkScope(scope)
    return this.t.busy(() => dropScopeBusy(this.t, scope))
  }

  dropPrefix(prefix: string): { scopes: number; items: number } {
    this.open()
    if (typeof prefix !== 'string' || prefix === '') throw invalid("the 'prefix' field is required")
    checkKey(prefix, 'prefix')
    return this.t.busy(() => dropPrefixBusy(this.t, prefix))
  }

  flush(): { scopes: number; items: number; bytes: number } {
    this.open()
    return this.t.busy(() => flushBusy(this.t))
  }

  warm(items: readonly WarmItem[]): { scopes: number }
  warm<P>(items: readonly WarmItem<P>[]): { scopes: number }
  warm<P>(items: readonly WarmItem<P>[]): { scopes: number } {
    this.open()
    const batch = prepareBulk(this.s, items as readonly WarmItem[], 'warm')
    try {
      if (batch.groups.length === 0) return { scopes: 0 }
      this.t.busy(() => warmCommit(this.t, batch))
    } finally {
      releaseBatch(batch)
    }
    return { scopes: batch.groups.length }
  }

  rebuild(items: readonly WarmItem[]): { scopes: number; items: number }
  rebuild<P>(items: readonly WarmItem<P>[]): { scopes: number; items: number }
  rebuild<P>(items: readonly WarmItem<P>[]): { scopes: number; items: number } {
    this.open()
    const batch = prepareBulk(this.s, items as readonly WarmItem[], 'rebuild')
    try {
      this.t.busy(() => bulkCommit(this.t, batch, true))
    } finally {
      releaseBatch(batch)
    }
    return { scopes: batch.groups.length, items: items.length }
  }

  // ================================================================================ reads ====

  /** The item, payload parsed; with `raw: true` the payload is its JSON text (one read, no parse). */
  get(scope: string, ref: ItemRef, opts: RawReadOptions): Item<string> | undefined
  get<P = unknown>(scope: string, ref: ItemRef, opts?: ReadOptions & { raw?: false } | null): Item<P> | undefined
  get<P = unknown>(scope: string, ref: ItemRef, opts?: ReadOptions | null): Item<P> | Item<string> | undefined
  get<P = unknown>(scope: string, ref: ItemRef, opts?: ReadOptions | null): Item<P> | Item<string> | undefined {
    const by = checkRef(ref)
    if (opts != null) checkOptions(opts, 'get')
    const format: Format = opts?.raw === true ? 'raw' : 'parsed'
    return this.reader.point(scope, by, format) ? (this.reader.item(scope, format) as Item<P>) : undefined
  }

  /** The payload's JSON text, exactly as stored. */
  getRaw(scope: string, ref: ItemRef): string | undefined {
    const by = checkRef(ref)
    if (typeof by === 'string') return this.reader.rawById(scope, by)
    return this.reader.point(scope, by, 'raw') ? this.reader.out.text : undefined
  }

  /** A copy of the payload's UTF-8 bytes (a Buffer: small ones share Node's pool, like every Buffer.allocUnsafe). */
  getBytes(scope: string, ref: ItemRef): Uint8Array | undefined {
    const by = checkRef(ref)
    return this.reader.point(scope, by, 'bytes') ? (this.reader.out.bytes as Uint8Array) : undefined
  }

  getMany(targets: readonly GetTarget[], opts: RawReadOptions): (Item<string> | undefined)[]
  getMany<P = unknown>(targets: readonly GetTarget[], opts?: ReadOptions & { raw?: false } | null): (Item<P> | undefined)[]
  getMany<P = unknown>(targets: readonly GetTarget[], opts?: ReadOptions | null): (Item<P> | Item<string> | undefined)[]
  getMany<P = unknown>(targets: readonly GetTarget[], opts?: ReadOptions | null): (Item<P> | Item<string> | undefined)[] {
    if (opts != null) checkOptions(opts, 'getMany')
    const refs = checkTargets(targets)
    const format: Format = opts?.raw === true ? 'raw' : 'parsed'
    return targets.map((t, i) => (this.reader.point(t.scope, refs[i], format) ? (this.reader.item(t.scope, format) as Item<P>) : undefined))
  }

  /** Items with seq > afterSeq, oldest first ("since"). `raw: true` returns payloads as JSON text. */
  head(scope: string, opts: HeadOptions & RawReadOptions): Page<string>
  head<P = unknown>(scope: string, opts?: HeadOptions & { raw?: false } | null): Page<P>
  head<P = unknown>(scope: string, opts?: HeadOptions | null): Page<P> | Page<string>
  head<P = unknown>(scope: string, opts?: HeadOptions | null): Page<P> | Page<string> {
    if (opts != null) checkOptions(opts, 'head')
    return this.reader.page(scope, opts?.raw === true, headWindow(this.s.i32, this.s.idx, opts?.afterSeq, opts?.limit)) as Page<P>
  }

  /** The newest `limit` items after skipping `offset` newest, returned oldest first. */
  tail(scope: string, opts: TailOptions & RawReadOptions): Page<string>
  tail<P = unknown>(scope: string, opts?: TailOptions & { raw?: false } | null): Page<P>
  tail<P = unknown>(scope: string, opts?: TailOptions | null): Page<P> | Page<string>
  tail<P = unknown>(scope: string, opts?: TailOptions | null): Page<P> | Page<string> {
    if (opts != null) checkOptions(opts, 'tail')
    return this.reader.page(scope, opts?.raw === true, tailWindow(this.s.i32, opts?.offset, opts?.limit)) as Page<P>
  }

  stats(): StoreStats {
    this.open()
    this.tally.flush()
    return storeStats(this.s, this.t.lastWriteTs())
  }

  /** Dead-thread recovery so far (see `watch`): threads reaped, and scopes emptied because a
   * thread died half-way through writing them. */
  recoveryStats(): { deadThreadsReaped: number; scopesLost: number } {
    this.open()
    return { deadThreadsReaped: Atomics.load(this.s.i32, H_REAPS), scopesLost: Atomics.load(this.s.i32, H_SCOPES_LOST) }
  }

  scopeList(opts?: ScopeListOptions | null): { scopes: ScopeInfo[]; truncated: boolean } {
    this.open()
    checkOptions(opts, 'scopeList')
    this.tally.flush()
    return listScopes(this.s, opts ?? {})
  }

  private open(): void {
    if (this.closed) throw new ScopeCacheError('closed', 'scopecache: this handle was closed')
  }
}
