/**
 * Expiry: items that carry an end of life (ttlMs on a write, or the scope's default TTL), touch,
 * and reclaiming the expired ones.
 *
 *   never returned   a read compares an item's expiry with its clock as it copies the item out
 *                    (read.ts): an item whose I_EXPIRES flag is clear — every item of a store that
 *                    uses no TTL — costs one test of a header word the read loads anyway.
 *   reclaimed        by the next write to its scope (under the same lock hold, before the write's
 *                    own work: writeScope in scope-life.ts), and by sweepExpired, which the handle
 *                    that created the store runs on an unref'd timer (never in an attached thread:
 *                    pool workers sleep in Atomics.wait and run no timers).
 *
 * The scope record keeps S_EXP_ITEMS (live items with an expiry) and S_EXP_MIN_F (a lower bound of
 * their earliest expiry): a write or sweep looks further only when that bound has passed. Reclaiming
 * is a trim of the oldest run of expired items (the usual case: one TTL, so expiry follows seq
 * order) and one delete per other expired item, each in its own publish window with the trim's or
 * delete's undo record (the reaper rolls a torn one forward), at most `maxDeletes` deletes per lock
 * hold. Reclaiming does not move the scope's version: an expired item was invisible already.
 */
import { invalid, ScopeCacheError } from './errors.js'
import { fault } from './fault.js'
import { itemExpiry } from './item-record.js'
import { MESSAGES } from './limits.js'
import { DEFAULTS, H_EXPIRED, H_ITEMS, I_EXPIRES, MAX_TTL_MS, S_COUNT, S_EXP_ITEMS, S_EXP_MIN_F, S_TTL_F, UNDO_DELETE, UNDO_RESTORE } from './layout.js'
import { nameOf, removeAtLocked } from './scope-edit.js'
import { trimOldestLocked } from './trim-oldest.js'
import type { Store } from './store.js'
import type { Txn } from './txn.js'

/** Deletes one reclaim does per lock hold on a write's path (the trim of the oldest run is not bounded: it is one window). */
export const WRITE_RECLAIM_DELETES = 32
/** Per lock hold when sweeping. */
export const SWEEP_RECLAIM_DELETES = 1024

/** A TTL argument: an integer number of ms in 1..MAX_TTL_MS (`field` names it in the error). */
export function ttlArg(v: unknown, field = 'ttlMs'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_TTL_MS) {
    throw invalid(MESSAGES.ttlRange(field))
  }
  return v
}

/** create's expirySweepMs: a non-negative integer (0: no timer), default DEFAULTS.expirySweepMs. */
export function sweepMsOption(v: unknown): number {
  if (v === undefined) return DEFAULTS.expirySweepMs
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 2 ** 31 - 1) {
    throw invalid("the 'expirySweepMs' option must be a non-negative integer number of milliseconds (0: no sweep timer)")
  }
  return v
}

/**
 * The creating handle's sweep: `sweep` every `ms` on an unref'd timer (it keeps no process alive);
 * a sweep that finds a lock busy (a ScopeCacheError) tries again at the next tick.
 */
export function startSweepTimer(ms: number, sweep: () => void): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    try {
      sweep()
    } catch (e) {
      if (!(e instanceof ScopeCacheError)) throw e
    }
  }, ms)
  timer.unref()
  return timer
}

/** An optional ttlMs option: 0 when absent (the scope's default applies). */
export const ttlOption = (v: unknown): number => (v === undefined ? 0 : ttlArg(v))

/** The expiry (µs) a write at `ts` gives its item: `ttl` ms (> 0), else the scope's default, else none (0). */
export function expiresAt(s: Store, rec: number, ts: number, ttl: number): number {
  if (ttl > 0) return ts + ttl * 1000
  const dflt = s.f64[(rec >> 1) + S_TTL_F]
  return dflt > 0 ? ts + dflt * 1000 : 0
}

/** The expiry (µs) of the item at `ref`, 0 when it has none. */
export const expiryOf = (s: Store, ref: number): number => itemExpiry(s.i32, s.f64, ref)

/** True when the item at `ref` has an expiry that `now` (µs) has reached. */
export const expiredAt = (s: Store, ref: number, now: number): boolean => {
  const e = itemExpiry(s.i32, s.f64, ref)
  return e > 0 && e <= now
}

/**
 * Inside a publish window: `delta` items with an expiry more (or fewer) in the scope, one of them
 * (if `expires` > 0) with that expiry, which may lower the scope's earliest-expiry bound.
 */
export function noteExpiryLocked(s: Store, rec: number, expires: number, delta: number): void {
  const { i32, f64 } = s
  const before = i32[rec + S_EXP_ITEMS]
  i32[rec + S_EXP_ITEMS] = before + delta
  const m = (rec >> 1) + S_EXP_MIN_F
  if (expires > 0 && (before === 0 || expires < f64[m])) f64[m] = expires
}

/** Scope lock held: true when some item of the scope may have expired by `now`. */
export const reclaimDue = (s: Store, rec: number, now: number): boolean =>
  s.i32[rec + S_EXP_ITEMS] !== 0 && s.f64[(rec >> 1) + S_EXP_MIN_F] <= now

