/**
 * The reaper: recovers what a dead thread held, in the thread that watched it (`watch`).
 *
 * Why it can be simple: every write keeps four rules, so the heap itself tells what is garbage.
 *   1. Index changes happen inside one odd-S_VER window per scope (or one directory change);
 *      a scope whose window is still open when its writer died is *torn*. Before opening it, the
 *      writer fills the undo record in its thread slot: a snapshot of the scope record plus the
 *      words outside it the window will change (or, for trim/delete/drop, what to roll forward;
 *      for a warm/rebuild, a PENDING block holding every touched record).
 *   2. The counters (items, scopes, charged and pending bytes, per-scope bytes) are updated
 *      under the locks whose state they describe, so with every lock held they can be recomputed.
 *   3. A block a write makes unreachable is freed before the scope lock is released — unless the
 *      write marks it PENDING and adopts it (its tag word names the thread that will free it):
 *      replaced items, dropped scopes, the old side of a warm/rebuild.
 *   4. So with every lock held, the only unreachable blocks that are not garbage are PENDING
 *      blocks of a *live* thread: a warm/rebuild being built, or blocks it is about to free.
 *
 * Protocol (idempotent; a reaper that dies leaves its own slot to the next one):
 *   a. DEAD → REAPING. If the thread was not inside a write (T_BUSY = 0) and holds no lock, there
 *      is nothing to do: the slot goes FREE.
 *   b. If the allocator lock is held by a dead token: take it, rebuild the free lists from the
 *      block chain, release it — so live writers waiting for it go on at once.
 *   c. Take the directory lock (from a dead token, or by waiting), then every scope lock in slot
 *      order (same), then the allocator lock: the store is now quiescent for writers; readers go on.
 *   d. Torn scopes are repaired from the dead writer's undo record: put back (append, upsert,
 *      update, counter, warm/rebuild, an append that drops a drop-oldest scope's oldest item) or
 *      rolled forward (trim, delete, drop, an eviction). Only without a usable
 *      record (a bulk swap that found no heap room for its undo block) is a scope emptied, keeping
 *      its seq counter, and reported lost. A dead-held directory is rebuilt from the scope records.
 *   e. Mark every block reachable from a live scope (and clear its PENDING bit); free every other
 *      used block unless a live thread owns it as PENDING; recompute every counter from the heap.
 *   f. Release everything; REAPING → FREE.
 * Waits in (c) are bounded by the lease; if one runs out, the reap is undone (slot back to DEAD,
 * nothing changed but what was already consistent) and retried later.
 */
import { countUsed, rebuildFreeLists } from './heap-walk.js'
import { bumpFence } from './fences.js'
import { recoverLeaseLock } from './leases.js'
import { acquire, release, steal } from './lock.js'
import {
  B_TAG, F_FREE, S_EXPIRY_WORDS, S_FENCE_F, H_ALLOC_LOCK, H_CHARGED_B8, H_DIR_LOCK, H_DIR_VER, H_ITEMS, H_PENDING_B8, H_REAPS, H_SCOPE_HWM,
  H_SCOPES, H_SCOPES_LOST, MIN_BLOCK_BYTES, S_BYTES_B8, S_COUNT, S_ENT_REF, S_FIRST_SEQ_F, S_GEN, S_ID_REF,
  S_ID_USED, S_LAST_ACCESS_TS_F, S_LAST_SEQ_F, S_LAST_WRITE_TS_F, S_LOCK, S_NAME_REF, S_STATE, S_VER, SCOPE_FREE, SCOPE_LIVE,
  SCOPE_RECORD_BYTES, SCOPE_WORDS, SIZE_MASK, T_UNDO_A, T_UNDO_B, T_UNDO_OP, T_UNDO_PATCH, T_UNDO_REC, T_UNDO_SNAP,
  TAG_PENDING, TAG_READY, tagOwner, tagType, UNDO_BULK, UNDO_DELETE, UNDO_DROP, UNDO_TRIM,
} from './layout.js'
import { deleteForward, trimForward } from './scope-edit.js'
import { ScopeIndex } from './scope-index.js'
import type { Internals } from './store.js'
import { tokenSlot, type ProcessId } from './threads.js'
import type { ReapReport } from './types.js'

