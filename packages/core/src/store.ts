/**
 * One thread's view of a store: the shared memory's views, the config, this thread's token and
 * slot words, and the shared structures over them (allocator, directory, per-scope indexes, id tables).
 * Every other part of the core works on this object; it holds no per-call state. It is also what
 * `[INTERNALS]()` hands the invariant checker, the layout tools and the reaper.
 */
import { threadId as currentThreadId } from 'node:worker_threads'
import { Heap } from './alloc.js'
import { nowMicros } from './clock.js'
import { Directory } from './directory.js'
import { IdTable } from './id-table.js'
import { hashKey } from './keys.js'
import { H_PROCESS_SHARED, T_BUSY, T_FENCE, T_ITEMS_F, T_READY_B8 } from './layout.js'
import { Budget, useFutex } from './lock.js'
import type { Config, Views } from './memory.js'
import type { SliceBuffer } from './read-base.js'
import { ScopeIndex } from './scope-index.js'
import { loadShm, processStart, type ShmBinding } from './shm-binding.js'
import { ThreadSlots, tokenSlot } from './threads.js'

/** Ids hash with the store's seed mixed with this, so an id and a scope name of the same text differ. */
export const ID_SEED = 0x5bd1e995

/** Reaches a store's memory for the invariant checker and layout tools (internals.ts), not the public API. */
export const INTERNALS = Symbol('scopecache.internals')

export class Store {
  readonly v: Views
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly buf: SliceBuffer
  readonly cfg: Config
  readonly threads: ThreadSlots
  /** @scopecache/shm when the store is shared by processes, else null. */
  readonly shm: ShmBinding | null
  readonly token: number
  /** This thread's slot (its undo record lives there). */
  readonly slotW: number
  /** This thread's T_BUSY word. */
  readonly busyW: number
  /** The deadline of the public call in progress: all its lock waits together take one lease. */
  readonly budget: Budget
  readonly heap: Heap
  readonly dir: Directory
  readonly idx: ScopeIndex
  readonly ids: IdTable
  private readonly idSeed: number
  /**
   * This handle's clock (µs since the epoch): item ts, expiries and the expiry checks of reads.
   * Tests replace it through `[INTERNALS]()` to move time by exact milliseconds.
   */
  now: () => number = nowMicros

  /** Claims a thread slot in the store behind `v` (throws when none is free). */
  constructor(v: Views, cfg: Config) {
    this.v = v
    this.cfg = cfg
    this.i32 = v.i32
    this.f64 = v.f64
    this.buf = v.buf as SliceBuffer
    this.idSeed = cfg.seed ^ ID_SEED
    // A store in /dev/shm (shm-open.ts): every thread of every process waits on the futex and
    // records its process in its slot, so survivors can prove a dead process dead.
    this.shm = Atomics.load(v.i32, H_PROCESS_SHARED) === 1 ? loadShm() : null
    if (this.shm !== null) useFutex(v.sab, this.shm)
    this.threads = new ThreadSlots(v.i32, cfg.threadsW, cfg.maxThreads, this.shm === null ? 0 : processStart(this.shm))
    this.token = this.threads.claim(currentThreadId)
    this.slotW = this.threads.at(tokenSlot(this.token))
    this.busyW = this.slotW + T_BUSY
    this.budget = new Budget(cfg.lockLeaseMs)
    // A store that evicts keeps no ready blocks (alloc.ts): budget they held would evict scopes for nothing.
    this.heap = new Heap(v.i32, cfg.maxStoreBytes, this.threads, this.token, cfg.lockLeaseMs, this.budget, cfg.evict ? -1 : this.slotW + T_READY_B8)
    this.dir = new Directory(v, cfg, this.threads, this.token, this.slotW + T_FENCE, this.budget)
    this.idx = new ScopeIndex(v.i32, v.f64, v.u8, cfg.heapB8, cfg.heapEndB8)
    this.ids = new IdTable(v.i32, v.u8, this.buf, this.idx, this.idSeed)
  }

  /**
   * Bytes the store's scopes and items hold: the charged bytes less every thread's ready blocks
   * (alloc.ts), which count against the budget but hold nothing yet. What stats() and flush report.
   */
  usedBytes(): number {
    return this.heap.chargedBytes() - this.threads.readyBytes()
  }

  /** Counts `n` items added (or removed, n < 0) by this thread, in its slot's T_ITEMS_F. */
  addItems(n: number): void {
    this.f64[(this.slotW >> 1) + T_ITEMS_F] += n
  }

  hashId(id: string): number {
    return hashKey(id, this.idSeed)
  }
}

/** What `[INTERNALS]()` returns. */
export type Internals = Store
