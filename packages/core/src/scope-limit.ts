/**
 * setScopeLimit: a per-scope item limit below the store's scopeMaxItems, kept in the scope record
 * (S_LIMIT, S_LIMIT_MODE: layout.ts line 3), written under the scope lock, read by appends under it.
 *
 *   'reject'       an append (or an upsert/counter that adds an item) to a scope at its limit gets
 *                  scope_full, with the limit as its cap
 *   'drop-oldest'  it drops the oldest items to keep the newest maxItems, inside the append's own
 *                  publish window (item-write.ts insertLocked): readers see N items before and N
 *                  after, never N−1 or N+1
 *
 * Setting a limit changes no items: a scope already over it is brought down by its next append
 * (drop-oldest: to the limit; reject: refused until deletes bring it under). warm keeps the scope's
 * record and with it the limit (a warm's items count against scopeMaxItems only, the next append
 * applies the limit); rebuild, dropScope, flush, invalidate of the scope and an eviction make new
 * records: the limit goes with the old one. A missing scope is created (empty, with the limit).
 */
import { invalid, scopeFull } from './errors.js'
import { LIMIT_DROP_OLDEST, LIMIT_REJECT, S_COUNT, S_LIMIT, S_LIMIT_MODE } from './layout.js'
import { writeScope } from './scope-life.js'
import type { Store } from './store.js'
import type { Txn } from './txn.js'
import type { ScopeInfo, ScopeLimitOptions } from './types.js'

/** The checked options: limit 0 = none. */
export function checkLimitOptions(opts: ScopeLimitOptions, scopeMaxItems: number): { limit: number; mode: number } {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw invalid('setScopeLimit needs { maxItems, whenFull }')
  const { maxItems, whenFull } = opts
  if (whenFull !== undefined && whenFull !== 'reject' && whenFull !== 'drop-oldest') {
    throw invalid("the 'whenFull' option of setScopeLimit must be 'reject' or 'drop-oldest'")
  }
  if (maxItems === null) return { limit: 0, mode: LIMIT_REJECT }
  if (!Number.isSafeInteger(maxItems) || (maxItems as number) < 1 || (maxItems as number) > scopeMaxItems) {
    throw invalid(`the 'maxItems' option must be an integer from 1 to ${scopeMaxItems} (the store's scopeMaxItems), or null`)
  }
  return { limit: maxItems as number, mode: whenFull === 'drop-oldest' ? LIMIT_DROP_OLDEST : LIMIT_REJECT }
}

/** Sets (limit > 0) or clears a scope's limit; creates the scope if missing. */
export function setLimit(t: Txn, scope: string, limit: number, mode: number): { created: boolean } {
  const { i32 } = t.s
  return writeScope(t, scope, true, (_slot, rec) => {
    i32[rec + S_LIMIT] = limit
    i32[rec + S_LIMIT_MODE] = mode
    // a write that reached the scope: a created scope stays even though no item went in
    return { created: t.created }
  })
}

/** ScopeInfo's view of a record's limit words. */
export function limitInfo(i32: Int32Array, rec: number): Pick<ScopeInfo, 'maxItems' | 'whenFull'> {
  const limit = i32[rec + S_LIMIT]
  if (limit === 0) return { maxItems: null, whenFull: null }
  return { maxItems: limit, whenFull: i32[rec + S_LIMIT_MODE] === LIMIT_DROP_OLDEST ? 'drop-oldest' : 'reject' }
}

/**
 * Room for one more item: 0, or how many of the oldest items an append to a drop-oldest scope at
 * its limit drops; a scope at scopeMaxItems, or at a 'reject' limit: 507 scope_full.
 */
export function roomFor(s: Store, scope: string, rec: number): number {
  const { i32 } = s
  const count = i32[rec + S_COUNT]
  const limit = i32[rec + S_LIMIT]
  if (limit === 0) {
    if (count >= s.cfg.scopeMaxItems) throw scopeFull([{ scope, count, cap: s.cfg.scopeMaxItems }])
    return 0
  }
  if (count < limit) return 0
  if (i32[rec + S_LIMIT_MODE] === LIMIT_DROP_OLDEST) return count - limit + 1
  throw scopeFull([{ scope, count, cap: limit }])
}
