/**
 * ScopeCache: the public class, the same in the thread that creates a store and in every thread
 * that attaches to it. Every method is synchronous.
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
import { Buffer } from 'node:buffer'
import { threadId as currentThreadId, type Worker } from 'node:worker_threads'
import { ALLOC_OVER_BUDGET, CHARGED, Heap, PENDING, type Mode } from './alloc.js'
import { fault } from './fault.js'
import { Directory } from './directory.js'
import { duplicateId, invalid, ScopeCacheError, scopeFull, storeFull, tooLarge } from './errors.js'
import { parseJsonInteger } from './json.js'
import { compareUtf8, hashKey, utf8Equals } from './keys.js'
import {
  H_DIR_VER, H_ITEMS, H_LAST_WRITE_TS_F, ID_EMPTY, T_LAST_WRITE_TS_F, H_REAPS, H_SCOPES, H_SCOPES_LOST, I_ID_LEN_FLAGS, I_PAYLOAD_LEN, I_SEQ_F,
  I_TS_F, ID_TOMB, IF_ASCII, IF_STRING, itemBytes, ITEM_HEADER_BYTES, S_BYTES_B8, S_COUNT,
  S_CREATED_TS_F, S_ENT_BASE_F, S_ENT_CAP, S_ENT_REF, S_ENT_START, S_GEN, S_ID_CAP, S_ID_REF, S_ID_USED,
  S_LAST_ACCESS_TS_F, S_LAST_SEQ_F, S_LAST_WRITE_TS_F, S_LOCK, S_NAME_LEN, S_NAME_REF, S_READS_HI,
  S_READS_LO, S_STATE, S_VER, B_TAG, TAG_PENDING, SCOPE_FREE, SCOPE_LIVE, SCOPE_RECORD_BYTES, TAG_ENTRIES, TAG_IDTAB,
  SCOPE_WORDS, T_BUSY, T_DEFERRED_B8, T_FENCE, TAG_UNDO, T_UNDO_A, T_UNDO_B, T_UNDO_OP, T_UNDO_PATCH, T_UNDO_REC, T_UNDO_SNAP, TAG_ITEM, TAG_NAME,
  UNDO_BULK, UNDO_DELETE, UNDO_DROP, UNDO_RESTORE, UNDO_TRIM, blockBytes,
} from './layout.js'
import { acquire, Budget, LAZY, release } from './lock.js'
import { startLiveness, type WebLockLiveness } from './liveness-weblocks.js'
import { reapThread, repairTorn } from './reaper.js'
import { checkBufferSize, createBuffer, readConfig, resolveConfig, WEAK_ORDER, wrap, type Config, type Views } from './memory.js'
import { preparePayload, type Prepared } from './payload.js'
import { HIT, MAX_OPTIMISTIC, NO_SCOPE, Reader, readBackoff, type Format, type SliceBuffer } from './read.js'
import { ReadTally } from './read-tally.js'
import { nowMicros } from './clock.js'
import { ScopeIndex } from './scope-index.js'
import { carveGroup, prepareBatch, reseqGroup, tableGroup, throwFirstDuplicate, type Built, type BulkBatch, type BulkGroup } from './bulk.js'
import { ThreadSlots, tokenSlot } from './threads.js'
import type {
  GetTarget, Item, ItemMeta, ItemRef, Page, ReapReport, ScopeCacheHandle, ScopeCacheOptions, ScopeInfo, StoreStats,
  WarmItem,
} from './types.js'
import { isValidKey, keyProblem, utf8Length } from './validate.js'

/** Ids hash with the store's seed mixed with this, so an id and a scope name of the same text differ. */
const ID_SEED = 0x5bd1e995
const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 10_000
const MAX_GET_MANY = 1000


/** Ids and ASCII payload texts up to this many code units are copied into the heap from JS (no Buffer.write call). */
const JS_COPY_MAX = 32

/** Reaches a store's memory for the invariant checker and layout tools (internals.ts), not the public API. */
export const INTERNALS = Symbol('scopecache.internals')

export interface Internals {
  v: Views
  cfg: Config
  idx: ScopeIndex
  dir: Directory
  heap: Heap
  threads: ThreadSlots
  token: number
  budget: Budget
  hashId(id: string): number
  /** Roll-forward steps of a torn trim or delete (the reaper calls them with the scope locked). */
  trimForward(rec: number, n: number, bytes: number): void
  deleteForward(rec: number, pos: number, item: number): void
}

export class ScopeCache {
  /** Structured-cloneable: pass it in `workerData` or `postMessage` and `attach` it there. */
  readonly handle: ScopeCacheHandle
  readonly maxStoreBytes: number
  readonly scopeMaxItems: number
  readonly maxItemBytes: number
  /** Thread slots: how many handles may be attached at once. */
  readonly maxThreads: number

