/**
 * One item with its metadata AND its payload as stored JSON text, in one consistent read: what the
 * `/get` envelope and `/get_many?envelope=true` splice (the core's `get(…, { raw: true })`).
 */
import type { ScopeCache } from '@scopecache/core'

export interface RawItem {
  id: string | null
  seq: number
  ts: number
  /** µs since the epoch when it expires; null: never (expires_ts is left out) */
  expiresTs: number | null
  /** The payload's JSON text, as stored. */
  text: string
}

export function readItem(cache: ScopeCache, scope: string, ref: { id: string } | { seq: number }): RawItem | undefined {
  const it = cache.get<string>(scope, ref, { raw: true })
  return it === undefined ? undefined : { id: it.id, seq: it.seq, ts: it.ts, expiresTs: it.expiresTs, text: it.payload }
}
