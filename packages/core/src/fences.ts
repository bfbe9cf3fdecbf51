/**
 * Version fences: `version(scope)` is a number that moves forward with every change to the scope
 * and never goes back — not across a drop and re-create, not across flush or rebuild — so a writer
 * that read it before a slow refill can say `ifVersion` and be refused (`conflict`) if anything
 * changed meanwhile, instead of putting stale data back (CasCache's rule).
 *
 *   S_FENCE_F (scope record)   +1 in every publish window (txn.openWindow), so a write, a delete,
 *                              a trim and an invalidate each move it; restored with the record by
 *                              an undo (reaper.ts), so a write that did not happen did not move it
 *                              either, and moved again when a torn trim or delete is rolled forward
 *   H_FENCE_FLOOR_F (header)   ≥ the fence every dropped or replaced scope had, raised (under the
 *                              directory lock) before any drop, flush, warm or rebuild changes
 *                              anything; a scope that does not exist has the floor as its version
 *   a new record               fence = floor + 1: above anything its name ever had
 *
 * The floor moves only on drops, bulk swaps and invalidations of missing scopes, so creating
 * scopes does not disturb the fences of missing ones. Raising the floor too far is harmless (it
 * only ever has to be high enough), which is why it is raised before, not inside, the change.
 */
import { ScopeCacheError } from './errors.js'
import { H_FENCE_FLOOR_F, S_FENCE_F } from './layout.js'
import type { Txn } from './txn.js'

/** The fence of the scope record at word `rec`. */
export const fenceOf = (f64: Float64Array, rec: number): number => f64[(rec >> 1) + S_FENCE_F]

/** The version of every scope that does not exist. */
export const fenceFloor = (f64: Float64Array): number => f64[H_FENCE_FLOOR_F]

/** Directory lock held: lifts the floor above the fences of `recs` (about to be dropped or replaced). */
export function raiseFloor(f64: Float64Array, recs: readonly number[]): void {
  let floor = f64[H_FENCE_FLOOR_F]
  for (const rec of recs) floor = Math.max(floor, fenceOf(f64, rec))
  f64[H_FENCE_FLOOR_F] = floor + 1
}

/** Directory lock held: the first fence of a record given to a (new or replaced) scope. */
export function startFence(f64: Float64Array, rec: number): void {
  f64[(rec >> 1) + S_FENCE_F] = f64[H_FENCE_FLOOR_F] + 1
}

/** +1, inside a publish window (the scope's lock held, S_VER odd). */
export function bumpFence(f64: Float64Array, rec: number): void {
  f64[(rec >> 1) + S_FENCE_F] += 1
}

/**
 * Scope lock held: the fence a caller could have read before this write. A scope this very call
 * created had the floor as its version until then (its fence is floor + 1 now).
 */
export const fenceBefore = (f64: Float64Array, rec: number, created: boolean): number =>
  rec < 0 ? fenceFloor(f64) : created ? fenceOf(f64, rec) - 1 : fenceOf(f64, rec)

/** An `ifVersion` option: absent, or a version a caller read (a non-negative integer). */
export function ifVersionOpt(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ScopeCacheError('invalid_input', "scopecache: invalid input: the 'ifVersion' option must be a non-negative integer (a version read with version())")
  }
  return v
}

/** Scope lock held, before the write changes anything: `conflict` if the fence moved since `expected`. */
export function checkFence(t: Txn, rec: number, expected: number | undefined): void {
  if (expected === undefined) return
  const now = fenceBefore(t.s.f64, rec, t.created)
  if (now !== expected) {
    throw new ScopeCacheError('conflict', `scopecache: the scope's version moved (expected ${expected}, now ${now}): it changed since it was read`, { version: now })
  }
}
