/**
 * What the store says about itself: scopeList's rows — each scope's record fields and name read
 * optimistically under its S_VER seqlock, like a point read (read.ts), without the scope lock —
 * and stats()' totals.
 */
import {
  H_DROPPED_LO, H_EVICTED_LO, H_EXPIRED, H_ITEMS, H_LOADER_RUNS_LO, H_LOCK_WAITS_LO, H_SCOPES, S_BYTES_B8, S_COUNT, S_CREATED_TS_F, S_LAST_ACCESS_TS_F,
  S_LAST_SEQ_F, S_LAST_WRITE_TS_F, S_READS_HI, S_READS_LO, S_STATE, S_TTL_F, S_VER, SCOPE_LIVE, T_FENCE,
} from './layout.js'
import { read64 } from './counter64.js'
import { WEAK_ORDER } from './memory.js'
import { limitInfo } from './scope-limit.js'
import { MAX_OPTIMISTIC, readBackoff } from './read-base.js'
import { nameOf } from './scope-edit.js'
import type { Store } from './store.js'
import { checkLimit } from './args.js'
import { compareUtf8 } from './keys.js'
import type { ScopeInfo, ScopeListOptions, StoreStats } from './types.js'
import { isValidKey } from './validate.js'

/** scopeList: the live scopes whose names start with `prefix` and sort after `after`, in byte order. */
export function listScopes(s: Store, opts: ScopeListOptions): { scopes: ScopeInfo[]; truncated: boolean } {
  const limit = checkLimit(opts.limit)
  const prefix = opts.prefix ?? ''
  const after = opts.after ?? ''
  if ((prefix !== '' && !isValidKey(prefix)) || (after !== '' && !isValidKey(after))) return { scopes: [], truncated: false }
  const rows: ScopeInfo[] = []
  for (const slot of s.dir.liveSlots()) {
    const row = scopeInfo(s, slot)
    if (row !== null && row.scope.startsWith(prefix) && (after === '' || compareUtf8(row.scope, after) > 0)) rows.push(row)
  }
  rows.sort((a, b) => compareUtf8(a.scope, b.scope))
  return { scopes: rows.slice(0, limit), truncated: rows.length > limit }
}

export function storeStats(s: Store, lastWriteTs: number): StoreStats {
  return {
    scopes: Atomics.load(s.i32, H_SCOPES),
    items: Atomics.load(s.i32, H_ITEMS) + s.threads.itemDeltas(),
    bytes: s.usedBytes(),
    maxStoreBytes: s.cfg.maxStoreBytes,
    lastWriteTs,
    expiredItems: Atomics.load(s.i32, H_EXPIRED),
    evictedScopes: read64(s.i32, H_EVICTED_LO),
    droppedOldest: read64(s.i32, H_DROPPED_LO),
    lockWaits: read64(s.i32, H_LOCK_WAITS_LO),
    loaderRuns: read64(s.i32, H_LOADER_RUNS_LO),
  }
}

/** One scope's row; null when it is not live or kept changing. */
export function scopeInfo(s: Store, slot: number): ScopeInfo | null {
  const { i32, f64 } = s
  const rec = s.dir.rec(slot)
  const r2 = rec >> 1
  for (let attempt = 0; attempt < MAX_OPTIMISTIC; attempt++) {
    if (attempt > 0) readBackoff(attempt)
    const v = Atomics.load(i32, rec + S_VER)
    if ((v & 1) !== 0) continue
    if (i32[rec + S_STATE] !== SCOPE_LIVE) return null
    let scope: string
    try {
      scope = nameOf(s, slot)
    } catch {
      continue
    }
    const row: ScopeInfo = {
      scope,
      itemCount: i32[rec + S_COUNT],
      lastSeq: f64[r2 + S_LAST_SEQ_F],
      bytes: i32[rec + S_BYTES_B8] * 8,
      createdTs: f64[r2 + S_CREATED_TS_F],
      lastWriteTs: f64[r2 + S_LAST_WRITE_TS_F],
      lastAccessTs: f64[r2 + S_LAST_ACCESS_TS_F],
      readCountTotal: (Atomics.load(i32, rec + S_READS_HI) >>> 0) * 2 ** 32 + (Atomics.load(i32, rec + S_READS_LO) >>> 0),
      itemTtlMs: f64[r2 + S_TTL_F] > 0 ? f64[r2 + S_TTL_F] : null,
      ...limitInfo(i32, rec),
    }
    if (WEAK_ORDER) Atomics.add(i32, s.slotW + T_FENCE, 0) // a fence
    if (Atomics.load(i32, rec + S_VER) === v) return row
  }
  return null
}
