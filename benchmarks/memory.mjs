// Memory at 1 000 000 items: 20 scopes × 50 000 items (scopeMaxItems defaults to 100 000 per
// scope), ids `item:0000001` … `item:1000000`, 100-byte JSON payloads. Reports what the store
// charges (stats().bytes), per item and against the raw bytes (Σ id bytes + payload bytes), the
// process RSS before and after, and a JS Map<string, string> of the same ids and JSON texts
// (heapUsed growth after a full GC) for comparison. The Map is built in a child process of its
// own, so neither measurement sees the other's pages.
//
// Usage: node --expose-gc benchmarks/memory.mjs
//   (build the core first: npx tsc -p packages/core/tsconfig.build.json, or pnpm build)
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ScopeCache } from '@scopecache/core'

const SCOPES = 20
const PER_SCOPE = 50_000
const ITEMS = SCOPES * PER_SCOPE
const PAYLOAD_BYTES = 100
const MAX_STORE_BYTES = 400 * 1024 * 1024

if (typeof globalThis.gc !== 'function') {
  console.error('run with --expose-gc: node --expose-gc benchmarks/memory.mjs')
  process.exit(2)
}
const gc = () => {
  globalThis.gc()
  globalThis.gc()
}
const mem = () => process.memoryUsage()

const idOf = (n) => `item:${String(n).padStart(7, '0')}` // n = 1 … ITEMS; all ASCII, 12 bytes
const ALPHA = 'abcdefghijklmnopqrstuvwxyz'.repeat(5)
/** The payload object {"user":"u123","text":"…"}: its JSON text is exactly PAYLOAD_BYTES bytes. */
function payloadOf(n) {
  const user = `u${n}`
  const pad = PAYLOAD_BYTES - '{"user":"","text":""}'.length - user.length
  return { user, text: ALPHA.slice(n % 26, (n % 26) + pad) }
}
const payloadText = (n) => JSON.stringify(payloadOf(n))
const scopeOf = (n) => `scope:${String(Math.floor((n - 1) / PER_SCOPE)).padStart(2, '0')}`

// ---- child: the Map<string, string> of the same data, in a fresh process ------------------------
if (process.argv.includes('--map-child')) {
  gc()
  const before = mem()
  const map = new Map()
  for (let n = 1; n <= ITEMS; n++) map.set(idOf(n), payloadText(n))
  gc()
  const after = mem()
  if (map.size !== ITEMS || map.get(idOf(777_777)) !== payloadText(777_777)) throw new Error('map content')
  process.stdout.write(JSON.stringify({ before, after }))
  process.exit(0)
}

// ---- parent: the store -------------------------------------------------------------------------
const MiB = 1024 * 1024
const mib = (b) => `${(b / MiB).toFixed(1)} MiB`
const perItem = (b) => `${(b / ITEMS).toFixed(1)} B/item`
const ratio = (b, raw) => `${(b / raw).toFixed(2)}×`
const num = (b) => String(b).padStart(11)

console.log(`Node ${process.version} (V8 ${process.versions.v8})`)
console.log(`${ITEMS.toLocaleString('en')} items = ${SCOPES} scopes × ${PER_SCOPE.toLocaleString('en')}, ids ${idOf(1)} … ${idOf(ITEMS)}, ${PAYLOAD_BYTES}-byte JSON payloads`)

