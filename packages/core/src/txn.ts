/**
 * This thread's write transaction state and the steps every write is built from: the busy flag
 * and the call's deadline (enter/leave), the scope lock, the undo record and the odd-S_VER
 * publish window (and their repair when a window throws), frees that must not fail (deferred
 * frees, the spare block), and this thread's last-write time.
 *
 * Writes prepare outside any lock, then under the scope's lock allocate and fill new blocks that
 * no reader can reach yet, and publish them inside a short odd-S_VER window of index updates;
 * blocks the publish made unreachable are freed after it.
 */
import type { Mode } from './alloc.js'
import { ScopeCacheError, storeFull } from './errors.js'
import { fault } from './fault.js'
import { freeSome } from './heap-frees.js'
import { bumpFence } from './fences.js'
import {
  H_DIR_VER, H_SCOPES, H_SCOPES_LOST, S_LOCK, S_VER, SCOPE_WORDS, T_DEFERRED_B8, T_LAST_WRITE_TS_F, T_UNDO_A,
  T_UNDO_B, T_UNDO_OP, T_UNDO_PATCH, T_UNDO_REC, T_UNDO_SNAP, H_LAST_WRITE_TS_F,
} from './layout.js'
import { acquire, LAZY } from './lock.js'
import { repairTorn } from './reaper.js'
import type { Store } from './store.js'
import { tokenSlot } from './threads.js'

export class Txn {
  /** Set by writeScope for the write in progress: whether it created its scope (fences.ts). */
  created = false
  readonly s: Store
  /** Nesting depth of write operations; T_BUSY is 1 while it is above 0. */
  private depth = 0
  /** Set when a write failed in a way the core could not clean up after (see noteFailure). */
  dirty = false
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
  spare = 0
  /** f64 index of this thread slot's last-write ts, and the value this thread last stored there. */
  private readonly lastTsF: number
  private lastTs: number

  constructor(s: Store) {
    this.s = s
    this.lastTsF = (s.slotW >> 1) + T_LAST_WRITE_TS_F
    this.lastTs = s.f64[this.lastTsF] // a previous holder's latest write: never store below it
  }

