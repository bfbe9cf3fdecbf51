/**
 * Dropping whole scopes inside one directory change: the primitive under dropScope, dropPrefix,
 * flush (scope-life.ts) and eviction (evict.ts), which both import it from here.
 */
import { nowMicros } from './clock.js'
import { fault } from './fault.js'
import { raiseFloor } from './fences.js'
import { H_ITEMS, H_SCOPES, S_COUNT, S_ENT_REF, S_GEN, S_ID_REF, S_LOCK, S_STATE, S_VER, SCOPE_FREE, SCOPE_RECORD_BYTES, T_UNDO_OP, T_UNDO_REC, UNDO_DROP } from './layout.js'
import { release } from './lock.js'
import { collectBlocks, sumSizes } from './scope-edit.js'
import { ensureStack, type Txn } from './txn.js'

/** What a drop unpublished: its blocks are ours to free once the directory lock is gone. */
export interface Dropped {
  scopes: number
  items: number
  blocks: number[]
  slots: number[]
}

/**
 * Unpublishes whole scopes (directory lock held): all their S_VERs go odd before any goes
 * even again, inside one directory change, so no reader sees some of them gone and others not.
 * Their blocks are listed and adopted first (the scopes are locked, so nothing moves), and the
 * scope records and items are refunded inside the locks, so the counters always match the heap
 * whenever the directory lock is free.
 */
export function dropSlotsLocked(t: Txn, slots: number[], scopesLocked = false): Dropped {
  const { i32, dir, heap, token, slotW } = t.s
  const out: Dropped = { scopes: slots.length, items: 0, blocks: [], slots }
  slots.sort((a, b) => a - b)
  // From here the scope locks are ours to release, on every path (a caller's too: scopesLocked).
  const locked: number[] = scopesLocked ? slots.slice() : []
  try {
    if (!scopesLocked) {
      for (const s of slots) {
        t.lockScope(dir.rec(s))
        locked.push(s)
      }
    }
    for (const s of slots) {
      const rec = dir.rec(s)
      out.items += i32[rec + S_COUNT]
      collectBlocks(t.s, rec, out.blocks, true)
    }
    // The refund is the drop's last wait (the allocator lock), so it comes before anything changes.
    const bytes = sumSizes(heap, out.blocks)
    heap.lock()
    try {
      heap.commitLocked(0, bytes, -SCOPE_RECORD_BYTES * slots.length)
    } finally {
      heap.unlock()
    }
  } catch (e) {
    for (const s of locked) release(i32, dir.rec(s) + S_LOCK, token)
    throw e
  }
  // Ours to free, and PENDING until freed: to the reaper an unreachable PENDING block of a live
  // thread is work in flight, any other unreachable block is garbage. (The tags follow the
  // counters moved above; the directory lock keeps the reaper from seeing them disagree.)
  for (const b of out.blocks) {
    heap.adopt(b)
    heap.markPending(b, true)
  }
  // Undo record: "the scopes I hold are being dropped" — a reaper finishes the drop.
  i32[slotW + T_UNDO_OP] = UNDO_DROP
  Atomics.store(i32, slotW + T_UNDO_REC, 1)
  ensureStack()
  raiseFloor(t.s.f64, slots.map((s) => dir.rec(s))) // before the change: a re-created name starts above
  dir.beginChange()
  let itemsDone = false
  try {
    for (const s of slots) Atomics.add(i32, dir.rec(s) + S_VER, 1)
    fault('drop:unpublishing')
    for (const s of slots) {
      const rec = dir.rec(s)
      dir.removeLocked(s)
      i32[rec + S_COUNT] = 0
      i32[rec + S_ENT_REF] = 0
      i32[rec + S_ID_REF] = 0
      Atomics.store(i32, rec + S_STATE, SCOPE_FREE)
      Atomics.add(i32, rec + S_GEN, 1)
    }
    Atomics.sub(i32, H_SCOPES, slots.length)
    if (out.items > 0) Atomics.sub(i32, H_ITEMS, out.items)
    itemsDone = true
    for (const s of slots) Atomics.add(i32, dir.rec(s) + S_VER, 1)
    dir.endChange()
    Atomics.store(i32, slotW + T_UNDO_REC, 0)
    for (const s of slots) dir.putSlotLocked(s)
  } catch (e) {
    // the undo record says "roll forward": the scopes go, as the reaper would make them go
    if (!itemsDone && out.items > 0) Atomics.sub(i32, H_ITEMS, out.items)
    t.abortDirChange(slots)
    t.freeRetired(out.blocks)
    throw e
  } finally {
    for (const s of slots) release(i32, dir.rec(s) + S_LOCK, token)
  }
  return out
}

/** Frees what a drop unpublished (outside the directory lock; the blocks are ours). */
export function finishDrop(t: Txn, d: Dropped, counts = true): void {
  t.freeRetired(d.blocks)
  if (counts) t.bumpLastWrite(nowMicros())
}
