import { ScopeCache, ScopeCacheError, rawJson } from '../packages/core/dist/index.js'

const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
cache.append('thread:123', { from: 'ann', text: 'hi' }, { id: 'm1' })
cache.append('thread:123', rawJson('{"from":"bob", "text":"hey"}'), { id: 'm2' })
console.log(cache.get('thread:123', { id: 'm1' }))
console.log(cache.getRaw('thread:123', { seq: 2 }))
console.log(cache.tail('thread:123', { limit: 1 }))
console.log(cache.counterAdd('counters', 'visits', 5))
try {
  cache.append('thread:123', 'dup', { id: 'm1' })
} catch (e) {
  if (e instanceof ScopeCacheError) console.log(e.code, '-', e.message)
}
console.log(cache.stats())
