/**
 * A scope's entries are item refs alone (4 bytes): the seq of position k is first + k while the
 * scope has no holes, and a scope with holes (deletes) searches a window as wide as its hole count
 * (scope-index.ts). Random appends, upserts, deletes (oldest, newest, in between) and trims, each
 * checked against a plain array: every seq read by seq, `head` after every seq, and the invariant
 * checker (which verifies the first seq and the hole count against the items).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants } from '../src/internals.js'

/** mulberry32 */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('entries with implicit seqs', () => {
  for (const seed of [1, 2, 3]) {
    it(`agree with a model through appends, deletes and trims (seed ${seed})`, () => {
      const cache = ScopeCache.create({ maxStoreBytes: 4 << 20 })
      const r = rng(seed)
      const model: { seq: number; id: string; v: number }[] = []
      let lastSeq = 0
      let n = 0
      for (let step = 0; step < 1500; step++) {
        const x = r()
        if (x < 0.5 || model.length === 0) {
          const id = `i${n++}`
          cache.append('s', n, { id })
          model.push({ seq: ++lastSeq, id, v: n })
        } else if (x < 0.6) {
          const e = model[Math.floor(r() * model.length)]
          e.v = -e.v
          cache.upsert('s', e.id, e.v)
        } else if (x < 0.8) {
          // delete: the oldest, the newest, or one in between
          const y = r()
          const k = y < 0.2 ? 0 : y < 0.4 ? model.length - 1 : Math.floor(r() * model.length)
          expect(cache.delete('s', r() < 0.5 ? { seq: model[k].seq } : { id: model[k].id })).toBe(1)
          model.splice(k, 1)
        } else if (x < 0.85) {
          const maxSeq = model[Math.floor(r() * model.length)].seq
          const gone = model.filter((e) => e.seq <= maxSeq).length
          expect(cache.trim('s', { maxSeq })).toBe(gone)
          model.splice(0, gone)
        } else if (x < 0.88) {
          const keep = Math.floor(r() * 4)
          const gone = Math.max(0, model.length - keep)
          expect(cache.trim('s', { keep })).toBe(gone)
          model.splice(0, gone)
        } else {
          const after = Math.floor(r() * (lastSeq + 2))
          const want = model.filter((e) => e.seq > after).slice(0, 5)
          const got = cache.head('s', { afterSeq: after, limit: 5 }).items
          expect(got.map((it) => [it.seq, it.payload])).toEqual(want.map((e) => [e.seq, e.v]))
        }
        if (step % 50 === 0 || step === 1499) {
          const live = new Map(model.map((e) => [e.seq, e.v]))
          for (let seq = 1; seq <= lastSeq + 1; seq++) {
            const v = live.get(seq)
            expect(cache.get('s', { seq })?.payload, `seq ${seq} at step ${step}`).toBe(v)
          }
          checkInvariants(cache)
        }
      }
      cache.close()
    })
  }
})
