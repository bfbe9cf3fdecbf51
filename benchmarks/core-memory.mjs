// Bytes per item at 1 000 000 items (20 scopes × 50 000, ids like `item:0000001`, ~100-byte JSON
// payloads): the store's charged bytes and the process RSS, against the raw bytes of ids + payloads
// and a JS Map<string, string> of the same data (heap growth after GC).
// Usage: node --expose-gc benchmarks/core-memory.mjs       (run `pnpm build` first)
import { ScopeCache } from '@scopecache/core'

const SCOPES = 20
const PER = 50_000
const gc = globalThis.gc ?? (() => {})
const payload = (i) => JSON.stringify({ user: i, text: 'x'.repeat(100 - 23 - String(i).length) })
const mb = (b) => (b / 1048576).toFixed(1) + ' MiB'

let raw = 0
gc()
const rss0 = process.memoryUsage().rss
const cache = ScopeCache.create({ maxStoreBytes: 400 << 20 })
const t0 = performance.now()
for (let s = 0; s < SCOPES; s++) {
  for (let i = 0; i < PER; i++) {
    const n = s * PER + i
    const id = `item:${String(n).padStart(7, '0')}`
    const p = payload(n)
    raw += id.length + p.length
    cache.append(`scope:${s}`, p, { id })
  }
}
const ms = performance.now() - t0
gc()
const st = cache.stats()
const rss1 = process.memoryUsage().rss
console.log(`Node ${process.version}: ${st.items} items in ${st.scopes} scopes, appended in ${ms.toFixed(0)} ms (${((st.items / ms) * 1000).toFixed(0)} items/s)`)
console.log(`raw ids + payloads:        ${mb(raw)} (${(raw / st.items).toFixed(1)} B/item)`)
console.log(`scopecache charged bytes:  ${mb(st.bytes)} (${(st.bytes / st.items).toFixed(1)} B/item, ${(st.bytes / raw).toFixed(2)}× raw)`)
console.log(`process RSS growth:        ${mb(rss1 - rss0)} (${((rss1 - rss0) / st.items).toFixed(1)} B/item)`)
cache.close()

gc()
const heap0 = process.memoryUsage().heapUsed
const map = new Map()
for (let n = 0; n < SCOPES * PER; n++) map.set(`item:${String(n).padStart(7, '0')}`, payload(n))
gc()
const heap1 = process.memoryUsage().heapUsed
console.log(`JS Map<string,string>:     ${mb(heap1 - heap0)} heap (${((heap1 - heap0) / map.size).toFixed(1)} B/item, ${((heap1 - heap0) / raw).toFixed(2)}× raw)`)