  /**
   * Runs a write with this thread's T_BUSY flag up: while it is up the thread may own blocks no
   * index reaches yet (or any more), so if it dies the reaper must sweep for them.
   */
  busy<T>(fn: () => T): T {
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
  enter(lazy = false): void {
    if (this.depth++ !== 0) return
    // A plain store, like every store of a write: the reaper reads the flag only once this thread
    // is dead (its exit seen through the event loop or the lock manager, both synchronising), and
    // the locks this write takes next are seq-cst RMWs that keep it from moving later.
    this.s.i32[this.s.busyW] = 1
    if (this.deferred.length > 0) this.freeDeferredNow()
    this.s.budget.deadline = lazy ? LAZY : Date.now() + this.s.cfg.lockLeaseMs
  }

  leave(): void {
    if (--this.depth !== 0) return
    this.s.budget.deadline = 0
    // deferred blocks are unreachable blocks of ours: the flag stays up so a death gets them swept
    if (!this.dirty && this.deferred.length === 0 && this.spare === 0 && this.s.heap.readyBytesHeld === 0) this.s.i32[this.s.busyW] = 0
  }

  /**
   * The core cleans up after its own rejections (invalid input, full, conflict, lock timeouts:
   * retired blocks it cannot free in time are deferred), but an exception from anywhere else (a
   * stack overflow at the call site) — or charged blocks a failed write could not free in time
   * (dropUnpublished) — may have left blocks this thread owns unreachable. Then the thread stays
   * marked busy for good, so that when it exits the reaper sweeps up after it.
   */
  noteFailure(e: unknown): void {
    if (!(e instanceof ScopeCacheError)) this.dirty = true
  }

  /** At close(): hands the spare to the deferred frees and frees them, waiting up to a lease. */
  settle(): void {
    this.releaseSpare()
    const { heap } = this.s
    if (this.deferred.length > 0 || heap.readyBytesHeld > 0) {
      this.s.budget.deadline = Date.now() + this.s.cfg.lockLeaseMs
      try {
        this.freeDeferred()
        heap.releaseReady()
      } catch (e) {
        if (!(e instanceof ScopeCacheError)) throw e
      } finally {
        this.s.budget.deadline = 0
      }
      if (this.deferred.length > 0 || heap.readyBytesHeld > 0) this.dirty = true
    }
  }

  lockScope(rec: number): void {
    const { s } = this
    acquire(s.i32, rec + S_LOCK, s.token, s.cfg.lockLeaseMs, s.threads, s.budget)
  }

  /** Allocates a heap block or throws store_full. */
  allocOrFull(n: number, tag: number, mode: Mode): number {
    const { heap } = this.s
    const ref = heap.alloc(n, tag, mode)
    if (ref > 0) return ref
    throw storeFull(heap.chargedBytes(), heap.refusedBytes, this.s.cfg.maxStoreBytes)
  }

  // -------------------------------------------------------------------------- frees ----

  /**
   * Frees blocks this thread retired (PENDING and adopted: replaced, trimmed, dropped, or built
   * for a write that failed). A published write must not report failure, so what the allocator
   * lock does not allow within the call's deadline is deferred, not thrown.
   */
  freeRetired(refs: ArrayLike<number>, runs = false): void {
    const { heap } = this.s
    const n = freeSome(heap, refs, runs)
    if (n === refs.length) return
    let b8 = 0
    for (let k = n; k < refs.length; k++) {
      this.deferred.push(refs[k])
      b8 += heap.sizeOf(refs[k]) >> 3
    }
    Atomics.add(this.s.i32, this.s.slotW + T_DEFERRED_B8, b8) // lets the invariant checker account for them
  }

  /** Frees deferred blocks, waiting until the budget's deadline at most. */
  private freeDeferred(): void {
    const { heap } = this.s
    const refs = this.deferred
    const sizes = refs.map((r) => heap.sizeOf(r) >> 3)
    const n = freeSome(heap, refs)
    if (n === 0) return
    this.deferred = refs.slice(n)
    let b8 = 0
    for (let k = 0; k < n; k++) b8 += sizes[k]
    Atomics.sub(this.s.i32, this.s.slotW + T_DEFERRED_B8, b8)
  }

  /** A try at freeing deferred blocks that does not wait (it must not eat the next call's lease). */
  private freeDeferredNow(): void {
    this.s.budget.deadline = Date.now()
    try {
      this.freeDeferred()
    } finally {
      this.s.budget.deadline = 0
    }
  }

  /**
   * Frees charged blocks a failed write allocated and never published (scope lock held), within
   * the call's deadline. They cannot be deferred: unreachable CHARGED blocks are garbage to the
   * reaper once the scope lock is gone. So what the allocator does not allow in time is left as
   * garbage: this thread stays marked busy (dirty), and any reap's sweep frees them.
   */
  dropUnpublished(refs: number[]): void {
    if (freeSome(this.s.heap, refs) < refs.length) this.dirty = true
  }

  /** Takes the allocator lock; frees this thread's spare block in the same hold. */
  lockHeap(): void {
    const { heap } = this.s
    heap.lock() // may time out: then nothing changed
    const spare = this.spare
    if (spare !== 0) {
      this.spare = 0
      Atomics.sub(this.s.i32, this.s.slotW + T_DEFERRED_B8, heap.sizeOf(spare) >> 3)
      heap.freeLocked(spare)
    }
  }

  /** Hands the spare block to the deferred frees (close() frees them, waiting up to a lease). */
  private releaseSpare(): void {
    if (this.spare === 0) return
    this.deferred.push(this.spare) // already counted in T_DEFERRED_B8
    this.spare = 0
  }

  /** Undoes allocReplacingLocked within the call's deadline; else this thread stays dirty (its exit gets swept). */
  unreplaceOrDirty(item: number, old: number): void {
    try {
      this.s.heap.unreplace(item, old)
    } catch (e) {
      if (!(e instanceof ScopeCacheError)) throw e
      this.dirty = true
    }
  }

  // ---------------------------------------------------------------- publish windows ----

  /**
   * Publishes `fn`'s index updates inside an odd-S_VER window. A block the update makes
   * unreachable is freed under the same scope lock, or marked PENDING and adopted first
   * (replace, drop, bulk), so the reaper can tell garbage from work in flight (reaper.ts).
   */
  publish(rec: number, fn: () => void, fence = true): void {
    this.openWindow(rec, fence)
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
  openWindow(rec: number, fence = true): void {
    // The undo record (see undo()) is now valid. Plain stores, like the snapshot itself: the
    // S_VER increment below is a seq-cst RMW after them, so a reaper that finds S_VER odd (an
    // atomic load) sees the record; while S_VER is even nobody reads it.
    this.s.i32[this.s.slotW + T_UNDO_REC] = rec + 1
    Atomics.add(this.s.i32, rec + S_VER, 1)
    // inside the window: an undo puts the old fence back with the record. Not for reclaiming
    // expired items (expiry.ts): they were invisible already, nothing a reader knew changed.
    if (fence) bumpFence(this.s.f64, rec)
  }

  closeWindow(rec: number): void {
    Atomics.add(this.s.i32, rec + S_VER, 1)
    this.s.i32[this.s.slotW + T_UNDO_REC] = 0
  }

  /**
   * Nothing in a window throws by design; if something did (a stack overflow), the indexes may be
   * half-updated: repair the scope from the undo record, as the reaper would.
   */
  tornWindow(rec: number): void {
    if (!repairTorn(this.s, rec, tokenSlot(this.s.token))) Atomics.add(this.s.i32, H_SCOPES_LOST, 1)
    this.dirty = true
  }

  /**
   * A throw inside a directory change — nothing there throws by design, but a stack overflow can
   * hit any call (ensureStack makes that unlikely) — must not leave it open: every window still odd
   * is repaired from this thread's undo record as the reaper would (a drop rolled forward, a
   * warm/rebuild put back), closed, and the directory rebuilt from the records. Directory lock and
   * the locks of `slots` held. H_SCOPES is recounted here; the caller fixes H_ITEMS.
   */
  abortDirChange(slots: number[]): void {
    const { s } = this
    const { i32, dir } = s
    const mine = tokenSlot(s.token)
    for (const slot of slots) {
      const rec = dir.rec(slot)
      if ((Atomics.load(i32, rec + S_VER) & 1) === 0) continue
      if (!repairTorn(s, rec, mine)) Atomics.add(i32, H_SCOPES_LOST, 1)
      Atomics.add(i32, rec + S_VER, 1)
    }
    Atomics.store(i32, H_SCOPES, dir.rebuildLocked())
    if ((Atomics.load(i32, H_DIR_VER) & 1) !== 0) dir.endChange()
    Atomics.store(i32, s.slotW + T_UNDO_REC, 0)
  }

  /**
   * Writes this thread's undo record for the next publish window on `rec`: a snapshot of the
   * scope record and what to do with it if the thread dies inside the window — put it back
   * (UNDO_RESTORE, plus up to two patched words outside the record, see patch()) or roll the
   * operation forward from it (UNDO_TRIM, UNDO_DELETE). publish() makes it valid.
   */
  undo(rec: number, op: number, a = 0, b = 0): void {
    const { i32 } = this.s
    const w = this.s.slotW
    i32.copyWithin(w + T_UNDO_SNAP, rec, rec + SCOPE_WORDS)
    i32[w + T_UNDO_OP] = op
    i32[w + T_UNDO_A] = a
    i32[w + T_UNDO_B] = b
    i32[w + T_UNDO_PATCH] = -1
    i32[w + T_UNDO_PATCH + 2] = -1
  }

  /** Saves word `index` (outside the scope record) into undo patch `k` before the window writes it. */
  patch(k: 0 | 1, index: number): void {
    const { i32 } = this.s
    const w = this.s.slotW + T_UNDO_PATCH + k * 2
    i32[w] = index
    i32[w + 1] = i32[index]
  }

  // ----------------------------------------------------------------- last-write time ----

  /**
   * Records a write's ts in this thread's slot: a plain store to a word only this thread writes
   * (no shared CAS per write); stats() takes the max over every slot.
   */
  bumpLastWrite(ts: number): void {
    if (ts > this.lastTs) {
      this.lastTs = ts
      this.s.f64[this.lastTsF] = ts
    }
  }

  /** The ts of the latest write by any thread: the max over every thread slot (and the old header word). */
  lastWriteTs(): number {
    const { f64, threads, cfg } = this.s
    let max = Number(Atomics.load(this.s.v.i64, H_LAST_WRITE_TS_F))
    for (let t = 0; t < cfg.maxThreads; t++) {
      const ts = f64[(threads.at(t) >> 1) + T_LAST_WRITE_TS_F]
      if (ts > max) max = ts
    }
    return max
  }
}

/**
 * Recurses `depth` frames and back: a RangeError (stack overflow) then happens here, before a
 * directory change opens, rather than inside it or inside its repair.
 */
export function ensureStack(depth = 1024): number {
  return depth === 0 ? 0 : ensureStack(depth - 1) + 1
}
