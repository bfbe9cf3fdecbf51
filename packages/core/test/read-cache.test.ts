/**
 * The readers' decoded-string cache (read.ts) must never serve the text of an item that has since
 * been replaced, deleted or re-used. The hard case is a block freed and allocated again for the
 * same id with the same seq (upsert keeps the seq) in the same microsecond: only the allocation
 * serial in the block's tag word tells the two apart. A frozen clock makes that case certain.
 * The cache also keeps each item's id string, which an id probe compares instead of the id's
 * bytes and a read by seq returns: it must never name another item's id. (A block is cached on
 * its second miss, so each case reads twice before it changes anything.)
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants, INTERNALS } from '../src/internals.js'
import { rawJson } from '../src/payload.js'

const realNow = performance.now.bind(performance)
afterEach(() => {
  performance.now = realNow
})

describe('decoded-string cache', () => {
  it('a frozen clock: every upsert of one id (same seq, same ts, blocks re-used) reads back its own text', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const t = realNow()
    performance.now = () => t
    cache.append('s', 0, { id: 'k' })
    for (let i = 1; i <= 5000; i++) {
      cache.upsert('s', 'k', rawJson(String(i)))
      expect(cache.getRaw('s', { id: 'k' })).toBe(String(i))
      expect(cache.get('s', { seq: 1 })?.payload).toBe(i)
    }
    checkInvariants(cache)
    cache.close()
  })

  it('a frozen clock: delete, append again, update and counterAdd never bring an old text back', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const t = realNow()
    performance.now = () => t
    let expected = ''
    for (let i = 0; i < 3000; i++) {
      const op = i % 4
      if (op === 0) {
        cache.delete('s', { id: 'k' })
        expect(cache.getRaw('s', { id: 'k' })).toBeUndefined()
        cache.append('s', { i }, { id: 'k' })
        expected = JSON.stringify({ i })
      } else if (op === 1) {
        cache.update('s', { id: 'k' }, [i])
        expected = `[${i}]`
      } else if (op === 2) {
        cache.upsert('s', 'k', i * 10)
        cache.counterAdd('s', 'k', 1)
        expected = String(i * 10 + 1)
      } else {
        cache.dropScope('s')
        expect(cache.getRaw('s', { id: 'k' })).toBeUndefined()
        cache.append('s', `t${i}`, { id: 'k' })
        expected = JSON.stringify(`t${i}`)
      }
      expect(cache.getRaw('s', { id: 'k' })).toBe(expected)
    }
    checkInvariants(cache)
    cache.close()
  })

  it('reads of many items through a small cache agree with getBytes, by id and by seq', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 16 << 20 })
    for (let i = 0; i < 5000; i++) cache.append('s', { n: i, pad: 'x'.repeat(i % 90) }, { id: `i${i}` })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i += 7) {
        const raw = cache.getRaw('s', { id: `i${i}` })
        expect(raw).toBe(Buffer.from(cache.getBytes('s', { seq: i + 1 }) as Uint8Array).toString())
        expect(cache.getRaw('s', { seq: i + 1 })).toBe(raw)
      }
    }
    cache.close()
  })

  it('a frozen clock: a block re-used by another id at the same seq and ts never reads back the old id', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const t = realNow()
    performance.now = () => t
    for (let i = 0; i < 2000; i++) {
      // the scope is new each time, so the item is seq 1 with the same ts, and its block is the last one freed
      const id = i % 2 === 0 ? 'a' : 'b'
      const other = i % 2 === 0 ? 'b' : 'a'
      cache.append('s', i, { id })
      for (let r = 0; r < 2; r++) {
        expect(cache.get('s', { seq: 1 })).toMatchObject({ id, payload: i })
        expect(cache.get('s', { id })).toMatchObject({ id, seq: 1, payload: i })
        expect(cache.getRaw('s', { id: other })).toBeUndefined()
      }
      cache.dropScope('s')
    }
    checkInvariants(cache)
    cache.close()
  })

  it('ids that share a bucket and a tag: the cached id of one never answers for the other', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const x = cache[INTERNALS]()
    // two ids whose hashes agree in the low 8 bits (the bucket, tables ≤ 256 slots) and in the tag
    // bits: each one's probe meets the other's slot and must look past it
    const same = x.ids.hiMask | 0xff
    const seen = new Map<number, string>()
    let pair: [string, string] | null = null
    for (let i = 0; pair === null; i++) {
      const id = `c${i}`
      const k = x.hashId(id) & same
      const prev = seen.get(k)
      if (prev !== undefined) pair = [prev, id]
      else seen.set(k, id)
    }
    const [p, q] = pair
    const t = realNow()
    performance.now = () => t
    for (let i = 0; i < 500; i++) {
      const [first, second] = i % 2 === 0 ? [p, q] : [q, p]
      cache.append('s', `${first}${i}`, { id: first })
      cache.append('s', `${second}${i}`, { id: second })
      for (let r = 0; r < 3; r++) {
        expect(cache.getRaw('s', { id: first })).toBe(JSON.stringify(`${first}${i}`))
        expect(cache.get('s', { id: second })).toMatchObject({ id: second, payload: `${second}${i}` })
      }
      // the one probed first goes: its slot is a tombstone, the other's cached entry is met alone
      cache.delete('s', { id: first })
      for (let r = 0; r < 3; r++) {
        expect(cache.getRaw('s', { id: first })).toBeUndefined()
        expect(cache.getRaw('s', { id: second })).toBe(JSON.stringify(`${second}${i}`))
      }
      cache.delete('s', { id: second })
    }
    checkInvariants(cache)
    cache.close()
  })
})