  private readonly v: Views
  private readonly i32: Int32Array
  private readonly f64: Float64Array
  private readonly buf: SliceBuffer
  private readonly cfg: Config
  private readonly threads: ThreadSlots
  private readonly token: number
  private readonly heap: Heap
  private readonly dir: Directory
  private readonly idx: ScopeIndex
  private readonly tally: ReadTally
  private readonly reader: Reader
  private closed = false
  /** Nesting depth of write operations; T_BUSY is 1 while it is above 0. */
  private depth = 0
  /** Set when a write failed in a way the core could not clean up after (see noteFailure). */
  private dirty = false
  private readonly busyW: number
  /** This thread's slot (its undo record lives there). */
  private readonly slotW: number
  /** The deadline of the public call in progress: all its lock waits together take one lease. */
  private readonly budget: Budget
  /**
   * Retired blocks (PENDING, ours) a published write could not free because the allocator lock
   * stayed busy: freed on a later write, at close(), or by the reaper if this thread dies.
   */
  private deferred: number[] = []
  /**
   * This thread's allocator cache: the block the last replace retired (PENDING, ours, counted in
   * T_DEFERRED_B8 like a deferred free; 0 = none). The next replace of an item of the same block
   * size takes it without the allocator lock (swapSpare); any other allocation round of this
   * thread frees it in the same lock hold (lockHeap); close() frees it; the reaper if we die.
   */
  private spare = 0
  /** Finds dead threads without `watch` where Web Locks exist (Node ≥ 24); null elsewhere. */
  private readonly liveness: WebLockLiveness | null
  /** f64 index of this thread slot's last-write ts, and the value this thread last stored there. */
  private readonly lastTsF: number
  private lastTs: number

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
    this.v = v
    this.cfg = cfg
    this.i32 = v.i32
    this.f64 = v.f64
    this.buf = v.buf as SliceBuffer
    this.handle = { kind: 'scopecache/v1', buffer: v.sab }
    this.maxStoreBytes = cfg.maxStoreBytes
    this.scopeMaxItems = cfg.scopeMaxItems
    this.maxItemBytes = cfg.maxItemBytes
    this.maxThreads = cfg.maxThreads
    this.threads = new ThreadSlots(v.i32, cfg.threadsW, cfg.maxThreads)
    this.token = this.threads.claim(currentThreadId)
    this.slotW = this.threads.at(tokenSlot(this.token))
    this.busyW = this.slotW + T_BUSY
    this.lastTsF = (this.slotW >> 1) + T_LAST_WRITE_TS_F
    this.lastTs = this.f64[this.lastTsF] // a previous holder's latest write: never store below it
    this.budget = new Budget(cfg.lockLeaseMs)
    this.heap = new Heap(v.i32, cfg.maxStoreBytes, this.threads, this.token, cfg.lockLeaseMs, this.budget)
    this.dir = new Directory(v, cfg, this.threads, this.token, this.slotW + T_FENCE, this.budget)
    this.idx = new ScopeIndex(v.i32, v.f64, v.u8, cfg.heapB8, cfg.heapEndB8)
    this.tally = new ReadTally(v.i32, v.f64, cfg.scopesW, cfg.scopeSlots)
    this.reader = new Reader({
      v, dir: this.dir, idx: this.idx, tally: this.tally, scopesW: cfg.scopesW, idSeed: cfg.seed ^ ID_SEED,
      fenceWord: this.slotW + T_FENCE, locked: this.lockedRead, checkOpen: () => this.open(),
    })
    this.liveness = startLiveness(v.i32, this.threads, this.token, cfg.lockLeaseMs, () => this[INTERNALS]())
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
    this.budget.deadline = Date.now() + this.cfg.lockLeaseMs
    try {
      report = reapThread(this[INTERNALS](), threadId)
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
      this.budget.deadline = 0
    }
    if (report !== null && onReap !== undefined) onReap(report)
  }

  /** Detaches this thread: flushes its read tallies and frees its thread slot. */
  close(): void {
    if (this.closed) return
    this.tally.flush()
    this.releaseSpare()
    if (this.deferred.length > 0) {
      this.budget.deadline = Date.now() + this.cfg.lockLeaseMs
      try {
        this.freeDeferred()
      } finally {
        this.budget.deadline = 0
      }
      if (this.deferred.length > 0) this.dirty = true
    }
    this.closed = true
    this.dir.close() // reads now miss the name cache and throw 'closed' (read.ts noScope)
    this.reader.forget()
    // A dirty thread may own garbage: keep its slot ALIVE and busy so its exit gets reaped.
    if (!this.dirty) this.threads.release(this.token)
    this.liveness?.stop(!this.dirty) // a dirty slot stays ALIVE: so does its Web Lock, until the thread ends
  }

  [INTERNALS](): Internals {
    return {
      v: this.v, cfg: this.cfg, idx: this.idx, dir: this.dir, heap: this.heap, threads: this.threads, token: this.token,
      budget: this.budget,
      hashId: (id) => this.hashId(id),
      trimForward: (rec, n, bytes) => {
        const refs: number[] = []
        for (let k = 0; k < n; k++) refs.push(this.idx.refAt(rec, k))
        this.trimLocked(rec, refs, this.idHashes(refs), bytes)
      },
      deleteForward: (rec, pos, item) => {
        // the entries shift is one copyWithin: done iff the entry at `pos` is no longer the item
        const shifted = this.idx.refAt(rec, pos) !== item
        this.removeAtLocked(rec, pos, item, shifted)
      },
    }
  }

  // =============================================================================== writes ====

  append(scope: string, payload: unknown, opts?: { id?: string | null }): ItemMeta {
    this.open()
    this.checkWriteScope(scope)
    const id = optionalId(opts?.id)
    const p = preparePayload(payload)
    this.setArgs(scope, id, p, this.checkSize(id, p))
    return this.write(scope, true, this.appendFn)
  }

  upsert(scope: string, id: string, payload: unknown): { created: boolean; item: ItemMeta } {
    this.open()
    this.checkWriteScope(scope)
    if (typeof id !== 'string' || id === '') throw invalid("the 'id' field is required for upsert")
    checkKey(id, 'id')
    const p = preparePayload(payload)
    this.setArgs(scope, id, p, this.checkSize(id, p))
    return this.write(scope, true, this.upsertFn)
  }

  /**
   * append's and upsert's arguments, for their write bodies below: fields and two bound functions
   * instead of a fresh closure per call. Set right before write(); the bodies copy them out before
   * anything else runs (no user code runs in between, so no other write can overwrite them).
   */
  private aScope = ''
  private aId: string | null = null
  private aH = 0
  private aP: Prepared | null = null
  private aSize = 0

  /** The scope name the last write validated: a writer usually writes one scope many times. */
  private okScope: string | null = null

  private checkWriteScope(scope: string): void {
    if (scope === this.okScope) return
    checkScope(scope)
    this.okScope = scope
  }

  private setArgs(scope: string, id: string | null, p: Prepared, size: number): void {
    this.aScope = scope
    this.aId = id
    this.aH = id === null ? 0 : this.hashId(id)
    this.aP = p
    this.aSize = size
  }

  private readonly appendFn = (_slot: number, rec: number): ItemMeta => {
    const id = this.aId
    const h = this.aH
    const p = this.aP as Prepared
    this.aP = null
    const free = id === null ? -1 : this.probeId(rec, id, h)
    if (free >= 0) throw duplicateId()
    return this.insertLocked(this.aScope, rec, id, h, free, p, this.aSize)
  }

  private readonly upsertFn = (_slot: number, rec: number): { created: boolean; item: ItemMeta } => {
    const id = this.aId as string
    const h = this.aH
    const p = this.aP as Prepared
    this.aP = null
    const at = this.probeId(rec, id, h)
    if (at < 0) return { created: true, item: this.insertLocked(this.aScope, rec, id, h, at, p, this.aSize) }
    return { created: false, item: this.replaceLocked(this.aScope, rec, this.i32[at + 1], id, at + 1, p, this.aSize) }
  }

  update(scope: string, ref: ItemRef, payload: unknown): 0 | 1 {
    this.open()
    checkScope(scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const p = preparePayload(payload)
    this.checkSize(typeof by === 'string' ? by : null, p)
    return this.write(scope, false, (_slot, rec) => {
      if (rec < 0) return 0
      const old = this.findLocked(rec, by)
      if (old < 0) return 0
      const id = this.readId(old)
      const size = this.checkSize(id, p)
      const idWord = id === null ? -1 : this.probeId(rec, id, this.hashId(id)) + 1
      this.replaceLocked(scope, rec, old, id, idWord, p, size)
      return 1
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
    const h = this.hashId(id)
    return this.write(scope, true, (slot, rec) => {
      const at = this.probeId(rec, id, h)
      if (at < 0) {
        const p = preparePayload(by)
        this.insertLocked(scope, rec, id, h, at, p, this.checkSize(id, p), false)
        return { created: true, value: by }
      }
      const old = this.i32[at + 1]
      const current = parseJsonInteger(this.readPayloadText(old))
      if (current === undefined) throw new ScopeCacheError('conflict', "the existing payload is not an integer counter")
      const next = current + by
      if (!Number.isSafeInteger(next)) throw invalid('the counter would leave the range ±(2^53−1)')
      const p = preparePayload(next)
      this.replaceLocked(scope, rec, old, id, at + 1, p, this.checkSize(id, p), false)
      return { created: false, value: next }
    })
  }

  delete(scope: string, ref: ItemRef): 0 | 1 {
    this.open()
    checkScope(scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const n = this.write(scope, false, (_slot, rec) => {
      if (rec < 0) return 0
      const item = this.findLocked(rec, by)
      if (item < 0) return 0
      const pos = this.idx.findSeq(rec, this.idx.seqOf(item))
      this.heap.retire([item]) // the last wait: after the publish nothing may fail
      this.undo(rec, UNDO_DELETE, pos, item)
      this.publish(rec, () => {
        this.removeAtLocked(rec, pos, item)
        Atomics.sub(this.i32, H_ITEMS, 1)
      })
      fault('write:published')
      this.freeRetired([item])
      return 1 as const
    })
    if (n > 0) this.bumpLastWrite(nowMicros())
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
    const n = this.write(scope, false, (_slot, rec) => {
      if (rec < 0) return 0
      const count = this.i32[rec + S_COUNT]
      const n = maxSeq !== undefined ? this.idx.firstAfter(rec, maxSeq) : Math.max(0, count - (keep as number))
      if (n === 0) return 0
      const freed: number[] = []
      for (let k = 0; k < n; k++) freed.push(this.idx.refAt(rec, k))
      const hashes = this.idHashes(freed)
      const bytes = sumSizes(this.heap, freed)
      this.heap.retire(freed) // the last wait: after the publish nothing may fail
      this.undo(rec, UNDO_TRIM, n, bytes >> 3)
      this.publish(rec, () => {
        this.trimLocked(rec, freed, hashes, bytes)
        Atomics.sub(this.i32, H_ITEMS, n)
      })
      fault('write:published')
      this.freeRetired(freed)
      return n
    })
    if (n > 0) this.bumpLastWrite(nowMicros())
    return n
  }

  dropScope(scope: string): { found: boolean; items: number } {
    this.open()
    checkScope(scope)
    return this.busy(() => this.dropScopeBusy(scope))
  }

  private dropScopeBusy(scope: string): { found: boolean; items: number } {
    this.dir.lock()
    let slot: number
    let dropped: Dropped
    try {
      slot = this.dir.findLocked(scope)
      if (slot < 0) return { found: false, items: 0 }
      dropped = this.dropSlotsLocked([slot])
    } finally {
      this.dir.unlock()
    }
    this.finishDrop(dropped)
    return { found: true, items: dropped.items }
  }

  dropPrefix(prefix: string): { scopes: number; items: number } {
    this.open()
    if (typeof prefix !== 'string' || prefix === '') throw invalid("the 'prefix' field is required")
    checkKey(prefix, 'prefix')
    return this.busy(() => this.dropPrefixBusy(prefix))
  }

  private dropPrefixBusy(prefix: string): { scopes: number; items: number } {
    this.dir.lock()
    let dropped: Dropped
    try {
      const slots = this.dir.liveSlots().filter((s) => this.nameOf(s).startsWith(prefix))
      if (slots.length === 0) return { scopes: 0, items: 0 }
      dropped = this.dropSlotsLocked(slots)
    } finally {
      this.dir.unlock()
    }
    this.finishDrop(dropped)
    return { scopes: dropped.scopes, items: dropped.items }
  }

  flush(): { scopes: number; items: number; bytes: number } {
    this.open()
    return this.busy(() => this.flushBusy())
  }

  private flushBusy(): { scopes: number; items: number; bytes: number } {
    this.dir.lock()
    let dropped: Dropped
    const bytes = this.heap.chargedBytes()
    try {
      dropped = this.dropSlotsLocked(this.dir.liveSlots())
    } finally {
      this.dir.unlock()
    }
    this.finishDrop(dropped)
    this.bumpLastWrite(nowMicros())
    return { scopes: dropped.scopes, items: dropped.items, bytes }
  }

  warm(items: readonly WarmItem[]): { scopes: number } {
    this.open()
    const batch = this.prepareBulk(items, 'warm')
    if (batch.groups.length === 0) return { scopes: 0 }
    this.busy(() => this.bulkCommit(batch, false))
    return { scopes: batch.groups.length }
  }

  rebuild(items: readonly WarmItem[]): { scopes: number; items: number } {
    this.open()
    const batch = this.prepareBulk(items, 'rebuild')
    this.busy(() => this.bulkCommit(batch, true))
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
    return this.reader.page(scope, opts.raw === true, (rec) => {
      const count = this.i32[rec + S_COUNT]
      const from = this.idx.firstAfter(rec, afterSeq)
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
    return this.reader.page(scope, opts.raw === true, (rec) => {
      const count = this.i32[rec + S_COUNT]
      const to = Math.max(0, count - offset)
      const from = Math.max(0, to - limit)
      return [from, to, from > 0]
    }) as Page<P>
  }

  stats(): StoreStats {
    this.open()
    this.tally.flush()
    return {
      scopes: Atomics.load(this.i32, H_SCOPES),
      items: Atomics.load(this.i32, H_ITEMS),
      bytes: this.heap.chargedBytes(),
      maxStoreBytes: this.cfg.maxStoreBytes,
      lastWriteTs: this.lastWriteTs(),
    }
  }

  /** Dead-thread recovery so far (see `watch`): threads reaped, and scopes emptied because a
   * thread died half-way through writing them. */
  recoveryStats(): { deadThreadsReaped: number; scopesLost: number } {
    return { deadThreadsReaped: Atomics.load(this.i32, H_REAPS), scopesLost: Atomics.load(this.i32, H_SCOPES_LOST) }
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
    for (const slot of this.dir.liveSlots()) {
      const row = this.scopeInfo(slot)
      if (row !== null && row.scope.startsWith(prefix) && (after === '' || compareUtf8(row.scope, after) > 0)) rows.push(row)
    }
    rows.sort((a, b) => compareUtf8(a.scope, b.scope))
    return { scopes: rows.slice(0, limit), truncated: rows.length > limit }
  }

  // ====================================================================== read machinery ====

  /** The locked fallback of a read that lost too many races: `visit` under the scope's lock. */
  private readonly lockedRead = (scope: string, visit: (rec: number) => number): number =>
    this.write(scope, false, (s, rec) => {
      if (rec < 0) return NO_SCOPE
      const r = visit(rec)
      if (r === HIT) this.tally.count(s, this.i32[rec + S_GEN])
      return r
    })

  private itemFromOut(scope: string, format: Format): Item {
    const o = this.reader.out
    return { scope, id: o.id, seq: o.seq, ts: o.ts, payload: format === 'parsed' ? JSON.parse(o.text) : o.text }
  }

  private scopeInfo(slot: number): ScopeInfo | null {
    const { i32, f64 } = this
    const rec = this.dir.rec(slot)
    const r2 = rec >> 1
    for (let attempt = 0; attempt < MAX_OPTIMISTIC; attempt++) {
      if (attempt > 0) readBackoff(attempt)
      const v = Atomics.load(i32, rec + S_VER)
      if ((v & 1) !== 0) continue
      if (i32[rec + S_STATE] !== SCOPE_LIVE) return null
      let scope: string
      try {
        scope = this.nameOf(slot)
      } catch {
        continue
      }
      const row: ScopeInfo = {
        scope,
        itemCount: i32[rec + S_COUNT],
        lastSeq: f64[r2 + S_LAST_SEQ_F],
        bytes: i32[rec + S_BYTES_B8] * 8,
        createdTs: f64[r2 + S_CREATED_TS_F],
        lastWriteTs: f64[r2 + S_LAST_WRITE_TS_F],
        lastAccessTs: f64[r2 + S_LAST_ACCESS_TS_F],
        readCountTotal: (Atomics.load(i32, rec + S_READS_HI) >>> 0) * 2 ** 32 + (Atomics.load(i32, rec + S_READS_LO) >>> 0),
      }
      if (WEAK_ORDER) this.fence()
      if (Atomics.load(i32, rec + S_VER) === v) return row
    }
    return null
  }

  private nameOf(slot: number): string {
    const rec = this.dir.rec(slot)
    const a = this.i32[rec + S_NAME_REF] * 8 + 8
    return this.buf.utf8Slice(a, a + this.i32[rec + S_NAME_LEN])
  }

  // ===================================================================== write machinery ====

  private fence(): void {
    Atomics.add(this.i32, this.slotW + T_FENCE, 0)
  }

  private open(): void {
    if (this.closed) throw new ScopeCacheError('closed', 'scopecache: this handle was closed')
  }

  /**
   * Runs a write with this thread's T_BUSY flag up: while it is up the thread may own blocks no
   * index reaches yet (or any more), so if it dies the reaper must sweep for them.
   */
  private busy<T>(fn: () => T): T {
    this.enter()
    try {
      return fn()
    } catch (e) {
      this.noteFailure(e)
      throw e
    } finally {
      this.leave()
    }
  }

  /**
   * Entry of a write (or a read's locked fallback): busy flag up, the call's deadline set — or,
   * `lazy` (single-item writes), fixed by its first lock wait (lock.ts Budget).
   */
  private enter(lazy = false): void {
    if (this.depth++ !== 0) return
    // A plain store, like every store of a write: the reaper reads the flag only once this thread
    // is dead (its exit seen through the event loop or the lock manager, both synchronising), and
    // the locks this write takes next are seq-cst RMWs that keep it from moving later.
    this.i32[this.busyW] = 1
    if (this.deferred.length > 0) this.freeDeferredNow()
    this.budget.deadline = lazy ? LAZY : Date.now() + this.cfg.lockLeaseMs
  }

  private leave(): void {
    if (--this.depth !== 0) return
    this.budget.deadline = 0
    // deferred blocks are unreachable blocks of ours: the flag stays up so a death gets them swept
    if (!this.dirty && this.deferred.length === 0 && this.spare === 0) this.i32[this.busyW] = 0
  }

  /**
   * Frees blocks this thread retired (PENDING and adopted: replaced, trimmed, dropped, or built
   * for a write that failed). A published write must not report failure, so what the allocator
   * lock does not allow within the call's deadline is deferred, not thrown.
   */
  private freeRetired(refs: number[]): void {
    const n = this.heap.freeSome(refs)
    if (n === refs.length) return
    let b8 = 0
    for (let k = n; k < refs.length; k++) {
      this.deferred.push(refs[k])
      b8 += this.heap.sizeOf(refs[k]) >> 3
    }
    Atomics.add(this.i32, this.slotW + T_DEFERRED_B8, b8) // lets the invariant checker account for them
  }

  /** Frees deferred blocks, waiting until the budget's deadline at most. */
  private freeDeferred(): void {
    const refs = this.deferred
    const sizes = refs.map((r) => this.heap.sizeOf(r) >> 3)
    const n = this.heap.freeSome(refs)
    if (n === 0) return
    this.deferred = refs.slice(n)
    let b8 = 0
    for (let k = 0; k < n; k++) b8 += sizes[k]
    Atomics.sub(this.i32, this.slotW + T_DEFERRED_B8, b8)
  }

  /** A try at freeing deferred blocks that does not wait (it must not eat the next call's lease). */
  private freeDeferredNow(): void {
    this.budget.deadline = Date.now()
    try {
      this.freeDeferred()
    } finally {
      this.budget.deadline = 0
    }
  }

  /**
   * The core cleans up after its own rejections (invalid input, full, conflict, lock timeouts:
   * retired blocks it cannot free in time are deferred), but an exception from anywhere else (a
   * stack overflow at the call site) — or charged blocks a failed write could not free in time
   * (dropUnpublished) — may have left blocks this thread owns unreachable. Then the thread stays
   * marked busy for good, so that when it exits the reaper sweeps up after it.
   */
  private noteFailure(e: unknown): void {
    if (!(e instanceof ScopeCacheError)) this.dirty = true
  }

  private hashId(id: string): number {
    return hashKey(id, this.cfg.seed ^ ID_SEED)
  }

  private checkSize(id: string | null, p: Prepared): number {
    const size = itemBytes(id === null ? 0 : utf8Length(id), p.byteLength)
    if (size > this.cfg.maxItemBytes) throw tooLarge(size, this.cfg.maxItemBytes)
    return size
  }

  /**
   * Runs `fn` under the scope's writer lock. With `create`, a missing scope is created first
   * (and removed again if `fn` throws before anything was written to it); without, `fn` gets
   * rec = -1 for a missing scope.
   */
  private write<T>(scope: string, create: boolean, fn: (slot: number, rec: number) => T): T {
    this.enter(true) // not via busy(): no closure on the hot path
    try {
      return this.writeBusy(scope, create, fn)
    } catch (e) {
      this.noteFailure(e)
      throw e
    } finally {
      this.leave()
    }
  }

  private writeBusy<T>(scope: string, create: boolean, fn: (slot: number, rec: number) => T): T {
    const { i32 } = this
    for (;;) {
      let slot = this.dir.resolve(scope)
      let created = false
      if (slot < 0) {
        if (!create) return fn(-1, -1)
        slot = this.createScope(scope)
        created = true
      }
      const gen = this.dir.gen
      const rec = this.dir.rec(slot)
      try {
        this.lockScope(rec)
      } catch (e) {
        if (created) this.rollbackCreated(slot, gen) // may time out too: then an empty scope stays
        throw e
      }
      if (i32[rec + S_GEN] !== gen || i32[rec + S_STATE] !== SCOPE_LIVE) {
        release(i32, rec + S_LOCK, this.token)
        this.dir.forget(scope)
        continue
      }
      fault('write:locked')
      let result: T
      try {
        result = fn(slot, rec)
      } catch (e) {
        release(i32, rec + S_LOCK, this.token)
        if (created) this.rollbackCreated(slot, gen)
        throw e
      }
      release(i32, rec + S_LOCK, this.token)
      return result
    }
  }

  private lockScope(rec: number): void {
    acquire(this.i32, rec + S_LOCK, this.token, this.cfg.lockLeaseMs, this.threads, this.budget)
  }

  /** Creates a scope (record + name); returns its slot with its gen in dir.gen. */
  private createScope(scope: string): number {
    const { i32 } = this
    const nameBytes = utf8Length(scope)
    this.dir.lock()
    try {
      const found = this.dir.findLocked(scope)
      if (found >= 0) return found
      const charged = this.heap.chargedBytes()
      if (Atomics.load(i32, H_SCOPES) >= this.cfg.maxScopes) {
        throw new ScopeCacheError('store_full', `store is at capacity: ${this.cfg.maxScopes} scopes`, {
          storeBytes: charged, addedBytes: SCOPE_RECORD_BYTES, maxStoreBytes: this.cfg.maxStoreBytes,
        })
      }
      const added = SCOPE_RECORD_BYTES + blockBytes(nameBytes)
      this.heap.lock()
      let nameRef: number
      try {
        if (!this.heap.chargeLocked(SCOPE_RECORD_BYTES)) throw storeFull(charged, added, this.cfg.maxStoreBytes)
        nameRef = this.heap.allocLocked(nameBytes, TAG_NAME, CHARGED)
        if (nameRef <= 0) {
          this.heap.chargeLocked(-SCOPE_RECORD_BYTES)
          throw storeFull(charged, SCOPE_RECORD_BYTES + this.heap.refusedBytes, this.cfg.maxStoreBytes)
        }
      } finally {
        this.heap.unlock()
      }
      fault('scope:creating')
      const slot = this.dir.takeSlotLocked()
      if (slot < 0) {
        this.heap.lock()
        try {
          this.heap.chargeLocked(-SCOPE_RECORD_BYTES)
          this.heap.freeLocked(nameRef)
        } finally {
          this.heap.unlock()
        }
        throw storeFull(charged, added, this.cfg.maxStoreBytes)
      }
      this.v.buf.write(scope, nameRef * 8 + 8, nameBytes, 'utf8')
      const rec = this.dir.rec(slot)
      this.dir.beginChange()
      this.initRecord(rec, nameRef, nameBytes, this.heap.sizeOf(nameRef), nowMicros())
      this.dir.insertLocked(slot, this.dir.hash(scope))
      this.dir.endChange()
      Atomics.add(i32, H_SCOPES, 1)
      this.dir.gen = i32[rec + S_GEN]
      return slot
    } finally {
      this.dir.unlock()
    }
  }

  /** Fresh record fields for a slot given to a new scope (directory change in progress). */
  private initRecord(rec: number, nameRef: number, nameBytes: number, nameBlock: number, ts: number): void {
    const { i32, f64 } = this
    const r2 = rec >> 1
    ScopeIndex.clear(i32, rec)
    i32[rec + S_NAME_REF] = nameRef
    i32[rec + S_NAME_LEN] = nameBytes
    i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + nameBlock) >> 3
    f64[r2 + S_ENT_BASE_F] = 1
    f64[r2 + S_LAST_SEQ_F] = 0
    f64[r2 + S_CREATED_TS_F] = ts
    f64[r2 + S_LAST_WRITE_TS_F] = ts
    f64[r2 + S_LAST_ACCESS_TS_F] = 0
    Atomics.store(i32, rec + S_READS_LO, 0)
    Atomics.store(i32, rec + S_READS_HI, 0)
    Atomics.add(i32, rec + S_GEN, 1)
    Atomics.store(i32, rec + S_STATE, SCOPE_LIVE)
  }

  /**
   * A write that created its scope failed: remove the scope if nothing else was written to it.
   * Best effort within the call's deadline: if a lock stays busy the empty scope stays, and the
   * caller still throws its own error.
   */
  private rollbackCreated(slot: number, gen: number): void {
    try {
      this.dropIfUnwritten(slot, gen)
    } catch (e) {
      if (!(e instanceof ScopeCacheError)) throw e
    }
  }

  private dropIfUnwritten(slot: number, gen: number): void {
    const rec = this.dir.rec(slot)
    this.dir.lock()
    let dropped: Dropped | null = null
    try {
      this.lockScope(rec)
      // lastSeq 0 with the scope locked: no write has reached it since it was created
      if (this.i32[rec + S_GEN] === gen && this.i32[rec + S_STATE] === SCOPE_LIVE && this.f64[(rec >> 1) + S_LAST_SEQ_F] === 0) {
        dropped = this.dropSlotsLocked([slot], true)
      } else {
        release(this.i32, rec + S_LOCK, this.token)
      }
    } finally {
      this.dir.unlock()
    }
    if (dropped !== null) this.finishDrop(dropped, false)
  }

  /**
   * Publishes `fn`'s index updates inside an odd-S_VER window. A block the update makes
   * unreachable is freed under the same scope lock, or marked PENDING and adopted first
   * (replace, drop, bulk), so the reaper can tell garbage from work in flight (reaper.ts).
   */
  private publish(rec: number, fn: () => void): void {
    this.openWindow(rec)
    try {
      fault('publish:open')
      fn()
    } catch (e) {
      this.tornWindow(rec)
      throw e
    } finally {
      this.closeWindow(rec)
    }
  }

  /** Opens a publish window (see publish; insertLocked inlines one to spare a closure). */
  private openWindow(rec: number): void {
    // The undo record (see undo()) is now valid. Plain stores, like the snapshot itself: the
    // S_VER increment below is a seq-cst RMW after them, so a reaper that finds S_VER odd (an
    // atomic load) sees the record; while S_VER is even nobody reads it.
    this.i32[this.slotW + T_UNDO_REC] = rec + 1
    Atomics.add(this.i32, rec + S_VER, 1)
  }

  private closeWindow(rec: number): void {
    Atomics.add(this.i32, rec + S_VER, 1)
    this.i32[this.slotW + T_UNDO_REC] = 0
  }

  /**
   * Nothing in a window throws by design; if something did (a stack overflow), the indexes may be
   * half-updated: repair the scope from the undo record, as the reaper would.
   */
  private tornWindow(rec: number): void {
    if (!repairTorn(this[INTERNALS](), rec, tokenSlot(this.token))) Atomics.add(this.i32, H_SCOPES_LOST, 1)
    this.dirty = true
  }

  /**
   * Writes this thread's undo record for the next publish window on `rec`: a snapshot of the
   * scope record and what to do with it if the thread dies inside the window — put it back
   * (UNDO_RESTORE, plus up to two patched words outside the record, see patch()) or roll the
   * operation forward from it (UNDO_TRIM, UNDO_DELETE). publish() makes it valid.
   */
  private undo(rec: number, op: number, a = 0, b = 0): void {
    const { i32 } = this
    const w = this.slotW
    i32.copyWithin(w + T_UNDO_SNAP, rec, rec + SCOPE_WORDS)
    i32[w + T_UNDO_OP] = op
    i32[w + T_UNDO_A] = a
    i32[w + T_UNDO_B] = b
    i32[w + T_UNDO_PATCH] = -1
    i32[w + T_UNDO_PATCH + 2] = -1
  }

  /** Saves word `index` (outside the scope record) into undo patch `k` before the window writes it. */
  private patch(k: 0 | 1, index: number): void {
    const w = this.slotW + T_UNDO_PATCH + k * 2
    this.i32[w] = index
    this.i32[w + 1] = this.i32[index]
  }

  private idHashes(refs: number[]): number[] {
    return refs.map((r) => (this.idx.idLen(r) > 0 ? this.hashId(this.readId(r) as string) : 0))
  }

  /** Removes the oldest `refs.length` entries (inside a publish window, or rolling a torn trim forward). */
  private trimLocked(rec: number, refs: number[], hashes: number[], bytes: number): void {
    for (let k = 0; k < refs.length; k++) if (this.idx.idLen(refs[k]) > 0) this.untableLocked(rec, refs[k], hashes[k])
    this.i32[rec + S_ENT_START] += refs.length
    this.i32[rec + S_COUNT] -= refs.length
    this.chargeScope(rec, -bytes)
  }

  private chargeScope(rec: number, bytes: number): void {
    this.i32[rec + S_BYTES_B8] += bytes >> 3
  }

  /** Allocates a heap block or throws store_full. */
  private allocOrFull(n: number, tag: number, mode: Mode): number {
    const ref = this.heap.alloc(n, tag, mode)
    if (ref > 0) return ref
    throw storeFull(this.heap.chargedBytes(), this.heap.refusedBytes, this.cfg.maxStoreBytes)
  }

  /** Writes an item block (PENDING: charged only when committed). */
  private writeItem(id: string | null, p: Prepared, size: number, seq: number, ts: number, mode: Mode = PENDING): number {
    const ref = this.allocOrFull(size - 8, TAG_ITEM, mode)
    this.fillItem(ref, id, p, seq, ts)
    return ref
  }

  private fillItem(ref: number, id: string | null, p: Prepared, seq: number, ts: number): void {
    const { i32, f64 } = this
    const u8 = this.v.u8
    const start = ref * 8 + ITEM_HEADER_BYTES
    let idBytes = 0
    if (id !== null) {
      // short ASCII ids byte by byte: a Buffer.write call costs 3-4× as much
      const n = id.length
      if (n <= JS_COPY_MAX) {
        for (; idBytes < n; idBytes++) {
          const c = id.charCodeAt(idBytes)
          if (c > 0x7f) break
          u8[start + idBytes] = c
        }
      }
      if (idBytes !== n) idBytes = this.v.buf.write(id, start, 'utf8')
    }
    const at = start + idBytes
    const text = p.text
    if (text !== null) {
      const n = p.byteLength
      if (p.ascii && n <= JS_COPY_MAX) for (let k = 0; k < n; k++) u8[at + k] = text.charCodeAt(k)
      else this.v.buf.write(text, at, n, p.ascii ? 'latin1' : 'utf8')
    } else u8.set((p.bytes as Uint8Array).subarray(p.start, p.end), at)
    f64[ref + I_SEQ_F] = seq
    f64[ref + I_TS_F] = ts
    i32[ref * 2 + I_PAYLOAD_LEN] = p.byteLength
    i32[ref * 2 + I_ID_LEN_FLAGS] = idBytes | (((p.ascii ? IF_ASCII : 0) | (p.isString ? IF_STRING : 0)) << 16)
  }

  /** Appends a new item to a locked scope; returns its meta. */
  private insertLocked(
    scope: string, rec: number, id: string | null, h: number, free: number, p: Prepared, size: number, bumpScopeWrite = true,
  ): ItemMeta {
    const { i32, f64, idx } = this
    const r2 = rec >> 1
    const count = i32[rec + S_COUNT]
    if (count >= this.cfg.scopeMaxItems) throw scopeFull([{ scope, count, cap: this.cfg.scopeMaxItems }])
    const seq = f64[r2 + S_LAST_SEQ_F] + 1
    const ts = nowMicros()
    // charged at once: a new item has no old one whose bytes it could reuse (one allocator round
    // trip, which also frees this thread's spare block)
    this.lockHeap()
    let item: number
    try {
      item = this.heap.allocLocked(size - 8, TAG_ITEM, CHARGED)
    } finally {
      this.heap.unlock()
    }
    if (item <= 0) throw storeFull(this.heap.chargedBytes(), this.heap.refusedBytes, this.cfg.maxStoreBytes)
    this.fillItem(item, id, p, seq, ts)
    let added = this.heap.sizeOf(item) // may exceed `size` by a remainder too small to split
    fault('insert:allocated')
    // index arrays allocated for this append (0: none), and the ones they replace
    let freshEnt = 0
    let freshTab = 0
    let stale: number[] | null = null
    let published = false
    try {
      // The entries tail is full: copy the live entries into a fresh array (same size when at
      // most half full, else double), rebasing seqs on the oldest live one.
      const oldEnt = i32[rec + S_ENT_REF]
      let ent = oldEnt
      let entCap = i32[rec + S_ENT_CAP]
      let entStart = i32[rec + S_ENT_START]
      let base = f64[r2 + S_ENT_BASE_F]
      if (ent === 0 || entStart + count >= entCap || seq - base > 0x7fffffff) {
        entCap = Math.max(4, count + 1 > entCap / 2 ? entCap * 2 : entCap)
        ent = freshEnt = this.allocOrFull(entCap * 8, TAG_ENTRIES, CHARGED)
        base = count > 0 ? idx.seqAt(rec, 0) : seq
        const w = ent * 2 + 2
        for (let k = 0; k < count; k++) {
          i32[w + k * 2] = idx.seqAt(rec, k) - base
          i32[w + k * 2 + 1] = idx.refAt(rec, k)
        }
        entStart = 0
      }
      // The id table would pass 3/4 load (tombstones count): rehash into a fresh one.
      const oldTab = i32[rec + S_ID_REF]
      let tab = oldTab
      let tabCap = i32[rec + S_ID_CAP]
      let used = i32[rec + S_ID_USED]
      // `free` (from probeId) is the slot the id takes in the current table; a fresh table gets its own.
      let idSlot = id === null ? -1 : -1 - free
      if (id !== null && (tab === 0 || (used + 1) * 4 > tabCap * 3)) {
        tabCap = Math.max(8, 2 ** Math.ceil(Math.log2((count + 1) * 2)))
        tab = freshTab = this.allocOrFull(tabCap * 8, TAG_IDTAB, CHARGED)
        i32.fill(0, tab * 2 + 2, tab * 2 + 2 + tabCap * 2)
        used = 0
        // every live id is in the old table with its hash: move the pairs, no id is re-read
        if (oldTab !== 0) {
          const ow = oldTab * 2 + 2
          for (let i = 0, n = i32[rec + S_ID_CAP]; i < n; i++) {
            const r = i32[ow + i * 2 + 1]
            if (r !== ID_EMPTY && r !== ID_TOMB && ScopeIndex.idInsert(i32, tab, tabCap, i32[ow + i * 2], r)) used++
          }
        }
        idSlot = ScopeIndex.idFreeSlot(i32, tab, tabCap, h)
      }
      if (freshEnt !== 0 || freshTab !== 0) {
        stale = []
        if (freshEnt !== 0) {
          added += this.heap.sizeOf(freshEnt)
          if (oldEnt !== 0) stale.push(oldEnt)
        }
        if (freshTab !== 0) {
          added += this.heap.sizeOf(freshTab)
          if (oldTab !== 0) stale.push(oldTab)
        }
        added -= sumSizes(this.heap, stale)
        if (stale.length > 0) this.heap.retire(stale) // the last wait: after the publish nothing may fail
      }
      fault('insert:indexed')
      // The entry goes past the live window (invisible until S_COUNT moves); the id slot is a
      // word pair outside the record, so the undo record keeps its old value.
      this.undo(rec, UNDO_RESTORE)
      if (idSlot >= 0) {
        this.patch(0, idSlot)
        this.patch(1, idSlot + 1)
      }
      published = true // from here on the blocks belong to the scope, even if the window throws
      // the publish window, inline (see publish)
      this.openWindow(rec)
      try {
        fault('publish:open')
        const w = ent * 2 + 2
        i32[w + (entStart + count) * 2] = seq - base
        i32[w + (entStart + count) * 2 + 1] = item
        if (id !== null) {
          if (i32[idSlot + 1] === 0) used++
          i32[idSlot] = h
          i32[idSlot + 1] = item
          i32[rec + S_ID_REF] = tab
          i32[rec + S_ID_CAP] = tabCap
          i32[rec + S_ID_USED] = used
        }
        i32[rec + S_ENT_REF] = ent
        i32[rec + S_ENT_CAP] = entCap
        i32[rec + S_ENT_START] = entStart
        f64[r2 + S_ENT_BASE_F] = base
        i32[rec + S_COUNT] = count + 1
        f64[r2 + S_LAST_SEQ_F] = seq
        if (bumpScopeWrite) f64[r2 + S_LAST_WRITE_TS_F] = ts
        this.chargeScope(rec, added)
        Atomics.add(i32, H_ITEMS, 1)
      } catch (e) {
        this.tornWindow(rec)
        throw e
      } finally {
        this.closeWindow(rec)
      }
      fault('write:published')
      if (stale !== null && stale.length > 0) this.freeRetired(stale)
    } catch (e) {
      if (!published) {
        const refs: number[] = []
        if (freshEnt !== 0) refs.push(freshEnt)
        if (freshTab !== 0) refs.push(freshTab)
        refs.push(item)
        this.dropUnpublished(refs)
      }
      throw e
    }
    this.bumpLastWrite(ts)
    return { scope, id, seq, ts }
  }

  /**
   * Frees charged blocks a failed write allocated and never published (scope lock held), within
   * the call's deadline. They cannot be deferred: unreachable CHARGED blocks are garbage to the
   * reaper once the scope lock is gone. So what the allocator does not allow in time is left as
   * garbage: this thread stays marked busy (dirty), and any reap's sweep frees them.
   */
  private dropUnpublished(refs: number[]): void {
    if (this.heap.freeSome(refs) < refs.length) this.dirty = true
  }

  /** Replaces a live item's payload in place: same seq, new ts. */
  private replaceLocked(
    scope: string, rec: number, old: number, id: string | null, idWord: number, p: Prepared, size: number, bumpScopeWrite = true,
  ): ItemMeta {
    const { i32, f64 } = this
    const seq = this.idx.seqOf(old)
    const ts = nowMicros()
    const oldSize = this.heap.sizeOf(old)
    const spare = this.spare
    let item: number
    let swapped = false
    if (spare !== 0 && this.heap.sizeOf(spare) === oldSize && (oldSize === size || oldSize === size + 8)) {
      // No allocator round: the spare (a block of old's size) becomes the item, old the spare to be
      item = spare
      this.spare = 0
      this.heap.swapSpare(item, old, TAG_ITEM)
      swapped = true
    } else {
      // One allocator round: the new block, charged if the budget holds it net of the old one,
      // the old one retired (PENDING, ours), and the spare freed
      this.lockHeap()
      try {
        item = this.heap.allocReplacingLocked(size - 8, TAG_ITEM, old)
      } finally {
        this.heap.unlock()
      }
      if (item <= 0) throw storeFull(this.heap.chargedBytes(), this.heap.refusedBytes - (item === ALLOC_OVER_BUDGET ? oldSize : 0), this.cfg.maxStoreBytes)
    }
    let published = false
    try {
      this.fillItem(item, id, p, seq, ts)
      fault('insert:allocated')
      const pos = this.idx.findSeq(rec, seq)
      const entWord = this.idx.entW(rec) + (i32[rec + S_ENT_START] + pos) * 2 + 1
      this.undo(rec, UNDO_RESTORE)
      this.patch(0, entWord)
      if (idWord >= 0) this.patch(1, idWord)
      published = true
      this.openWindow(rec)
      try {
        fault('publish:open')
        i32[entWord] = item
        if (idWord >= 0) i32[idWord] = item
        if (bumpScopeWrite) f64[(rec >> 1) + S_LAST_WRITE_TS_F] = ts
        this.chargeScope(rec, this.heap.sizeOf(item) - oldSize)
      } catch (e) {
        this.tornWindow(rec)
        throw e
      } finally {
        this.closeWindow(rec)
      }
    } catch (e) {
      // not published (only a fault hook or a stack overflow throws here): take the swap back
      if (!published) {
        if (swapped) {
          this.heap.unswapSpare(item, old)
          this.spare = item
        } else this.unreplaceOrDirty(item, old)
      }
      throw e
    }
    fault('write:published')
    // old (retired above) becomes the spare: a later replace reuses it, a later allocation frees it
    this.spare = old
    if (!swapped) Atomics.add(this.i32, this.slotW + T_DEFERRED_B8, oldSize >> 3) // (swapped: same size out and in)
    this.bumpLastWrite(ts)
    return { scope, id, seq, ts }
  }

  /** Takes the allocator lock; frees this thread's spare block in the same hold. */
  private lockHeap(): void {
    this.heap.lock() // may time out: then nothing changed
    const spare = this.spare
    if (spare !== 0) {
      this.spare = 0
      Atomics.sub(this.i32, this.slotW + T_DEFERRED_B8, this.heap.sizeOf(spare) >> 3)
      this.heap.freeLocked(spare)
    }
  }

  /** Hands the spare block to the deferred frees (close() frees them, waiting up to a lease). */
  private releaseSpare(): void {
    if (this.spare === 0) return
    this.deferred.push(this.spare) // already counted in T_DEFERRED_B8
    this.spare = 0
  }

  /** Undoes allocReplacingLocked within the call's deadline; else this thread stays dirty (its exit gets swept). */
  private unreplaceOrDirty(item: number, old: number): void {
    try {
      this.heap.unreplace(item, old)
    } catch (e) {
      if (!(e instanceof ScopeCacheError)) throw e
      this.dirty = true
    }
  }

  /** Removes the live entry at `pos` (inside a publish window). */
  private removeAtLocked(rec: number, pos: number, item: number, shifted = false): void {
    const { i32 } = this
    const count = i32[rec + S_COUNT]
    const start = i32[rec + S_ENT_START]
    const w = this.idx.entW(rec)
    if (pos < count / 2) {
      // shift the older side right by one and advance the start
      if (!shifted) i32.copyWithin(w + (start + 1) * 2, w + start * 2, w + (start + pos) * 2)
      i32[rec + S_ENT_START] = start + 1
    } else if (!shifted) {
      i32.copyWithin(w + (start + pos) * 2, w + (start + pos + 1) * 2, w + (start + count) * 2)
    }
    i32[rec + S_COUNT] = count - 1
    if (this.idx.idLen(item) > 0) this.untableLocked(rec, item, this.hashId(this.readId(item) as string))
    this.chargeScope(rec, -this.heap.sizeOf(item))
    if (count - 1 === 0) i32[rec + S_ENT_START] = 0
  }

  /** Tombstones an item's id slot. */
  private untableLocked(rec: number, item: number, h: number): void {
    const { i32 } = this
    const tab = i32[rec + S_ID_REF]
    const cap = i32[rec + S_ID_CAP]
    const w = tab * 2 + 2
    for (let n = 0, i = h & (cap - 1); n < cap; n++, i = (i + 1) & (cap - 1)) {
      const r = i32[w + i * 2 + 1]
      if (r === 0) return
      if (r === item) {
        i32[w + i * 2 + 1] = ID_TOMB
        return
      }
    }
  }

  /** The live item with this id or seq in a locked scope, or -1. */
  private findLocked(rec: number, by: string | number): number {
    if (typeof by === 'string') {
      const at = this.idx.findId(rec, by, this.hashId(by))
      return at < 0 ? -1 : this.idx.idRefAt(rec, at)
    }
    const pos = this.idx.findSeq(rec, by)
    return pos < 0 ? -1 : this.idx.refAt(rec, pos)
  }

  private readId(item: number): string | null {
    const n = this.idx.idLen(item)
    if (n === 0) return null
    const a = this.idx.idStart(item)
    return this.buf.utf8Slice(a, a + n)
  }

  private readPayloadText(item: number): string {
    const a = this.idx.idStart(item) + this.idx.idLen(item)
    return this.buf.utf8Slice(a, a + this.idx.payloadLen(item))
  }

  /**
   * Records a write's ts in this thread's slot: a plain store to a word only this thread writes
   * (no shared CAS per write); stats() takes the max over every slot.
   */
  private bumpLastWrite(ts: number): void {
    if (ts > this.lastTs) {
      this.lastTs = ts
      this.f64[this.lastTsF] = ts
    }
  }

  /** The ts of the latest write by any thread: the max over every thread slot (and the old header word). */
  private lastWriteTs(): number {
    const { f64 } = this
    let max = Number(Atomics.load(this.v.i64, H_LAST_WRITE_TS_F))
    for (let s = 0; s < this.cfg.maxThreads; s++) {
      const t = f64[(this.threads.at(s) >> 1) + T_LAST_WRITE_TS_F]
      if (t > max) max = t
    }
    return max
  }

  /**
   * One probe of a locked scope's id table for `id` (hash `h`): the word index of its slot when
   * found (≥ 0), else -1 - (word index of the slot an insert would take: the first tombstone or
   * empty slot on the path; 0 when the scope has no table).
   */
  private probeId(rec: number, id: string, h: number): number {
    const { i32, idx } = this
    const tref = i32[rec + S_ID_REF]
    if (tref === 0) return -1
    const mask = i32[rec + S_ID_CAP] - 1
    const w = tref * 2 + 2
    let free = 0
    for (let n = 0, i = h & mask; n <= mask; n++, i = (i + 1) & mask) {
      const r = i32[w + i * 2 + 1]
      if (r === ID_EMPTY) return -1 - (free !== 0 ? free : w + i * 2)
      if (r === ID_TOMB) {
        if (free === 0) free = w + i * 2
      } else if (i32[w + i * 2] === h && utf8Equals(this.v.u8, idx.idStart(r), idx.idLen(r), id)) return w + i * 2
    }
    return -1 - free
  }

  // --------------------------------------------------------------------------- drops ----

  /**
   * Unpublishes whole scopes (directory lock held): all their S_VERs go odd before any goes
   * even again, inside one directory change, so no reader sees some of them gone and others not.
   * Their blocks are listed and adopted first (the scopes are locked, so nothing moves), and the
   * scope records and items are refunded inside the locks, so the counters always match the heap
   * whenever the directory lock is free.
   */
  private dropSlotsLocked(slots: number[], scopesLocked = false): Dropped {
    const { i32 } = this
    const out: Dropped = { scopes: slots.length, items: 0, blocks: [], slots }
    slots.sort((a, b) => a - b)
    // From here the scope locks are ours to release, on every path (a caller's too: scopesLocked).
    const locked: number[] = scopesLocked ? slots.slice() : []
    try {
      if (!scopesLocked) {
        for (const s of slots) {
          this.lockScope(this.dir.rec(s))
          locked.push(s)
        }
      }
      for (const s of slots) {
        const rec = this.dir.rec(s)
        out.items += i32[rec + S_COUNT]
        this.collectBlocks(rec, out.blocks, true)
      }
      // The refund is the drop's last wait (the allocator lock), so it comes before anything changes.
      const bytes = sumSizes(this.heap, out.blocks)
      this.heap.lock()
      try {
        this.heap.commitLocked(0, bytes, -SCOPE_RECORD_BYTES * slots.length)
      } finally {
        this.heap.unlock()
      }
    } catch (e) {
      for (const s of locked) release(i32, this.dir.rec(s) + S_LOCK, this.token)
      throw e
    }
    // Ours to free, and PENDING until freed: to the reaper an unreachable PENDING block of a live
    // thread is work in flight, any other unreachable block is garbage. (The tags follow the
    // counters moved above; the directory lock keeps the reaper from seeing them disagree.)
    for (const b of out.blocks) {
      this.heap.adopt(b)
      this.heap.markPending(b, true)
    }
    // Undo record: "the scopes I hold are being dropped" — a reaper finishes the drop.
    i32[this.slotW + T_UNDO_OP] = UNDO_DROP
    Atomics.store(i32, this.slotW + T_UNDO_REC, 1)
    ensureStack()
    this.dir.beginChange()
    let itemsDone = false
    try {
      for (const s of slots) Atomics.add(i32, this.dir.rec(s) + S_VER, 1)
      fault('drop:unpublishing')
      for (const s of slots) {
        const rec = this.dir.rec(s)
        this.dir.removeLocked(s)
        i32[rec + S_COUNT] = 0
        i32[rec + S_ENT_REF] = 0
        i32[rec + S_ID_REF] = 0
        Atomics.store(i32, rec + S_STATE, SCOPE_FREE)
        Atomics.add(i32, rec + S_GEN, 1)
      }
      Atomics.sub(i32, H_SCOPES, slots.length)
      if (out.items > 0) Atomics.sub(i32, H_ITEMS, out.items)
      itemsDone = true
      for (const s of slots) Atomics.add(i32, this.dir.rec(s) + S_VER, 1)
      this.dir.endChange()
      Atomics.store(i32, this.slotW + T_UNDO_REC, 0)
      for (const s of slots) this.dir.putSlotLocked(s)
    } catch (e) {
      // the undo record says "roll forward": the scopes go, as the reaper would make them go
      if (!itemsDone && out.items > 0) Atomics.sub(i32, H_ITEMS, out.items)
      this.abortDirChange(slots)
      this.freeRetired(out.blocks)
      throw e
    } finally {
      for (const s of slots) release(i32, this.dir.rec(s) + S_LOCK, this.token)
    }
    return out
  }

  /**
   * A throw inside a directory change — nothing there throws by design, but a stack overflow can
   * hit any call (ensureStack makes that unlikely) — must not leave it open: every window still odd
   * is repaired from this thread's undo record as the reaper would (a drop rolled forward, a
   * warm/rebuild put back), closed, and the directory rebuilt from the records. Directory lock and
   * the locks of `slots` held. H_SCOPES is recounted here; the caller fixes H_ITEMS.
   */
  private abortDirChange(slots: number[]): void {
    const { i32 } = this
    const x = this[INTERNALS]()
    const mine = tokenSlot(this.token)
    for (const s of slots) {
      const rec = this.dir.rec(s)
      if ((Atomics.load(i32, rec + S_VER) & 1) === 0) continue
      if (!repairTorn(x, rec, mine)) Atomics.add(i32, H_SCOPES_LOST, 1)
      Atomics.add(i32, rec + S_VER, 1)
    }
    Atomics.store(i32, H_SCOPES, this.dir.rebuildLocked())
    if ((Atomics.load(i32, H_DIR_VER) & 1) !== 0) this.dir.endChange()
    Atomics.store(i32, this.slotW + T_UNDO_REC, 0)
  }

  /** Frees what a drop unpublished (outside the directory lock; the blocks are ours). */
  private finishDrop(d: Dropped, counts = true): void {
    this.freeRetired(d.blocks)
    if (counts) this.bumpLastWrite(nowMicros())
  }

  // ---------------------------------------------------------------------- bulk writes ----

  private prepareBulk(items: readonly WarmItem[], op: 'warm' | 'rebuild'): BulkBatch {
    const { cfg, heap } = this
    return prepareBatch(items, op, {
      maxItemBytes: cfg.maxItemBytes, scopeMaxItems: cfg.scopeMaxItems, maxScopes: cfg.maxScopes, maxStoreBytes: cfg.maxStoreBytes,
      chargedBytes: () => heap.chargedBytes(),
    })
  }

  /**
   * Builds every group's blocks beside the live data (PENDING), then, holding the directory lock
   * and the lock of every scope involved, checks the budget against the final state and swaps
   * everything in within one directory change. `replaceAll` (rebuild) drops every other scope
   * too and makes every listed scope new; warm keeps existing scopes' records and seq counters.
   * Everything O(items) — seqs, tag words, old-block lists — happens before the change opens,
   * so readers of other scopes that must look a name up wait only for the pointer swaps.
   */
  private bulkCommit(batch: BulkBatch, replaceAll: boolean): void {
    const { i32, f64, heap } = this
    const { groups } = batch
    const pending: number[] = [] // names, entries, id tables; the items are in `built`
    const built: Built = { refs: new Int32Array(batch.order.length), n: 0 }
    let committed = false
    let undoRef = 0
    const old: number[] = []
    let spareNames: number[] = []
    try {
      let ts = nowMicros()
      try {
        for (const g of groups) this.buildGroup(batch, g, pending, built, replaceAll, ts)
      } catch (e) {
        // a duplicate id earlier in the batch than what stopped the build is the first problem
        if (e instanceof ScopeCacheError) throwFirstDuplicate(batch, batch.ids.length)
        throw e
      }
      fault('bulk:built')
      this.dir.lock()
      try {
        const names = groups.map((g) => g.scope)
        const existing = names.map((s) => (replaceAll ? -1 : this.dir.findLocked(s)))
        const touched = replaceAll ? this.dir.liveSlots() : existing.filter((s) => s >= 0).sort((a, b) => a - b)
        const created = existing.filter((s) => s < 0).length
        if ((replaceAll ? 0 : Atomics.load(i32, H_SCOPES)) + created > this.cfg.maxScopes) {
          throw new ScopeCacheError('store_full', `store is at capacity: ${this.cfg.maxScopes} scopes`)
        }
        const locked: number[] = []
        try {
          for (const s of touched) {
            this.lockScope(this.dir.rec(s))
            locked.push(s)
          }
          // heap bytes: warm keeps an existing scope's name block and drops the built one
          let newHeap = 0
          let oldHeap = 0
          spareNames = []
          groups.forEach((g, i) => {
            newHeap += g.bytes
            if (existing[i] >= 0) {
              newHeap -= g.nameSize
              spareNames.push(g.name)
            }
          })
          for (const s of touched) {
            const rec = this.dir.rec(s)
            oldHeap += i32[rec + S_BYTES_B8] * 8 - SCOPE_RECORD_BYTES - (replaceAll ? 0 : heap.sizeOf(i32[rec + S_NAME_REF]))
          }
          const records = (created - (replaceAll ? touched.length : 0)) * SCOPE_RECORD_BYTES
          // Every wait comes before the commit: after it, the swap must not fail. The undo record is
          // the touched records as they are (locked: they cannot change), so a reaper can put them back.
          undoRef = this.bulkUndo(touched)
          ensureStack()
          heap.lock()
          let ok: boolean
          const charged = heap.chargedBytes()
          try {
            ok = heap.commitLocked(newHeap, oldHeap, records)
          } finally {
            heap.unlock()
          }
          if (!ok) throw storeFull(replaceAll ? 0 : charged, newHeap - oldHeap + records, this.cfg.maxStoreBytes)
          committed = true
          // The counters moved in commitLocked; the tag words follow (the directory lock keeps the
          // reaper from seeing them disagree). Old blocks become ours to free, as PENDING; so do
          // the spare name blocks, which stay PENDING.
          const spare = new Set(spareNames)
          for (const b of pending) if (!spare.has(b)) heap.markPending(b, false)
          const { refs } = built
          for (let k = 0; k < built.n; k++) i32[refs[k] * 2 + B_TAG] &= ~TAG_PENDING
          for (const s of touched) this.collectBlocks(this.dir.rec(s), old, replaceAll)
          for (const b of old) {
            heap.adopt(b)
            heap.markPending(b, true)
          }
          // The items were numbered (and stamped) at build time after each scope's lastSeq as it was then;
          // a locked scope's lastSeq is stable: renumber a group whose scope moved on meanwhile, and
          // restamp everything if a scope was written after `ts` (its last write time must not go back).
          let late = false
          for (let i = 0; i < groups.length; i++) {
            if (existing[i] >= 0 && f64[(this.dir.rec(existing[i]) >> 1) + S_LAST_WRITE_TS_F] > ts) late = true
          }
          if (late) ts = Math.max(nowMicros(), ...existing.map((s) => (s >= 0 ? f64[(this.dir.rec(s) >> 1) + S_LAST_WRITE_TS_F] : 0)))
          groups.forEach((g, i) => {
            const lastSeq = existing[i] >= 0 ? f64[(this.dir.rec(existing[i]) >> 1) + S_LAST_SEQ_F] : 0
            if (late || lastSeq !== g.lastSeq) reseqGroup(i32, f64, g, lastSeq, ts)
          })
          i32[this.slotW + T_UNDO_OP] = UNDO_BULK
          i32[this.slotW + T_UNDO_A] = undoRef
          Atomics.store(i32, this.slotW + T_UNDO_REC, undoRef > 0 ? 1 : 0)
          try {
            this.swapLocked(names, groups, existing, touched, created, replaceAll, ts)
          } catch (e) {
            // rolled back (or scopes emptied): settle every block of either side against the records
            this.settleBlocks(pending.concat(Array.from(built.refs.subarray(0, built.n)), old), records)
            old.length = 0
            spareNames = []
            throw e
          }
          if (replaceAll) for (const s of touched) this.dir.putSlotLocked(s)
        } finally {
          for (const s of locked) release(i32, this.dir.rec(s) + S_LOCK, this.token)
        }
      } finally {
        this.dir.unlock()
      }
      this.bumpLastWrite(ts)
    } catch (e) {
      if (!committed) this.freeRetired(pending.concat(Array.from(built.refs.subarray(0, built.n)))) // PENDING and ours: deferred if the allocator is busy
      if (undoRef > 0) this.freeRetired([undoRef])
      throw e
    }
    if (undoRef > 0) old.push(undoRef)
    this.freeRetired(old.concat(spareNames))
  }

  /**
   * The swap of a warm/rebuild: one directory change with every touched scope's window odd.
   * A throw inside (a stack overflow: nothing else throws here) closes every window and the
   * change, rolling the swap back from the undo record (abortDirChange); the caller then settles
   * the blocks (settleBlocks).
   */
  private swapLocked(
    names: string[], groups: BulkGroup[], existing: number[], touched: number[], created: number,
    replaceAll: boolean, ts: number,
  ): void {
    const { i32, f64, heap } = this
    const fresh: number[] = []
    let itemDelta = 0
    let itemsDone = false
    this.dir.beginChange()
    try {
      for (const s of touched) Atomics.add(i32, this.dir.rec(s) + S_VER, 1)
      fault('bulk:swapping')
      if (replaceAll) {
        for (const s of touched) {
          const rec = this.dir.rec(s)
          itemDelta -= i32[rec + S_COUNT]
          i32[rec + S_COUNT] = 0
          Atomics.store(i32, rec + S_STATE, SCOPE_FREE)
          Atomics.add(i32, rec + S_GEN, 1)
        }
        this.dir.clearLocked()
      }
      names.forEach((scope, i) => {
        const g = groups[i]
        itemDelta += g.count
        if (existing[i] >= 0) {
          const rec = this.dir.rec(existing[i])
          itemDelta -= i32[rec + S_COUNT]
          this.installGroup(rec, g, ts, f64[(rec >> 1) + S_LAST_SEQ_F])
          i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + heap.sizeOf(i32[rec + S_NAME_REF]) + g.bytes - g.nameSize) >> 3
        } else {
          const slot = this.dir.takeSlotLocked()
          const rec = this.dir.rec(slot)
          // odd until installed: a death in between leaves it visibly torn for the reaper
          Atomics.add(i32, rec + S_VER, 1)
          fresh.push(slot)
          this.initRecord(rec, g.name, utf8Length(scope), g.nameSize, ts)
          this.installGroup(rec, g, ts, 0)
          i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + g.bytes) >> 3
          this.dir.insertLocked(slot, this.dir.hash(scope))
        }
      })
      Atomics.add(i32, H_SCOPES, created - (replaceAll ? touched.length : 0))
      Atomics.add(i32, H_ITEMS, itemDelta)
      itemsDone = true
      for (const s of touched) Atomics.add(i32, this.dir.rec(s) + S_VER, 1)
      for (const s of fresh) Atomics.add(i32, this.dir.rec(s) + S_VER, 1)
      this.dir.endChange()
      Atomics.store(i32, this.slotW + T_UNDO_REC, 0)
    } catch (e) {
      if (itemsDone) Atomics.sub(i32, H_ITEMS, itemDelta)
      this.abortDirChange(touched.concat(fresh))
      throw e
    }
  }

  /**
   * After a swap was rolled back: of `blocks` (both sides, all ours), those the scopes reach
   * again are charged, the rest are freed, and the swap's record charge is refunded — the
   * accounting as it was before the commit. If the allocator stays busy, the sweep of a reap does it.
   */
  private settleBlocks(blocks: number[], records: number): void {
    const { heap } = this
    const reached: number[] = []
    // every live scope, not only the touched ones: a scope the swap was creating may have been
    // emptied rather than dropped (no undo block). Other scopes cannot reach our blocks.
    for (const s of this.dir.liveSlots()) this.collectBlocks(this.dir.rec(s), reached, true)
    const live = new Set(reached)
    const revived = blocks.filter((b) => live.has(b))
    const dead = blocks.filter((b) => !live.has(b))
    try {
      heap.lock()
    } catch (e) {
      this.dirty = true
      throw e
    }
    try {
      for (const b of dead) heap.freeLocked(b)
      let bytes = 0
      for (const b of revived) {
        if ((this.i32[b * 2 + B_TAG] & TAG_PENDING) === 0) continue
        bytes += heap.sizeOf(b)
        heap.markPending(b, false)
      }
      heap.commitLocked(bytes, 0, -records)
    } finally {
      heap.unlock()
    }
  }

  /**
   * Copies the records a bulk swap will change into a PENDING block of this thread's:
   * [count, (record word index, its 32 words) × count]. 0 when the heap has no room (the swap then
   * goes on without an undo record: a death inside it empties those scopes instead).
   */
  private bulkUndo(slots: number[]): number {
    const { i32 } = this
    const ref = this.heap.alloc((1 + slots.length * (1 + SCOPE_WORDS)) * 4, TAG_UNDO, PENDING)
    if (ref <= 0) return 0
    let w = ref * 2 + 2
    i32[w++] = slots.length
    for (const s of slots) {
      const rec = this.dir.rec(s)
      i32[w++] = rec
      i32.copyWithin(w, rec, rec + SCOPE_WORDS)
      w += SCOPE_WORDS
    }
    return ref
  }

  /**
   * Allocates a group's name, entries, items and id table as PENDING blocks; the items are carved
   * from large blocks and numbered after the scope's lastSeq as read now (checked under its lock).
   */
  private buildGroup(batch: BulkBatch, g: BulkGroup, pending: number[], built: Built, replaceAll: boolean, ts: number): void {
    const { i32, f64, heap } = this
    const nameBytes = utf8Length(g.scope)
    g.name = this.allocOrFull(nameBytes, TAG_NAME, PENDING)
    pending.push(g.name)
    this.v.buf.write(g.scope, g.name * 8 + 8, nameBytes, 'utf8')
    g.nameSize = heap.sizeOf(g.name)
    const n = g.count
    g.entCap = Math.max(4, 2 ** Math.ceil(Math.log2(Math.max(1, n))))
    g.ent = this.allocOrFull(g.entCap * 8, TAG_ENTRIES, PENDING)
    pending.push(g.ent)
    if (!replaceAll) {
      const slot = this.dir.resolve(g.scope)
      g.lastSeq = slot >= 0 ? f64[(this.dir.rec(slot) >> 1) + S_LAST_SEQ_F] : 0 // a guess: no lock held
      if (!Number.isSafeInteger(g.lastSeq) || g.lastSeq < 0) g.lastSeq = 0
    }
    const itemBlocks = carveGroup({ i32, f64, u8: this.v.u8, buf: this.v.buf, heap }, batch, g, ts, built)
    if (itemBlocks < 0) throw storeFull(heap.chargedBytes(), heap.refusedBytes, this.cfg.maxStoreBytes)
    if (g.idCount > 0) {
      g.tabCap = Math.max(8, 2 ** Math.ceil(Math.log2(g.idCount * 2)))
      g.tab = this.allocOrFull(g.tabCap * 8, TAG_IDTAB, PENDING)
      pending.push(g.tab)
      i32.fill(0, g.tab * 2 + 2, g.tab * 2 + 2 + g.tabCap * 2)
      if (!tableGroup(i32, this.v.u8, batch, g, (id) => this.hashId(id))) {
        throwFirstDuplicate(batch, batch.ids.length)
        throw new Error('scopecache: duplicate id not found again (internal bug)')
      }
    }
    g.bytes = g.nameSize + heap.sizeOf(g.ent) + (g.tab !== 0 ? heap.sizeOf(g.tab) : 0) + itemBlocks
  }

  /** Points a scope record at a built group (inside its publish window). */
  private installGroup(rec: number, g: BulkGroup, ts: number, lastSeq: number): void {
    const { i32, f64 } = this
    const r2 = rec >> 1
    const n = g.count
    i32[rec + S_ENT_REF] = g.ent
    i32[rec + S_ENT_CAP] = g.entCap
    i32[rec + S_ENT_START] = 0
    f64[r2 + S_ENT_BASE_F] = lastSeq + 1
    i32[rec + S_ID_REF] = g.tab
    i32[rec + S_ID_CAP] = g.tabCap
    i32[rec + S_ID_USED] = g.idCount
    i32[rec + S_COUNT] = n
    f64[r2 + S_LAST_SEQ_F] = lastSeq + n
    f64[r2 + S_LAST_WRITE_TS_F] = ts
  }

  /** Lists a scope's blocks (items, arrays, and with `name` its name block). */
  private collectBlocks(rec: number, out: number[], name: boolean): void {
    const { i32 } = this
    const count = i32[rec + S_COUNT]
    for (let k = 0; k < count; k++) out.push(this.idx.refAt(rec, k))
    if (i32[rec + S_ENT_REF] !== 0) out.push(i32[rec + S_ENT_REF])
    if (i32[rec + S_ID_REF] !== 0) out.push(i32[rec + S_ID_REF])
    if (name) out.push(i32[rec + S_NAME_REF])
  }
}

interface Dropped {
  scopes: number
  items: number
  blocks: number[]
  slots: number[]
}

/**
 * Recurses `depth` frames and back: a RangeError (stack overflow) then happens here, before a
 * directory change opens, rather than inside it or inside its repair.
 */
function ensureStack(depth = 1024): number {
  return depth === 0 ? 0 : ensureStack(depth - 1) + 1
}

function sumSizes(heap: Heap, refs: number[]): number {
  let s = 0
  for (const r of refs) s += heap.sizeOf(r)
  return s
}

function checkScope(scope: unknown): asserts scope is string {
  if (typeof scope !== 'string' || scope === '') throw invalid("the 'scope' field is required")
  checkKey(scope, 'scope')
}

function checkKey(s: string, field: 'scope' | 'id' | 'prefix'): void {
  const problem = keyProblem(s, field)
  if (problem !== null) throw invalid(problem)
}

function optionalId(id: unknown): string | null {
  if (id === undefined || id === null || id === '') return null
  if (typeof id !== 'string') throw invalid("the 'id' field must be a string")
  checkKey(id, 'id')
  return id
}

/** The address of a read or write: an id string or a seq number. Malformed calls throw. */
function checkRef(ref: ItemRef | GetTarget): string | number {
  if (ref === null || typeof ref !== 'object') throw invalid("exactly one of 'id' or 'seq' must be provided")
  const id = ref.id === '' ? undefined : ref.id
  const seq = ref.seq
  if ((id === undefined) === (seq === undefined)) throw invalid("exactly one of 'id' or 'seq' must be provided")
  if (id !== undefined) {
    if (typeof id !== 'string') throw invalid("the 'id' field must be a string")
    return id
  }
  if (!Number.isSafeInteger(seq) || (seq as number) <= 0) throw invalid("the 'seq' parameter must be a positive integer")
  return seq as number
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  if (!Number.isSafeInteger(limit) || limit <= 0) throw invalid("the 'limit' parameter must be a positive integer")
  return Math.min(limit, MAX_LIMIT)
}

