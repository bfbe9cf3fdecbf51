/**
 * Trimming the oldest items of a locked scope in one publish window, with the trim's undo record:
 * what trim, a drop-oldest limit and the expiry reclaim share (item-write.ts, expiry.ts).
 */
import { fault } from './fault.js'
import { UNDO_TRIM } from './layout.js'
import { idHashes, sumSizes, trimLocked } from './scope-edit.js'
import type { Txn } from './txn.js'

/**
 * Removes a locked scope's `n` oldest items in one publish window; `fence`: whether the version
 * moves (expiry's reclaim does not move it: no reader could see the expired items anyway).
 */
export function trimOldestLocked(t: Txn, rec: number, n: number, fence: boolean): void {
  const s = t.s
  const freed: number[] = []
  for (let k = 0; k < n; k++) freed.push(s.idx.refAt(rec, k))
  const hashes = idHashes(s, freed)
  const bytes = sumSizes(s.heap, freed)
  s.heap.retire(freed) // the last wait: after the publish nothing may fail
  t.undo(rec, UNDO_TRIM, n, bytes >> 3)
  t.publish(rec, () => {
    trimLocked(s, rec, freed, hashes, bytes)
    s.addItems(-n)
  }, fence)
  fault('write:published')
  t.freeRetired(freed)
}