/** Reaps thread `threadId` of process `proc` (by default this process: a worker of ours that exited). */
export function reapThread(x: Internals, threadId: number, proc: ProcessId = x.threads.self): ReapReport | null {
  const { threads } = x
  threads.markDead(threadId, proc)
  const mine: number[] = []
  for (let s = 0; s < threads.count; s++) {
    if (threads.threadIdOf(threads.tokenOf(s)) === threadId && threads.inProcess(s, proc) && threads.beginReap(s, x.token)) mine.push(s)
  }
  for (const s of threads.orphans()) if (!mine.includes(s) && threads.beginReap(s, x.token)) mine.push(s)
  if (mine.length === 0) return null
  const i32 = x.v.i32
  try {
    const dead = (token: number): boolean => token !== 0 && !threads.isAlive(token)
    recoverLeaseLock(i32, x.cfg.leasesW, x.cfg.leaseCap, dead, x.token)
    let report: ReapReport | null = null
    if (mine.some((s) => threads.isBusy(s)) || holdsAnyLock(x, dead)) report = sweep(x, threadId, dead)
    for (const s of mine) threads.endReap(s)
    Atomics.add(i32, H_REAPS, mine.length)
    return report
  } catch (e) {
    for (const s of mine) threads.abortReap(s)
    throw e
  }
}

function holdsAnyLock(x: Internals, dead: (t: number) => boolean): boolean {
  const i32 = x.v.i32
  if (dead(Atomics.load(i32, H_ALLOC_LOCK)) || dead(Atomics.load(i32, H_DIR_LOCK))) return true
  const hwm = Atomics.load(i32, H_SCOPE_HWM)
  for (let s = 0; s < hwm; s++) if (dead(Atomics.load(i32, x.dir.rec(s) + S_LOCK))) return true
  return false
}

/** Takes a lock: over from a dead holder (returns its token), or by waiting for a live one (0). */
function take(x: Internals, lock: number, dead: (t: number) => boolean): number {
  const i32 = x.v.i32
  for (;;) {
    const holder = Atomics.load(i32, lock)
    if (dead(holder)) {
      if (steal(i32, lock, holder, x.token)) return holder
      continue
    }
    acquire(i32, lock, x.token, x.cfg.lockLeaseMs, x.threads, x.budget.get())
    return 0
  }
}

