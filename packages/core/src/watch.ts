/**
 * Thread slots seen from the facade. `reapLater` is what `cache.watch(worker)` runs when the worker exits: the reaper (reaper.ts) over the dead
 * thread's slot, from an 'exit' listener or a retry timer — so it never throws; a failed reap
 * changed nothing and is retried with backoff until it succeeds.
 */
import { ScopeCacheError } from './errors.js'
import { T_STATE, THREAD_FREE } from './layout.js'
import { reapThread } from './reaper.js'
import type { Store } from './store.js'
import type { ReapReport } from './types.js'

/** Recovers what a dead thread (by threadId) held; retried later if a lock stays busy. */
export function reapLater(s: Store, closed: () => boolean, threadId: number, onReap?: (report: ReapReport) => void, attempt = 0): void {
  if (closed()) return // a closed handle has no thread slot to reap with: keep it open while workers live
  let report: ReapReport | null
  s.budget.deadline = Date.now() + s.cfg.lockLeaseMs
  try {
    report = reapThread(s, threadId)
  } catch (e) {
    // Until it succeeds the dead thread's locks stay held, so it is retried with backoff;
    // anything but a lock timeout is reported once.
    if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout') && attempt === 0) {
      process.emitWarning(`scopecache: recovering dead thread ${threadId} failed (will retry): ${(e as Error)?.stack ?? String(e)}`)
    }
    setTimeout(() => reapLater(s, closed, threadId, onReap, attempt + 1), Math.min(1000, 10 * 2 ** attempt)).unref()
    return
  } finally {
    s.budget.deadline = 0
  }
  if (report !== null && onReap !== undefined) onReap(report)
}

/** `cache.threadSlots()`: thread slots in all, and FREE ones (a dead thread's turns FREE once reaped). */
export function freeSlots(s: Store): { total: number; free: number } {
  const { threads, i32 } = s
  let free = 0
  for (let t = 0; t < threads.count; t++) if (Atomics.load(i32, threads.at(t) + T_STATE) === THREAD_FREE) free++
  return { total: threads.count, free }
}
