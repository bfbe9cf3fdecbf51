/**
 * One item with its metadata AND its payload as stored JSON text, in one consistent read: what the
 * `/get` envelope and `/get_many?envelope=true` splice. The core's public API has no such call
 * (`get` parses the payload, `getRaw` returns only the text), so:
 *  - by seq: `head(afterSeq: seq − 1, limit: 1, raw: true)` is one validated page read;
 *  - by id: `getRaw` fills the core's per-thread read record (seq, ts, id) in the same validated
 *    read that returns the text; we read that record when it is there, and otherwise fall back
 *    to `get` (for the seq) plus a head read at that seq, checked against the id.
 * Replace with a core `getItem(scope, ref, { raw: true })` when there is one (see the README).
 */
import type { ScopeCache } from '@scopecache/core'

export interface RawItem {
  id: string | null
  seq: number
  ts: number
  /** The payload's JSON text, as stored. */
  text: string
}

interface ReadRecord {
  seq: number
  ts: number
  id: string | null
}

function bySeq(cache: ScopeCache, scope: string, seq: number): RawItem | undefined {
  const page = cache.head<string>(scope, { afterSeq: seq - 1, limit: 1, raw: true })
  const it = page.items[0]
  if (it === undefined || it.seq !== seq) return undefined
  return { id: it.id, seq: it.seq, ts: it.ts, text: it.payload }
}

function byId(cache: ScopeCache, scope: string, id: string): RawItem | undefined {
  const text = cache.getRaw(scope, { id })
  if (text === undefined) return undefined
  const rec = (cache as unknown as { out?: ReadRecord }).out
  if (rec !== undefined && typeof rec.seq === 'number' && typeof rec.ts === 'number') {
    return { id, seq: rec.seq, ts: rec.ts, text }
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const meta = cache.get(scope, { id })
    if (meta === undefined) return undefined
    const it = bySeq(cache, scope, meta.seq)
    if (it !== undefined && it.id === id) return it
  }
  return undefined
}

export function readItem(cache: ScopeCache, scope: string, ref: { id: string } | { seq: number }): RawItem | undefined {
  return 'id' in ref ? byId(cache, scope, ref.id) : bySeq(cache, scope, ref.seq)
}
