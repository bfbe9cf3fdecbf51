/**
 * The locked fallback of a read that lost MAX_OPTIMISTIC races to writers (read.ts): `visit` under
 * the scope's writer lock, and nothing else of a write — no transaction, no busy flag, no reclaim
 * of expired items, no deferred frees. A read changes nothing, so a thread that dies while it holds
 * the lock leaves only the lock, which the reaper takes back like any lock of a dead token. The
 * wait is the lock's own (lock.ts): one lease at most, recovering a lock left by a dead thread.
 */
import { HIT, NO_SCOPE } from './read-base.js'
import type { ReadTally } from './read-tally.js'
import { S_GEN, S_LOCK, S_STATE, SCOPE_LIVE } from './layout.js'
import { acquire, release } from './lock.js'
import type { Store } from './store.js'

export function lockedRead(s: Store, tally: ReadTally, scope: string, visit: (rec: number) => number): number {
  const { i32, dir, token } = s
  for (;;) {
    const slot = dir.resolve(scope)
    if (slot < 0) return NO_SCOPE
    const gen = dir.gen
    const rec = dir.rec(slot)
    acquire(i32, rec + S_LOCK, token, s.cfg.lockLeaseMs, s.threads, s.budget)
    try {
      // dropped (and perhaps re-created) while this thread waited: look the name up again
      if (i32[rec + S_GEN] !== gen || i32[rec + S_STATE] !== SCOPE_LIVE) {
        dir.forget(scope)
        continue
      }
      const r = visit(rec)
      if (r === HIT) tally.count(slot, gen)
      return r
    } finally {
      release(i32, rec + S_LOCK, token)
    }
  }
}
