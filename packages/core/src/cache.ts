/**
 * ScopeCache: the public class, the same in the thread that creates a store and in every thread
 * that attaches to it. Every method is synchronous. This file is the facade: it creates, attaches,
 * watches and closes a handle, checks each call's arguments (args.ts) and hands the work to the
 * file that holds it:
 *   store.ts        this thread's view of the shared memory (what `[INTERNALS]()` returns)
 *   txn.ts          the write transaction: busy flag, scope lock, undo record, publish window, frees
 *   scope-life.ts   a write under its scope's lock (creating the scope), the locked read, drops
 *   item-write.ts   single-item writes: append, upsert, update, counter, delete, trim
 *   scope-edit.ts   record and index edits the writes and the reaper share
 *   bulk.ts, bulk-commit.ts   warm/rebuild: prepare the batch; build, charge, swap, undo
 *   read.ts, read-tally.ts, scope-info.ts   optimistic reads, read counts, scopeList rows
 *   reaper.ts       recovery of what a dead thread held
 *
 * Reads are optimistic and write nothing shared on the hot path: load the scope's S_VER (a
 * seqlock, odd while a writer publishes), read through the indexes with every offset
 * range-checked, copy the bytes out, and return only if S_VER has not moved. After a bounded
 * number of failed attempts the read takes the scope's writer lock instead (which also recovers
 * a lock left by a dead thread), so a reader can neither spin forever nor see a torn item.
 *
 * Writes prepare outside any lock (validate, stringify, measure), then under the scope's lock
 * allocate and fill new blocks that no reader can reach yet, and publish them inside a short
 * odd-S_VER window of index updates; replaced blocks are freed after the publish.
 * Lock order: directory → scope(s, in slot order) → allocator.
 */
import type { Worker } from 'node:worker_threads'
import { checkKey, checkLimit, checkRef, checkScope, MAX_GET_MANY, optionalId } from './args.js'
import { bulkCommit, prepareBulk } from './bulk-commit.js'
import { nowMicros } from './clock.js'
import { invalid, ScopeCacheError } from './errors.js'
import { compareUtf8 } from './keys.js'
import { appendLocked, checkSize, counterLocked, deleteLocked, trimItemsLocked, updateLocked, upsertLocked } from './item-write.js'
import { H_ITEMS, H_REAPS, H_SCOPES, H_SCOPES_LOST, S_COUNT, T_FENCE } from './layout.js'
import { startLiveness, type WebLockLiveness } from './liveness-weblocks.js'
import { checkBufferSize, createBuffer, readConfig, resolveConfig, wrap, type Config, type Views } from './memory.js'
import { preparePayload, type Prepared } from './payload.js'
import { MISS, NO_SCOPE, Reader, type Format } from './read.js'
import { ReadTally } from './read-tally.js'
import { getOrLoad, type GetOrLoadOptions, type ReadThroughStore } from './read-through.js'
import { reapThread } from './reaper.js'
import { scopeInfo } from './scope-info.js'
import { dropPrefixBusy, dropScopeBusy, flushBusy, lockedRead, writeScope } from './scope-life.js'
import { ID_SEED, INTERNALS, Store, type Internals } from './store.js'
import { Txn } from './txn.js'
import type {
  GetTarget, Item, ItemMeta, ItemRef, Page, ReapReport, ScopeCacheHandle, ScopeCacheOptions, ScopeInfo, StoreStats,
  WarmItem,
} from './types.js'
import { checkFence, fenceFloor, fenceOf, ifVersionOpt } from './fences.js'
import { invalidateItem, invalidateScope } from './invalidate.js'
import { DEFAULT_LEASE_MS, internalLockName, Leases, msOption, storeMillis, tokenArg, type LeaseGrant } from './leases.js'
import { isValidKey } from './validate.js'

