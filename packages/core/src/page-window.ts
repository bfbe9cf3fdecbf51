/**
 * Which positions of a scope's seq order a head or tail page holds: the windows `Reader.page`
 * reads through, their arguments checked when they are made (before any read).
 */
import { checkLimit } from './args.js'
import { invalid } from './errors.js'
import { S_COUNT } from './layout.js'
import { MESSAGES } from './limits.js'
import type { ScopeIndex } from './scope-index.js'

/** Which positions of a scope's seq order a page holds. */
export interface PageWindow {
  /** When no item can have expired: positions [from, to), and whether the page is truncated. */
  range(rec: number): [number, number, boolean]
  /** Otherwise: the live positions (`live(k)`), oldest first, into `out`; whether the page is truncated. */
  live(rec: number, live: (k: number) => boolean, out: number[]): boolean
}

/** head's page: items with seq > afterSeq, oldest first, at most `limit` (arguments checked here). */
export function headWindow(i32: Int32Array, idx: ScopeIndex, afterSeq: number | undefined, limit: number | undefined): PageWindow {
  const after = afterSeq ?? 0
  if (!Number.isSafeInteger(after) || after < 0) throw invalid(MESSAGES.afterSeqUnsigned)
  const n = checkLimit(limit)
  return {
    range(rec) {
      const count = i32[rec + S_COUNT]
      const from = idx.firstAfter(rec, after)
      const to = Math.min(count, from + n)
      return [from, to, to < count]
    },
    live(rec, live, out) {
      const count = i32[rec + S_COUNT]
      for (let k = idx.firstAfter(rec, after); k < count; k++) {
        if (!live(k)) continue
        if (out.length === n) return true
        out.push(k)
      }
      return false
    },
  }
}

/** tail's page: the newest `limit` items after skipping `offset` newest (arguments checked here). */
export function tailWindow(i32: Int32Array, offset: number | undefined, limit: number | undefined): PageWindow {
  const skip = offset ?? 0
  if (!Number.isSafeInteger(skip) || skip < 0) throw invalid(MESSAGES.offsetNonNegative)
  const n = checkLimit(limit)
  return {
    range(rec) {
      const count = i32[rec + S_COUNT]
      const to = Math.max(0, count - skip)
      const from = Math.max(0, to - n)
      return [from, to, from > 0]
    },
    live(rec, live, out) {
      let k = i32[rec + S_COUNT] - 1
      for (let skipped = 0; k >= 0 && skipped < skip; k--) if (live(k)) skipped++
      for (; k >= 0 && out.length < n; k--) if (live(k)) out.push(k)
      out.reverse()
      for (; k >= 0; k--) if (live(k)) return true
      return false
    },
  }
}