function sweep(x: Internals, threadId: number, dead: (t: number) => boolean): ReapReport {
  const { cfg, dir, heap, threads, token } = x
  const i32 = x.v.i32
  const report: ReapReport = { threadId, locks: 0, scopesLost: [], blocksFreed: 0, bytesFreed: 0 }

  // (b) free the allocator first: live writers may be waiting for it while holding scope locks
  const a = Atomics.load(i32, H_ALLOC_LOCK)
  if (dead(a) && steal(i32, H_ALLOC_LOCK, a, token)) {
    report.locks++
    rebuildFreeLists(i32)
    release(i32, H_ALLOC_LOCK, token)
  }

  // (c) directory, every scope, allocator
  const dirHolder = take(x, H_DIR_LOCK, dead)
  const dirStolen = dirHolder !== 0
  if (dirStolen) report.locks++
  const held: number[] = []
  const deadHolder = new Map<number, number>() // scope slot → the dead token that held it
  let done = false
  try {
    const hwm = i32[H_SCOPE_HWM]
    for (let s = 0; s < hwm; s++) {
      const was = take(x, dir.rec(s) + S_LOCK, dead)
      if (was !== 0) {
        report.locks++
        deadHolder.set(s, was)
      }
      held.push(s)
    }
    heap.lock()
    try {
      // (d) torn scopes and directory
      const dirTorn = (Atomics.load(i32, H_DIR_VER) & 1) !== 0
      if (!dirTorn && dirStolen) dir.beginChange()
      for (const s of held) {
        const rec = dir.rec(s)
        if ((Atomics.load(i32, rec + S_VER) & 1) === 0) continue
        // its window was opened by the thread that held its lock, or (a scope a bulk swap was
        // creating, which it does not lock) by the one that held the directory
        const holder = deadHolder.get(s) ?? dirHolder
        const name = i32[rec + S_STATE] === SCOPE_LIVE ? dir.nameAt(s) : null
        if (!repairTorn(x, rec, holder === 0 ? -1 : tokenSlot(holder)) && name !== null) report.scopesLost.push(name)
        Atomics.add(i32, rec + S_VER, 1)
      }
      if (dirTorn || dirStolen) {
        i32[H_SCOPES] = dir.rebuildLocked()
        dir.endChange()
      }
      if (report.scopesLost.length > 0) Atomics.add(i32, H_SCOPES_LOST, report.scopesLost.length)

      // (e) mark, free, recount
      const reach = markReachable(x)
      const heapB = cfg.heapB8 * 8
      const end = cfg.heapEndB8 * 8 - 8
      const garbage: number[] = []
      for (let b = heapB; b < end; ) {
        const hdr = i32[b >> 2]
        const size = hdr & SIZE_MASK
        if (size < MIN_BLOCK_BYTES) break
        if ((hdr & F_FREE) === 0) {
          const unit = (b - heapB) >> 3
          const tw = (b >> 2) + B_TAG
          if ((reach[unit >> 5] & (1 << (unit & 31))) !== 0) i32[tw] &= ~TAG_PENDING
          // a live thread's own unreachable blocks: PENDING ones it will free, ready ones it will fill
          else if (!(((i32[tw] & TAG_PENDING) !== 0 || tagType(i32[tw]) === TAG_READY) && threads.slotAlive(tagOwner(i32[tw])))) garbage.push(b >> 3)
        }
        b += size
      }
      for (const ref of garbage) {
        report.bytesFreed += heap.sizeOf(ref)
        heap.freeLocked(ref)
      }
      report.blocksFreed = garbage.length
      let scopes = 0
      let items = 0
      for (const s of dir.liveSlots()) {
        scopes++
        items += i32[dir.rec(s) + S_COUNT]
      }
      const used = countUsed(i32)
      i32[H_CHARGED_B8] = used.charged8 + (scopes * SCOPE_RECORD_BYTES) / 8
      i32[H_PENDING_B8] = used.pending8
      Atomics.store(i32, H_SCOPES, scopes)
      Atomics.store(i32, H_ITEMS, items - threads.itemDeltas()) // (every slot's count is still: all scope locks are held)
    } finally {
      heap.unlock()
    }
    done = true
  } finally {
    // An aborted reap (a wait ran out) hands stolen locks back to their dead holders: a torn scope
    // must never be released to a live thread, and the next reap must see whose undo record it needs.
    for (const s of held) {
      const was = deadHolder.get(s)
      if (!done && was !== undefined) steal(i32, dir.rec(s) + S_LOCK, token, was)
      else release(i32, dir.rec(s) + S_LOCK, token)
    }
    if (!done && dirStolen) steal(i32, H_DIR_LOCK, token, dirHolder)
    else release(i32, H_DIR_LOCK, token)
  }
  return report
}

/**
 * Repairs a scope whose publish window was left open (its lock held by the caller), from the undo
 * record of the thread that opened it (slot `holderSlot`, else any dead thread's record on it):
 * puts the snapshot back, rolls a trim, delete or drop forward, or rolls a warm/rebuild back.
 * Returns false when there was no usable record (a bulk swap that found no heap room for its
 * undo block): the scope is then emptied, its seq counter kept.
 */
export function repairTorn(x: Internals, rec: number, holderSlot: number): boolean {
  const i32 = x.v.i32
  const { threads } = x
  // the holder's record first; then any dead thread's (a reaper that died mid-sweep leaves the
  // torn scope's lock in its own hand, while the record sits in its victim's slot)
  const candidates = [holderSlot]
  for (let s = 0; s < threads.count; s++) if (s !== holderSlot && !threads.slotAlive(s)) candidates.push(s)
  for (const slot of candidates) {
    if (slot < 0) continue
    const w = threads.at(slot)
    const logged = Atomics.load(i32, w + T_UNDO_REC)
    const op = i32[w + T_UNDO_OP]
    if (logged === rec + 1) {
      for (const [from, to] of RESTORED) for (let k = from; k < to; k++) i32[rec + k] = i32[w + T_UNDO_SNAP + k]
      for (let p = 0; p < 2; p++) {
        const at = i32[w + T_UNDO_PATCH + p * 2]
        if (at >= 0) i32[at] = i32[w + T_UNDO_PATCH + p * 2 + 1]
      }
      // rolled forward, the write happened: its fence move with it (the snapshot put it back)
      if (op === UNDO_TRIM) trimForward(x, rec, i32[w + T_UNDO_A], i32[w + T_UNDO_B] * 8)
      else if (op === UNDO_DELETE) deleteForward(x, rec, i32[w + T_UNDO_A], i32[w + T_UNDO_B])
      if (op === UNDO_TRIM || op === UNDO_DELETE) bumpFence(x.v.f64, rec)
      return true
    }
    if (logged !== 1) continue
    if (op === UNDO_BULK && restoreFromBulk(x, rec, i32[w + T_UNDO_A])) return true
    // a scope the holder's bulk swap was creating, or one its drop was removing: it goes
    if (slot === holderSlot && (op === UNDO_BULK || op === UNDO_DROP)) {
      dropTorn(x, rec)
      return true
    }
  }
  if (i32[rec + S_STATE] !== SCOPE_LIVE) return true // nothing visible to repair
  emptyScope(x, rec)
  return false
}

