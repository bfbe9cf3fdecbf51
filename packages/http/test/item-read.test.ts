import { ScopeCache } from '@scopecache/core'
import { expect, it } from 'vitest'
import { readItem } from '../src/item-read.js'

it('reads meta and exact payload text by id and by seq in one read', () => {
  const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
  cache.append('s', 0)
  cache.append('s', 0, { id: 'x' })
  cache.upsert('s', 'a', JSON.parse('{"v":1}'))
  const meta = cache.get('s', { id: 'a' })!
  expect(readItem(cache, 's', { id: 'a' })).toEqual({ id: 'a', seq: meta.seq, ts: meta.ts, expiresTs: null, text: '{"v":1}' })
  expect(readItem(cache, 's', { seq: 2 })).toMatchObject({ id: 'x', seq: 2, text: '0' })
  expect(readItem(cache, 's', { id: 'zz' })).toBeUndefined()
  expect(readItem(cache, 's', { seq: 9 })).toBeUndefined()
  expect(readItem(cache, 'none', { seq: 1 })).toBeUndefined()
  cache.delete('s', { seq: 2 })
  // by seq never returns the next item instead
  expect(readItem(cache, 's', { seq: 2 })).toBeUndefined()
  cache.close()
})
