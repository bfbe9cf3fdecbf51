/**
 * The readers' decoded-string cache (read.ts) must never serve the text of an item that has since
 * been replaced, deleted or re-used. The hard case is a block freed and allocated again for the
 * same id with the same seq (upsert keeps the seq) in the same microsecond: only the allocation
 * serial in the block's tag word tells the two apart. A frozen clock makes that case certain.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants } from '../src/internals.js'
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
})
