import { ScopeCache } from '@scopecache/core'
import { expect, it } from 'vitest'
import { readItem } from '../src/item-read.js'

it('reads meta and exact payload text by id and by seq, with and without the core read record', () => {
  const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
  cache.append('s', 0)
  cache.append('s', 0, { id: 'x' })
  cache.upsert('s', 'a', JSON.parse('{"v":1}'))
  const meta = cache.get('s', { id: 'a' })!
  // a facade with only the public methods: exercises the fallback path
  const facade = {
    getRaw: cache.getRaw.bind(cache),
    get: cache.get.bind(cache),
    head: cache.head.bind(cache),
  } as unknown as ScopeCache
  for (const c of [cache, facade]) {
    expect(readItem(c, 's', { id: 'a' })).toEqual({ id: 'a', seq: meta.seq, ts: meta.ts, text: '{"v":1}' })
    expect(readItem(c, 's', { seq: 2 })).toMatchObject({ id: 'x', seq: 2, text: '0' })
    expect(readItem(c, 's', { id: 'zz' })).toBeUndefined()
    expect(readItem(c, 's', { seq: 9 })).toBeUndefined()
    expect(readItem(c, 'none', { seq: 1 })).toBeUndefined()
  }
  cache.delete('s', { seq: 2 })
  // by seq never returns the next item instead
  expect(readItem(cache, 's', { seq: 2 })).toBeUndefined()
  cache.close()
})
