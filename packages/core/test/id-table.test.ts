/**
 * The id table (id-table.ts): 4-byte slots of tag | item ref, load ≤ 0.8, probes bounded at
 * MAX_PROBE. These cases reach what ordinary data does not: ids whose hashes share a bucket, so
 * an insert finds no free slot within the bound and must rehash into a larger table; and the
 * table's size, which is what the memory figure counts.
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { MAX_PROBE } from '../src/id-table.js'
import { checkInvariants, INTERNALS } from '../src/internals.js'
import { hashKey, hashStoredKey } from '../src/keys.js'
import { S_ID_CAP, S_ID_USED } from '../src/layout.js'
import { ID_SEED } from '../src/store.js'

/** `n` ids of this store whose hashes share their low `bits` bits (one bucket while cap ≤ 2^bits). */
function sameBucketIds(cache: ScopeCache, n: number, bits: number): string[] {
  const seed = cache[INTERNALS]().cfg.seed ^ ID_SEED
  const mask = (1 << bits) - 1
  const want = hashKey('k0', seed) & mask
  const out: string[] = []
  for (let i = 0; out.length < n; i++) if ((hashKey(`k${i}`, seed) & mask) === want) out.push(`k${i}`)
  return out
}

function table(cache: ScopeCache, scope: string): { cap: number; used: number } {
  const x = cache[INTERNALS]()
  const rec = x.dir.rec(x.dir.findLocked(scope))
  return { cap: x.i32[rec + S_ID_CAP], used: x.i32[rec + S_ID_USED] }
}

describe('id table', () => {
  it('ids sharing one bucket past the probe bound: the insert that finds no slot rehashes larger, and all are found', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 8 << 20 })
    const ids = sameBucketIds(cache, MAX_PROBE + 200, 11)
    for (const id of ids) cache.append('s', 1, { id })
    // 1224 ids fit a 2048-slot table by load; sharing 11 low bits they cannot within MAX_PROBE of one bucket
    expect(table(cache, 's').cap).toBeGreaterThan(2048)
    for (const id of ids) expect(cache.getRaw('s', { id })).toBe('1')
    expect(cache.getRaw('s', { id: 'absent' })).toBeUndefined()
    checkInvariants(cache)
    // and a bulk build of the same ids doubles its table the same way
    cache.warm(ids.map((id) => ({ scope: 'w', id, payload: 2 })))
    expect(table(cache, 'w').cap).toBeGreaterThan(2048)
    for (const id of ids) expect(cache.getRaw('w', { id })).toBe('2')
    checkInvariants(cache)
    cache.close()
  })

  it('holds 50 000 appended ids in 65 536 slots of 4 bytes (load 0.76), and a warm of them likewise', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    for (let i = 0; i < 50_000; i++) cache.append('s', i, { id: `item:${i}` })
    expect(table(cache, 's')).toEqual({ cap: 65_536, used: 50_000 })
    const before = cache.scopeList().scopes.find((s) => s.scope === 's')?.bytes
    cache.warm(Array.from({ length: 50_000 }, (_, i) => ({ scope: 's', id: `item:${i}`, payload: i })))
    expect(table(cache, 's')).toEqual({ cap: 65_536, used: 50_000 })
    // the same blocks on both sides except the entries array (a warm sizes it to the count)
    expect(cache.scopeList().scopes.find((s) => s.scope === 's')?.bytes).toBeLessThanOrEqual(before as number)
    checkInvariants(cache)
    cache.close()
  })

  it('tombstone churn (append + delete) rehashes now and then but keeps the table small and exact', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20 })
    for (let i = 0; i < 100; i++) cache.append('s', i, { id: `a${i}` })
    let maxCap = 0
    for (let i = 100; i < 20_000; i++) {
      cache.append('s', i, { id: `a${i}` })
      cache.delete('s', { id: `a${i - 100}` })
      maxCap = Math.max(maxCap, table(cache, 's').cap)
    }
    expect(maxCap).toBeLessThanOrEqual(256) // 100 live ids: ≤ 0.625 after a rehash, ≤ 0.8 with tombstones
    for (let i = 19_900; i < 20_000; i++) expect(cache.getRaw('s', { id: `a${i}` })).toBe(String(i))
    expect(cache.getRaw('s', { id: 'a19899' })).toBeUndefined()
    checkInvariants(cache)
    cache.close()
  })

  it('hashes an id stored as bytes (what a rehash reads) exactly as the id string: ASCII, non-ASCII, empty', () => {
    const buf = Buffer.alloc(64)
    const ids = ['', 'a', 'ab', 'abc', 'item:12345', 'item:123456', 'a\u0000', '\u0000', 'é', 'aé', 'xyz\u8061', '😀', 'k😀z', '\u007f\u0080']
    for (const seed of [0, 1, 0x5bd1e995, -1]) {
      for (const id of ids) {
        const n = buf.write(id, 3, 'utf8')
        expect(hashStoredKey(buf, buf as unknown as { utf8Slice(a: number, b: number): string }, 3, n, seed), JSON.stringify(id)).toBe(hashKey(id, seed))
      }
    }
  })
})
