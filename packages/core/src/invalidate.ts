/**
 * invalidate: the write that says "what you hold of this is stale". It deletes the item (or drops
 * the whole scope) and moves the scope's version fence even when there was nothing to delete, so a
 * refill that read the version before it (fences.ts) is refused when it tries to store.
 */
import { raiseFloor } from './fences.js'
import { deleteLocked } from './item-write.js'
import { UNDO_RESTORE } from './layout.js'
import { dropScopeBusy, writeScope } from './scope-life.js'
import type { Txn } from './txn.js'

const MISSING = -1
const nothing = (): void => {}

/** Deletes one item and moves its scope's fence; returns 0 | 1 (items deleted). */
export function invalidateItem(t: Txn, scope: string, by: string | number): 0 | 1 {
  for (;;) {
    const n = writeScope(t, scope, false, (_slot, rec): 0 | 1 | typeof MISSING => {
      if (rec < 0) return MISSING
      const deleted = deleteLocked(t, rec, by)
      if (deleted === 0) {
        // nothing to delete: an empty publish window still moves the fence (an undo puts it back)
        t.undo(rec, UNDO_RESTORE)
        t.publish(rec, nothing)
      }
      return deleted
    })
    if (n !== MISSING) return n
    if (raiseFloorIfMissing(t, scope)) return 0
    // created meanwhile (a refill that read the old version may have stored into it): again
  }
}

/** Drops the scope and moves its fence; returns the items dropped. */
export function invalidateScope(t: Txn, scope: string): number {
  for (;;) {
    const r = t.busy(() => dropScopeBusy(t, scope))
    if (r.found || raiseFloorIfMissing(t, scope)) return r.items
  }
}

/**
 * A scope that does not exist has the floor as its version: move it — if the scope is still
 * missing under the directory lock, which every creation takes, so no creation slips in between
 * our finding it missing and the move. False when it exists now (the caller invalidates again).
 */
function raiseFloorIfMissing(t: Txn, scope: string): boolean {
  const { dir, f64 } = t.s
  dir.lock()
  try {
    if (dir.findLocked(scope) >= 0) return false
    raiseFloor(f64, [])
    return true
  } finally {
    dir.unlock()
  }
}
