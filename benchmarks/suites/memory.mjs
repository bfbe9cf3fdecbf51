// Memory at 1 000 000 items: 20 scopes × 50 000, ids `item:0000001` … (12 bytes), 100-byte JSON
// payloads. What the store charges (stats().bytes) and the process RSS it grows by, against the
// raw bytes (Σ id + payload bytes), a JS Map<string, string> of the same ids and texts (heapUsed
// growth after a full GC), and Redis used_memory for the same keys and values. Each store is
// filled in a fresh child process of its own, so no measurement sees another's pages.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { ScopeCache } from '@scopecache/core'
import { payloadOf } from '../lib/data.mjs'
import { round } from '../lib/measure.mjs'
import { startRedis } from '../lib/redis.mjs'

const SCOPES = 20
const PER_SCOPE = 50_000
const ITEMS = SCOPES * PER_SCOPE
const PAYLOAD_BYTES = 100
const idOf = (n) => `item:${String(n).padStart(7, '0')}` // n = 1 … ITEMS
const scopeOf = (n) => `scope:${String(Math.floor((n - 1) / PER_SCOPE)).padStart(2, '0')}`
const RAW = ITEMS * (12 + PAYLOAD_BYTES)

function gc() { globalThis.gc(); globalThis.gc() }

// ---- children: one store each, in a fresh process ------------------------------------------------
function childScopecache() {
  gc()
  const m0 = process.memoryUsage()
  const cache = ScopeCache.create({ maxStoreBytes: 400 << 20, scopeMaxItems: 100_000 })
  const t0 = performance.now()
  for (let n = 1; n <= ITEMS; n++) cache.append(scopeOf(n), payloadOf(n), { id: idOf(n) })
  const fillMs = performance.now() - t0
  gc()
  const m1 = process.memoryUsage()
  const st = cache.stats()
  if (st.items !== ITEMS) throw new Error(`expected ${ITEMS} items, got ${st.items}`)
  for (const n of [1, 50_001, 777_777, ITEMS]) if (cache.getRaw(scopeOf(n), { id: idOf(n) }) !== JSON.stringify(payloadOf(n))) throw new Error(`item ${n} reads back wrong`)
  return { bytes: st.bytes, rss: m1.rss - m0.rss, heap: m1.heapUsed - m0.heapUsed, fillMs, sab: cache.handle.buffer.byteLength }
}

function childMap() {
  gc()
  const m0 = process.memoryUsage()
  const map = new Map()
  for (let n = 1; n <= ITEMS; n++) map.set(idOf(n), JSON.stringify(payloadOf(n)))
  gc()
  const m1 = process.memoryUsage()
  if (map.size !== ITEMS || map.get(idOf(777_777)) !== JSON.stringify(payloadOf(777_777))) throw new Error('map content')
  return { heap: m1.heapUsed - m0.heapUsed, rss: m1.rss - m0.rss }
}

const child = process.argv.find((a) => a.startsWith('--child='))?.slice(8)
if (child) {
  if (typeof globalThis.gc !== 'function') throw new Error('child needs --expose-gc')
  process.stdout.write(JSON.stringify(child === 'map' ? childMap() : childScopecache()))
  process.exit(0)
}

async function inChild(kind) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--child=${kind}`], { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 300_000 })
  return JSON.parse(stdout)
}

async function redisMemory(skipped, progress) {
  const redis = await startRedis()
  if (redis.skip) { skipped.push({ what: 'Redis used_memory', why: redis.skip }); return null }
  const c = redis.client
  const used = async () => {
    const info = await c.info('memory')
    const get = (k) => Number(info.match(new RegExp(`^${k}:(\\d+)`, 'm'))?.[1])
    return { used: get('used_memory'), rss: get('used_memory_rss') }
  }
  try {
    const m0 = await used()
    for (let n = 1; n <= ITEMS; n += 10_000) {
      if ((n - 1) % 200_000 === 0) progress(`Redis: SET ${n - 1} / ${ITEMS}`)
      const p = c.pipeline()
      for (let k = n; k < n + 10_000; k += 500) {
        const kv = []
        for (let j = k; j < k + 500; j++) kv.push(idOf(j), JSON.stringify(payloadOf(j)))
        p.mset(kv)
      }
      await p.exec()
    }
    if ((await c.dbsize()) !== ITEMS) throw new Error('redis dbsize')
    const m1 = await used()
    return { used: m1.used - m0.used, rss: m1.rss - m0.rss, version: redis.version }
  } finally {
    await redis.stop()
  }
}

const suite = {
  id: 'memory',
  title: 'Memory: bytes per item at 1 000 000 items',
  async run({ progress }) {
    const skipped = []
    // The three fills run at once (memory, not time, is measured here): each in its own process.
    progress('filling scopecache, a Map and Redis with 1 000 000 items each, in parallel')
    const [sc, map, redis] = await Promise.all([inChild('scopecache'), inChild('map'), redisMemory(skipped, progress)])
    const per = (b) => (b / ITEMS).toFixed(1)
    const x = (b) => `${(b / RAW).toFixed(2)}×`
    const rows = [
      ['raw ids + payloads (12 + 100 bytes)', per(RAW), '1.00×'],
      ['scopecache `stats().bytes` (charged against maxStoreBytes)', per(sc.bytes), x(sc.bytes)],
      ['scopecache process RSS growth', per(sc.rss), x(sc.rss)],
      ['JS Map<string,string>: heapUsed growth after GC', per(map.heap), x(map.heap)],
      ['JS Map<string,string>: process RSS growth', per(map.rss), x(map.rss)],
    ]
    if (redis) rows.push([`Redis used_memory growth (${redis.version})`, per(redis.used), x(redis.used)], ['Redis used_memory_rss growth', per(redis.rss), x(redis.rss)])
    const figures = {
      'memory.raw.perItem': RAW / ITEMS,
      'memory.scopecache.bytesPerItem': round(sc.bytes / ITEMS, 1),
      'memory.scopecache.bytesVsRaw': round(sc.bytes / RAW, 3),
      'memory.scopecache.rssPerItem': round(sc.rss / ITEMS, 1),
      'memory.map.heapPerItem': round(map.heap / ITEMS, 1),
      'memory.map.heapVsRaw': round(map.heap / RAW, 3),
      'memory.map.rssPerItem': round(map.rss / ITEMS, 1),
      ...(redis ? { 'memory.redis.usedPerItem': round(redis.used / ITEMS, 1), 'memory.redis.usedVsRaw': round(redis.used / RAW, 3), 'memory.redis.rssPerItem': round(redis.rss / ITEMS, 1) } : {}),
    }
    return {
      tables: [{ title: '1 000 000 items (20 scopes × 50 000)', columns: ['store', 'bytes/item', '× raw'], rows }],
      figures,
      notes: [
        'Each store is filled in its own fresh process (node --expose-gc; the three fills run at the same time); RSS and heap growth are measured after two full GCs. scopecache and the Map are filled one item at a time (append / set); Redis by pipelined MSETs (500 keys each) of the same id → JSON text (plain string keys; Redis has no scopes).',
        `scopecache's RSS growth includes the touched pages of its ${(sc.sab / 2 ** 20).toFixed(0)} MiB SharedArrayBuffer reservation (the heap is reserved at 2× maxStoreBytes for warm/rebuild; Linux commits pages on first touch).`,
      ],
      skipped,
    }
  },
}

export default suite
const { runIfMain } = await import('../lib/standalone.mjs')
await runIfMain(import.meta, suite)