gc()
const m0 = mem()
const cache = ScopeCache.create({ maxStoreBytes: MAX_STORE_BYTES, scopeMaxItems: 100_000, maxItemBytes: 1 << 20 })
gc()
const m1 = mem()
let rawBytes = 0
const t0 = performance.now()
for (let n = 1; n <= ITEMS; n++) {
  const id = idOf(n)
  rawBytes += id.length + PAYLOAD_BYTES // ASCII: bytes = chars
  cache.append(scopeOf(n), payloadOf(n), { id })
}
const fillMs = performance.now() - t0
gc()
const m2 = mem()
const st = cache.stats()
if (st.items !== ITEMS || st.scopes !== SCOPES) throw new Error(`expected ${ITEMS} items in ${SCOPES} scopes, got ${st.items} in ${st.scopes}`)
for (const n of [1, 50_000, 50_001, 777_777, ITEMS]) {
  const text = payloadText(n)
  if (text.length !== PAYLOAD_BYTES) throw new Error(`payload of ${n} is ${text.length} bytes`)
  if (cache.getRaw(scopeOf(n), { id: idOf(n) }) !== text) throw new Error(`item ${n} reads back wrong`)
}
const storeRss = m2.rss - m0.rss
const sabBytes = cache.handle.buffer.byteLength

console.log('\nscopecache')
console.log(`  fill:                          ${fillMs.toFixed(0)} ms = ${((fillMs * 1e6) / ITEMS).toFixed(0)} ns/append (incl. building each id and payload object)`)
console.log(`  raw bytes (Σ id + payload):   ${num(rawBytes)} B = ${mib(rawBytes)}, ${perItem(rawBytes)}`)
console.log(`  stats().bytes (charged):      ${num(st.bytes)} B = ${mib(st.bytes)}, ${perItem(st.bytes)}, ${ratio(st.bytes, rawBytes)} raw (+${((st.bytes - rawBytes) / ITEMS).toFixed(1)} B/item)`)
console.log(`  maxStoreBytes:                ${num(st.maxStoreBytes)} B = ${mib(st.maxStoreBytes)}, ${((100 * st.bytes) / st.maxStoreBytes).toFixed(1)} % used`)
console.log(`  SharedArrayBuffer size:       ${num(sabBytes)} B = ${mib(sabBytes)} (reserved; pages are committed on first touch)`)
console.log(`  RSS before create:            ${mib(m0.rss)}`)
console.log(`  RSS after create (empty):     ${mib(m1.rss)} (+${mib(m1.rss - m0.rss)})`)
console.log(`  RSS after fill + GC:          ${mib(m2.rss)} (+${mib(storeRss)} = ${perItem(storeRss)}, ${ratio(storeRss, rawBytes)} raw)`)
console.log(`  JS heapUsed after − before:   ${mib(m2.heapUsed - m0.heapUsed)} (the items live outside the JS heap)`)
cache.close()

const child = JSON.parse(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--map-child'], { encoding: 'utf8', maxBuffer: 1 << 20 }))
const heap = child.after.heapUsed - child.before.heapUsed
const mapRss = child.after.rss - child.before.rss
console.log('\nJS Map<string, string> of the same ids and JSON texts (separate process)')
console.log(`  heapUsed growth after GC:     ${num(heap)} B = ${mib(heap)}, ${perItem(heap)}, ${ratio(heap, rawBytes)} raw`)
console.log(`  RSS before → after:           ${mib(child.before.rss)} → ${mib(child.after.rss)} (+${mib(mapRss)} = ${perItem(mapRss)}, ${ratio(mapRss, rawBytes)} raw)`)

console.log('\nsummary (per item; raw = id bytes + payload bytes)')
console.table([
  { what: 'raw ids + payloads', 'B/item': (rawBytes / ITEMS).toFixed(1), 'vs raw': '1.00×' },
  { what: 'scopecache stats().bytes', 'B/item': (st.bytes / ITEMS).toFixed(1), 'vs raw': ratio(st.bytes, rawBytes) },
  { what: 'scopecache process RSS growth', 'B/item': (storeRss / ITEMS).toFixed(1), 'vs raw': ratio(storeRss, rawBytes) },
  { what: 'Map<string,string> heapUsed growth', 'B/item': (heap / ITEMS).toFixed(1), 'vs raw': ratio(heap, rawBytes) },
  { what: 'Map<string,string> process RSS growth', 'B/item': (mapRss / ITEMS).toFixed(1), 'vs raw': ratio(mapRss, rawBytes) },
])