export class ScopeCache {
  /** Structured-cloneable: pass it in `workerData` or `postMessage` and `attach` it there. */
  readonly handle: ScopeCacheHandle
  readonly maxStoreBytes: number
  readonly scopeMaxItems: number
  readonly maxItemBytes: number
  /** Thread slots: how many handles may be attached at once. */
  readonly maxThreads: number

  /** This thread's view of the store (store.ts) and its write transaction state (txn.ts). */
  private readonly s: Store
  private readonly t: Txn
  private readonly tally: ReadTally
  private readonly reader: Reader
  private readonly leases: Leases
  private closed = false
  /** Finds dead threads without `watch` where Web Locks exist (Node ≥ 24); null elsewhere. */
  private readonly liveness: WebLockLiveness | null

  /** Creates a new store; this thread owns its memory (other threads `attach`). */
  static create(options?: ScopeCacheOptions | null): ScopeCache {
    const cfg = resolveConfig(options ?? undefined)
    const v = createBuffer(cfg)
    return new ScopeCache(v, cfg)
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
    this.maxThreads = cfg.maxThreads
    const s = (this.s = new Store(v, cfg))
    const t = (this.t = new Txn(s))
    const tally = (this.tally = new ReadTally(v.i32, v.f64, cfg.scopesW, cfg.scopeSlots))
    this.reader = new Reader({
      v, dir: s.dir, idx: s.idx, tally, scopesW: cfg.scopesW, idSeed: cfg.seed ^ ID_SEED,
      fenceWord: s.slotW + T_FENCE, locked: (scope, visit) => lockedRead(t, tally, scope, visit), checkOpen: () => this.open(),
    })
    this.leases = new Leases(s)
    this.liveness = startLiveness(v.i32, s.threads, s.token, cfg.lockLeaseMs, () => s)
  }

  /**
   * Call in the thread that owns a Worker attached to this store. When it exits (terminated,
   * thrown, out of memory, or simply done without `close()`), the reaper runs here: it releases
   * the locks the worker held, frees the blocks it had allocated or unpublished, empties any
   * scope it left half-written (reported in `scopesLost`) and frees its thread slot. `onReap` gets
   * the report when there was something to recover.
   */
  watch(worker: Worker, onReap?: (report: ReapReport) => void): void {
    const id = worker.threadId // -1 once it has exited: capture it now
    worker.once('exit', () => this.reap(id, onReap))
  }

