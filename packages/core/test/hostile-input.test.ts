/**
 * Input chosen to hurt: keys crafted to share a hash bucket, and rawJson bytes that another
 * thread rewrites while the write is under way.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { setFaultHook } from '../src/fault.js'
import { hashKey } from '../src/keys.js'
import { rawJson } from '../src/payload.js'
import { checkInvariants } from '../src/internals.js'

afterEach(() => setFaultHook(null))

/** 2^bits ids of `bits` units, each 'a' or '\u8061': the same low 15 bits of every unit. */
function craftedIds(bits: number): string[] {
  const ids: string[] = []
  for (let n = 0; n < 1 << bits; n++) {
    let s = ''
    for (let b = 0; b < bits; b++) s += (n >> b) & 1 ? '\u8061' : 'a'
    ids.push(s)
  }
  return ids
}

describe('hash flooding', () => {
  it('ids that differ only in the high bits of their units spread over the buckets for every seed', () => {
    const ids = craftedIds(14) // 16 384 ids
    const buckets = 1 << 15 // the id table of a scope that holds them
    for (const seed of [0, 1, 0x5bd1e995, 0x7fffffff, -1, 123456789]) {
      const load = new Map<number, number>()
      let worst = 0
      for (const id of ids) {
        const b = hashKey(id, seed) & (buckets - 1)
        const n = (load.get(b) ?? 0) + 1
        load.set(b, n)
        if (n > worst) worst = n
      }
      // random hashing puts at most a handful in one bucket; unmixed FNV puts all 16 384 in one
      expect(worst, `seed ${seed}`).toBeLessThan(16)
    }
  })

  it('a scope takes the crafted ids and finds each of them', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 16 << 20 })
    const ids = craftedIds(12)
    for (const id of ids) cache.append('flood', 1, { id })
    for (const id of ids) expect(cache.getRaw('flood', { id })).toBe('1')
    checkInvariants(cache)
    cache.close()
  })
})

describe('rawJson over shared memory', () => {
  it('stores the bytes it validated, even when the shared source changes before the copy', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const shared = new Uint8Array(new SharedArrayBuffer(8))
    shared.set(Buffer.from('{"a":12}'))
    // Another thread rewrites the bytes while this one holds the scope lock: simulate it at the
    // moment the write has locked its scope, after the payload was validated.
    setFaultHook((point) => {
      if (point === 'write:locked') shared.set(Buffer.from('{"a":}}}'))
    })
    cache.append('s', rawJson(shared), { id: 'x' })
    cache.upsert('s', 'y', rawJson(shared.fill(0x20).fill(0x31, 0, 1))) // " 1      " → 1
    setFaultHook(null)
    expect(cache.getRaw('s', { id: 'x' })).toBe('{"a":12}')
    expect(cache.get('s', { id: 'x' })?.payload).toEqual({ a: 12 })
    expect(cache.getRaw('s', { id: 'y' })).toBe('1')
    checkInvariants(cache)
    cache.close()
  })
})