/**
 * Scope lock held, the transaction entered: removes the scope's expired items (at most
 * `maxDeletes` outside the oldest run) and sets the earliest-expiry bound anew. Returns the items removed.
 */
export function reclaimLocked(t: Txn, rec: number, now: number, maxDeletes: number): number {
  const s = t.s
  const { i32, idx } = s
  let removed = 0
  const count = i32[rec + S_COUNT]
  let n = 0
  while (n < count && expiredAt(s, idx.refAt(rec, n), now)) n++
  if (n > 0) {
    trimOldestLocked(t, rec, n, false)
    removed += n
  }
  // newest first: a delete moves no entry older than the one it removes
  let deletes = 0
  for (let k = i32[rec + S_COUNT] - 1; k >= 0 && deletes < maxDeletes; k--) {
    const item = idx.refAt(rec, k)
    if (!expiredAt(s, item, now)) continue
    s.heap.retire([item])
    t.undo(rec, UNDO_DELETE, k, item)
    t.publish(rec, () => {
      removeAtLocked(s, rec, k, item)
      Atomics.sub(i32, H_ITEMS, 1)
    }, false)
    fault('write:published')
    t.freeRetired([item])
    deletes++
  }
  removed += deletes
  // the new bound: the earliest expiry left (read only by writers and the sweep, under this lock)
  let min = Infinity
  if (i32[rec + S_EXP_ITEMS] !== 0) {
    for (let k = i32[rec + S_COUNT] - 1; k >= 0; k--) {
      const e = expiryOf(s, idx.refAt(rec, k))
      if (e > 0 && e < min) min = e
    }
  }
  s.f64[(rec >> 1) + S_EXP_MIN_F] = min === Infinity ? 0 : min
  if (removed > 0) Atomics.add(i32, H_EXPIRED, removed)
  return removed
}

/**
 * Scope lock held: removes `item` if it has expired (one delete window, counted as expired); true
 * when it did. A write whose reclaim stopped at its bound calls it on the item it addresses, so no
 * write ever acts on an expired item.
 */
export function dropIfExpiredLocked(t: Txn, rec: number, item: number): boolean {
  const s = t.s
  if (!expiredAt(s, item, s.now())) return false
  const pos = s.idx.findSeq(rec, s.idx.seqOf(item))
  s.heap.retire([item])
  t.undo(rec, UNDO_DELETE, pos, item)
  t.publish(rec, () => {
    removeAtLocked(s, rec, pos, item)
    Atomics.sub(s.i32, H_ITEMS, 1)
  }, false)
  fault('write:published')
  t.freeRetired([item])
  Atomics.add(s.i32, H_EXPIRED, 1)
  return true
}

/** The write path's reclaim (writeScope): a lock_timeout on the allocator leaves the rest for later. */
export function reclaimBeforeWrite(t: Txn, rec: number): void {
  const now = t.s.now()
  if (!reclaimDue(t.s, rec, now)) return
  try {
    reclaimLocked(t, rec, now, WRITE_RECLAIM_DELETES)
  } catch (e) {
    if (!(e instanceof ScopeCacheError)) throw e
  }
}

/** setScopeTtl: the scope's default TTL (ms, 0: none) for items written without ttlMs. */
export function setScopeTtlLocked(t: Txn, rec: number, ttl: number): void {
  t.undo(rec, UNDO_RESTORE)
  t.publish(rec, () => {
    t.s.f64[(rec >> 1) + S_TTL_F] = ttl
  })
}

/** The scope's default TTL in ms (0: none), as a racy read for ScopeInfo (validated by its seqlock). */
export const scopeTtlOf = (s: Store, rec: number): number => s.f64[(rec >> 1) + S_TTL_F]

/**
 * The scopes whose earliest-expiry bound has passed by `now`, found without any lock or write (the
 * bound is a hint: the scope's writer lock is taken before anything is removed). A sweep of a store
 * with nothing to reclaim ends here, having entered no write.
 */
export function dueScopes(s: Store, now: number): string[] {
  const { i32, f64, dir } = s
  const names: string[] = []
  for (const slot of dir.liveSlots()) {
    const rec = dir.rec(slot)
    if (Atomics.load(i32, rec + S_EXP_ITEMS) === 0 || !(f64[(rec >> 1) + S_EXP_MIN_F] <= now)) continue
    try {
      names.push(nameOf(s, slot))
    } catch {
      // the slot changed hands under us: its next sweep
    }
  }
  return names
}

/** sweepExpired (the transaction entered): reclaims the expired items of the `due` scopes. */
export function sweepExpired(t: Txn, due: string[], now: number, write: <T>(scope: string, fn: (rec: number) => T) => T): number {
  const s = t.s
  let total = 0
  for (const name of due) {
    for (let round = 0; round < 1000; round++) {
      const n = write(name, (r) => (r < 0 || !reclaimDue(s, r, now) ? -1 : reclaimLocked(t, r, now, SWEEP_RECLAIM_DELETES)))
      if (n < 0) break
      total += n
    }
  }
  return total
}