  /** Recovers what a dead thread (by threadId) held; retried later if a lock stays busy. */
  private reap(threadId: number, onReap?: (report: ReapReport) => void, attempt = 0): void {
    if (this.closed) return // a closed handle has no thread slot to reap with: keep it open while workers live
    let report: ReapReport | null
    this.s.budget.deadline = Date.now() + this.s.cfg.lockLeaseMs
    try {
      report = reapThread(this.s, threadId)
    } catch (e) {
      // Runs from an 'exit' listener or a timer: never throw there. A failed reap changed nothing
      // (its slot went back to DEAD), and until it succeeds the dead thread's locks stay held, so
      // it is retried with backoff until it does; anything but a lock timeout is reported once.
      if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout') && attempt === 0) {
        process.emitWarning(`scopecache: recovering dead thread ${threadId} failed (will retry): ${(e as Error)?.stack ?? String(e)}`)
      }
      setTimeout(() => this.reap(threadId, onReap, attempt + 1), Math.min(1000, 10 * 2 ** attempt)).unref()
      return
    } finally {
      this.s.budget.deadline = 0
    }
    if (report !== null && onReap !== undefined) onReap(report)
  }

  /** Detaches this thread: flushes its read tallies and frees its thread slot. */
  close(): void {
    if (this.closed) return
    this.tally.flush()
    this.t.settle()
    this.closed = true
    this.s.dir.close() // reads now miss the name cache and throw 'closed' (read.ts noScope)
    this.reader.forget()
    // A dirty thread may own garbage: keep its slot ALIVE and busy so its exit gets reaped.
    const dirty = this.t.dirty
    if (!dirty) this.s.threads.release(this.s.token)
    this.liveness?.stop(!dirty) // a dirty slot stays ALIVE: so does its Web Lock, until the thread ends
  }

  /** @internal This thread's view of the store, for the invariant checker and tests (not in the published types). */
  [INTERNALS](): Internals {
    return this.s
  }

  // ======================================================================= named locks ====
  // Leases with fencing tokens, shared by every thread (leases.ts has the semantics).

  /** Takes the lock `name` for `leaseMs` (default 5000) if it is free; null while another lease holds it. */
  tryLock(name: string, opts?: { leaseMs?: number } | null): LeaseGrant | null {
    this.open()
    return this.leases.tryLock(name, msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1))
  }

  /** Waits up to `waitMs` (default 5000) for the lock without blocking the event loop; null if it ran out. */
  lock(name: string, opts?: { leaseMs?: number; waitMs?: number } | null): Promise<LeaseGrant | null> {
    this.open()
    return this.leases.lock(name, msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1), msOption('waitMs', opts?.waitMs, DEFAULT_LEASE_MS, 0))
  }

  /** Extends a lease still held under `token` by `leaseMs` from now; false when it lapsed or is not yours. */
  renew(name: string, token: number, opts?: { leaseMs?: number } | null): boolean {
    this.open()
    return this.leases.renew(name, tokenArg(token), msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1))
  }

  /** Releases the lock if it is still recorded under `token`; false otherwise. */
  unlock(name: string, token: number): boolean {
    this.open()
    return this.leases.unlock(name, tokenArg(token))
  }

  // =============================================================================== writes ====

  append(scope: string, payload: unknown, opts?: { id?: string | null; ifVersion?: number }): ItemMeta {
    this.open()
    this.checkWriteScope(scope)
    const id = optionalId(opts?.id)
    const p = preparePayload(payload)
    this.setArgs(scope, id, p, checkSize(this.s, id, p), opts?.ifVersion)
    return writeScope(this.t, scope, true, this.appendFn)
  }

  upsert(scope: string, id: string, payload: unknown, opts?: { ifVersion?: number }): { created: boolean; item: ItemMeta } {
    this.open()
    this.checkWriteScope(scope)
    if (typeof id !== 'string' || id === '') throw invalid("the 'id' field is required for upsert")
    checkKey(id, 'id')
    const p = preparePayload(payload)
    this.setArgs(scope, id, p, checkSize(this.s, id, p), opts?.ifVersion)
    return writeScope(this.t, scope, true, this.upsertFn)
  }

  /**
   * append's and upsert's arguments, for their write bodies below: fields and two bound functions
   * instead of a fresh closure per call. Set right before writeScope(); the bodies copy them out
   * before anything else runs (no user code runs in between, so no other write can overwrite them).
   */
  private aScope = ''
  private aId: string | null = null
  private aH = 0
  private aP: Prepared | null = null
  private aSize = 0
  private aIf: number | undefined = undefined

  /** The scope name the last write validated: a writer usually writes one scope many times. */
  private okScope: string | null = null

  private checkWriteScope(scope: string): void {
    if (scope === this.okScope) return
    checkScope(scope)
    this.okScope = scope
  }

  private setArgs(scope: string, id: string | null, p: Prepared, size: number, ifVersion: unknown): void {
    this.aIf = ifVersion === undefined ? undefined : ifVersionOpt(ifVersion)
    this.aScope = scope
    this.aId = id
    this.aH = id === null ? 0 : this.s.hashId(id)
    this.aP = p
    this.aSize = size
  }

  private readonly appendFn = (_slot: number, rec: number): ItemMeta => {
    const p = this.aP as Prepared
    this.aP = null
    checkFence(this.t, rec, this.aIf)
    return appendLocked(this.t, this.aScope, rec, this.aId, this.aH, p, this.aSize)
  }

  private readonly upsertFn = (_slot: number, rec: number): { created: boolean; item: ItemMeta } => {
    const p = this.aP as Prepared
    this.aP = null
    checkFence(this.t, rec, this.aIf)
    return upsertLocked(this.t, this.aScope, rec, this.aId as string, this.aH, p, this.aSize)
  }

  update(scope: string, ref: ItemRef, payload: unknown, opts?: { ifVersion?: number }): 0 | 1 {
    this.open()
    checkScope(scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const ifv = ifVersionOpt(opts?.ifVersion)
    const p = preparePayload(payload)
    checkSize(this.s, typeof by === 'string' ? by : null, p)
    return writeScope(this.t, scope, false, (_slot, rec) => {
      checkFence(this.t, rec, ifv)
      return updateLocked(this.t, scope, rec, by, p)
    })
  }

  /** Adds `by` to an integer counter item (created as `by` if absent); returns the new value. */
  counterAdd(scope: string, id: string, by = 1): number {
    return this.counter(scope, id, by).value
  }

  /** counterAdd that also says whether this call created the counter (what `/counter_add` answers). */
  counter(scope: string, id: string, by = 1): { created: boolean; value: number } {
    this.open()
    checkScope(scope)
    if (typeof id !== 'string' || id === '') throw invalid("the 'id' field is required for counterAdd")
    checkKey(id, 'id')
    if (!Number.isSafeInteger(by) || by === 0) throw invalid("the 'by' field must be a non-zero integer within ±(2^53−1)")
    const h = this.s.hashId(id)
    return writeScope(this.t, scope, true, (_slot, rec) => counterLocked(this.t, scope, rec, id, h, by))
  }

  delete(scope: string, ref: ItemRef, opts?: { ifVersion?: number }): 0 | 1 {
    this.open()
    checkScope(scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const ifv = ifVersionOpt(opts?.ifVersion)
    const n = writeScope(this.t, scope, false, (_slot, rec) => {
      checkFence(this.t, rec, ifv)
      return deleteLocked(this.t, rec, by)
    })
    if (n > 0) this.t.bumpLastWrite(nowMicros())
    return n
  }

  // ====================================================================== version fences ====
  // (fences.ts): a version that only moves forward, writes fenced on it, and invalidate.

  /** The scope's version: moves with every change to it, never goes back (a missing scope has one too). */
  version(scope: string): number {
    this.open()
    const r = this.reader.validated(scope, this.fenceVisit)
    return r === NO_SCOPE ? fenceFloor(this.s.f64) : this.fenceSeen
  }

  private fenceSeen = 0
  private readonly fenceVisit = (rec: number): number => {
    this.fenceSeen = fenceOf(this.s.f64, rec)
    return MISS // done, and not counted as a read of the scope
  }

  /**
   * Read-through: the item, or on a miss the value of `loader()`, run by one caller at a time across
   * every thread (the others wait and read what it stored) and stored fenced on the version read
   * before it ran: if the scope changed meanwhile, the value is returned (seq 0) but not stored.
   */
  getOrLoad<P = unknown>(scope: string, ref: { id: string }, loader: () => P | Promise<P>, opts?: GetOrLoadOptions | null): Promise<Item<P>> {
    const id = ref?.id
    if (typeof id !== 'string' || id === '') throw invalid('getOrLoad needs { id }')
    if (typeof loader !== 'function') throw invalid('getOrLoad needs a loader function')
    const leaseMs = msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1)
    const waitMs = msOption('waitMs', opts?.waitMs, 2 * DEFAULT_LEASE_MS, 0)
    // a hit is a plain get (which checks nothing: an invalid name simply misses, and so comes here)
    const hit = this.get<P>(scope, ref)
    if (hit !== undefined) return Promise.resolve(hit)
    checkScope(scope)
    checkKey(id, 'id')
    return getOrLoad(this.readThrough, internalLockName('load', `${scope}\n${id}`, this.s.cfg.seed), scope, id, loader, leaseMs, waitMs)
  }

  private readonly readThrough: ReadThroughStore = {
    get: (scope, ref) => this.get(scope, ref),
    version: (scope) => this.version(scope),
    upsert: (scope, id, payload, opts) => this.upsert(scope, id, payload, opts),
    tryLoader: (name, leaseMs) => this.leases.tryLock(name, leaseMs, true)?.token ?? 0,
    waitLoader: (name, deadline) => this.leases.waitFor(name, deadline),
    unlockLoader: (name, token) => void this.leases.unlock(name, token, true),
    now: storeMillis,
  }

  /** Deletes the item (or, without `ref`, drops the scope) and moves the version; returns items removed. */
  invalidate(scope: string, ref?: ItemRef | null): number {
    this.open()
    checkScope(scope)
    if (ref === undefined || ref === null) return invalidateScope(this.t, scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const n = invalidateItem(this.t, scope, by)
    this.t.bumpLastWrite(nowMicros())
    return n
  }

  trim(scope: string, opts: { maxSeq: number; keep?: undefined } | { keep: number; maxSeq?: undefined }): number {
    this.open()
    checkScope(scope)
    if (opts === null || typeof opts !== 'object') throw invalid('trim needs exactly one of maxSeq or keep')
    const { maxSeq, keep } = opts as { maxSeq?: number; keep?: number }
    if ((maxSeq === undefined) === (keep === undefined)) throw invalid('trim needs exactly one of maxSeq or keep')
    if (maxSeq !== undefined && !(Number.isSafeInteger(maxSeq) && maxSeq > 0)) throw invalid("the 'max_seq' field must be a positive integer")
    if (keep !== undefined && !(Number.isSafeInteger(keep) && keep >= 0)) throw invalid("the 'keep' field must be a non-negative integer")
    const n = writeScope(this.t, scope, false, (_slot, rec) => trimItemsLocked(this.t, rec, maxSeq, keep))
    if (n > 0) this.t.bumpLastWrite(nowMicros())
    return n
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

  warm(items: readonly WarmItem[]): { scopes: number } {
    this.open()
    const batch = prepareBulk(this.s, items, 'warm')
    if (batch.groups.length === 0) return { scopes: 0 }
    this.t.busy(() => bulkCommit(this.t, batch, false))
    return { scopes: batch.groups.length }
  }

  rebuild(items: readonly WarmItem[]): { scopes: number; items: number } {
    this.open()
    const batch = prepareBulk(this.s, items, 'rebuild')
    this.t.busy(() => bulkCommit(this.t, batch, true))
    return { scopes: batch.groups.length, items: items.length }
  }

  // ================================================================================ reads ====

  /** The item, payload parsed; with `raw: true` the payload is its JSON text (one read, no parse). */
  get<P = unknown>(scope: string, ref: ItemRef, opts?: { raw?: boolean }): Item<P> | undefined {
    const by = checkRef(ref)
    const format: Format = opts?.raw === true ? 'raw' : 'parsed'
    if (!this.reader.point(scope, by, format)) return undefined
    return this.itemFromOut(scope, format) as Item<P>
  }

  /** The payload's JSON text, exactly as stored. */
  getRaw(scope: string, ref: ItemRef): string | undefined {
    const by = checkRef(ref)
    return this.reader.point(scope, by, 'raw') ? this.reader.out.text : undefined
  }

  /** A copy of the payload's UTF-8 bytes (a Buffer: small ones share Node's pool, like every Buffer.allocUnsafe). */
  getBytes(scope: string, ref: ItemRef): Uint8Array | undefined {
    const by = checkRef(ref)
    return this.reader.point(scope, by, 'bytes') ? (this.reader.out.bytes as Uint8Array) : undefined
  }

  getMany<P = unknown>(targets: readonly GetTarget[], opts?: { raw?: boolean }): (Item<P> | undefined)[] {
    if (!Array.isArray(targets)) throw invalid('getMany needs an array of targets')
    if (targets.length > MAX_GET_MANY) throw invalid(`getMany takes at most ${MAX_GET_MANY} targets`)
    const refs = targets.map((t) => {
      if (t === null || typeof t !== 'object') throw invalid('each target needs a scope and exactly one of id or seq')
      return checkRef(t)
    })
    const format: Format = opts?.raw === true ? 'raw' : 'parsed'
    return targets.map((t, i) => (this.reader.point(t.scope, refs[i], format) ? (this.itemFromOut(t.scope, format) as Item<P>) : undefined))
  }

  /** Items with seq > afterSeq, oldest first ("since"). `raw: true` returns payloads as JSON text. */
  head<P = unknown>(scope: string, opts?: { afterSeq?: number; limit?: number; raw?: boolean } | null): Page<P> {
    opts ??= {} // null means the defaults, as undefined does
    const afterSeq = opts.afterSeq ?? 0
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw invalid("the 'after_seq' parameter must be a valid unsigned integer")
    const limit = checkLimit(opts.limit)
    const { i32, idx } = this.s
    return this.reader.page(scope, opts.raw === true, (rec) => {
      const count = i32[rec + S_COUNT]
      const from = idx.firstAfter(rec, afterSeq)
      const to = Math.min(count, from + limit)
      return [from, to, to < count]
    }) as Page<P>
  }

  /** The newest `limit` items after skipping `offset` newest, returned oldest first. */
  tail<P = unknown>(scope: string, opts?: { limit?: number; offset?: number; raw?: boolean } | null): Page<P> {
    opts ??= {}
    const offset = opts.offset ?? 0
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid("the 'offset' parameter must be a non-negative integer")
    const limit = checkLimit(opts.limit)
    const { i32 } = this.s
    return this.reader.page(scope, opts.raw === true, (rec) => {
      const count = i32[rec + S_COUNT]
      const to = Math.max(0, count - offset)
      const from = Math.max(0, to - limit)
      return [from, to, from > 0]
    }) as Page<P>
  }

  stats(): StoreStats {
    this.open()
    this.tally.flush()
    return {
      scopes: Atomics.load(this.s.i32, H_SCOPES),
      items: Atomics.load(this.s.i32, H_ITEMS),
      bytes: this.s.heap.chargedBytes(),
      maxStoreBytes: this.s.cfg.maxStoreBytes,
      lastWriteTs: this.t.lastWriteTs(),
    }
  }

  /** Dead-thread recovery so far (see `watch`): threads reaped, and scopes emptied because a
   * thread died half-way through writing them. */
  recoveryStats(): { deadThreadsReaped: number; scopesLost: number } {
    return { deadThreadsReaped: Atomics.load(this.s.i32, H_REAPS), scopesLost: Atomics.load(this.s.i32, H_SCOPES_LOST) }
  }

  scopeList(opts?: { prefix?: string; after?: string; limit?: number } | null): { scopes: ScopeInfo[]; truncated: boolean } {
    this.open()
    opts ??= {}
    const limit = checkLimit(opts.limit)
    const prefix = opts.prefix ?? ''
    const after = opts.after ?? ''
    if ((prefix !== '' && !isValidKey(prefix)) || (after !== '' && !isValidKey(after))) return { scopes: [], truncated: false }
    this.tally.flush()
    const rows: ScopeInfo[] = []
    for (const slot of this.s.dir.liveSlots()) {
      const row = scopeInfo(this.s, slot)
      if (row !== null && row.scope.startsWith(prefix) && (after === '' || compareUtf8(row.scope, after) > 0)) rows.push(row)
    }
    rows.sort((a, b) => compareUtf8(a.scope, b.scope))
    return { scopes: rows.slice(0, limit), truncated: rows.length > limit }
  }

  // ====================================================================== read machinery ====

  private itemFromOut(scope: string, format: Format): Item {
    const o = this.reader.out
    return { scope, id: o.id, seq: o.seq, ts: o.ts, payload: format === 'parsed' ? JSON.parse(o.text) : o.text }
  }

  private open(): void {
    if (this.closed) throw new ScopeCacheError('closed', 'scopecache: this handle was closed')
  }
}