/** Record words a publish window may change (S_COUNT … S_BYTES_B8, lastSeq … lastWriteTs, S_ID_USED, the fence, the expiry words). */
const RESTORED: [number, number][] = [
  [S_COUNT, S_BYTES_B8 + 1], [S_LAST_SEQ_F * 2, S_LAST_WRITE_TS_F * 2 + 2], [S_ID_USED, S_ID_USED + 1], [S_FENCE_F * 2, S_FENCE_F * 2 + 2],
  S_EXPIRY_WORDS, // items with an expiry, the earliest, the scope's default TTL (expiry.ts)
]

/** Record words a bulk swap may change: S_GEN … S_BYTES_B8, lastSeq … lastAccessTs, S_ID_USED, the fence and the expiry words. */
const RESTORED_BULK: [number, number][] = [
  [S_GEN, S_BYTES_B8 + 1], [S_LAST_SEQ_F * 2, S_LAST_ACCESS_TS_F * 2 + 2], [S_ID_USED, S_ID_USED + 1], [S_FENCE_F * 2, S_FENCE_F * 2 + 2],
  S_EXPIRY_WORDS,
]

/** Puts a record back from a bulk swap's undo block; false when the record is not in it. */
function restoreFromBulk(x: Internals, rec: number, undoRef: number): boolean {
  const i32 = x.v.i32
  let w = undoRef * 2 + 2
  const n = i32[w++]
  for (let k = 0; k < n; k++, w += 1 + SCOPE_WORDS) {
    if (i32[w] !== rec) continue
    for (const [from, to] of RESTORED_BULK) for (let j = from; j < to; j++) i32[rec + j] = i32[w + 1 + j]
    return true
  }
  return false
}

/** Finishes a drop that died inside its directory change: the scope goes, its blocks are garbage. */
function dropTorn(x: Internals, rec: number): void {
  const i32 = x.v.i32
  i32[rec + S_COUNT] = 0
  i32[rec + S_ENT_REF] = 0
  i32[rec + S_ID_REF] = 0
  Atomics.store(i32, rec + S_STATE, SCOPE_FREE)
  Atomics.add(i32, rec + S_GEN, 1)
}

/**
 * Empties a torn scope (its lock held): no items, no index arrays; lastSeq kept, so seqs never
 * repeat. Its blocks become unreachable CHARGED blocks: garbage for the next sweep.
 */
export function emptyScope(x: Internals, rec: number): void {
  const had = x.v.i32[rec + S_COUNT]
  if (had > 0) Atomics.sub(x.v.i32, H_ITEMS, had)
  const { i32, f64 } = x.v
  ScopeIndex.clear(i32, rec)
  f64[(rec >> 1) + S_FIRST_SEQ_F] = f64[(rec >> 1) + S_LAST_SEQ_F] + 1
  bumpFence(f64, rec)
  i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + x.heap.sizeOf(i32[rec + S_NAME_REF])) >> 3
}

/** One bit per 8-byte heap unit: set at the start of every block a live scope reaches. */
function markReachable(x: Internals): Int32Array {
  const { cfg, dir, idx } = x
  const i32 = x.v.i32
  const reach = new Int32Array(((cfg.heapEndB8 - cfg.heapB8) >> 5) + 1)
  const mark = (ref: number): void => {
    const unit = ref - cfg.heapB8
    reach[unit >> 5] |= 1 << (unit & 31)
  }
  for (const s of dir.liveSlots()) {
    const rec = dir.rec(s)
    mark(i32[rec + S_NAME_REF])
    if (i32[rec + S_ENT_REF] !== 0) mark(i32[rec + S_ENT_REF])
    if (i32[rec + S_ID_REF] !== 0) mark(i32[rec + S_ID_REF])
    const count = i32[rec + S_COUNT]
    for (let k = 0; k < count; k++) mark(idx.refAt(rec, k))
  }
  return reach
}
