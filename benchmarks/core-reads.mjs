// Point reads over 50 000 items of ~100-byte JSON, random keys from a seeded stream, measured
// with tinybench in one run beside a per-thread Map and lru-cache (the lower bounds). Each task
// does BATCH lookups per iteration; ns/op = mean iteration time / BATCH.
// Usage: node benchmarks/core-reads.mjs [--quick]      (run `pnpm build` first)
import { Bench } from 'tinybench'
import { LRUCache } from 'lru-cache'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { ScopeCache } from '@scopecache/core'

const N = 50_000
const BATCH = 1000
const quick = process.argv.includes('--quick') || workerData?.quick
const time = quick ? 300 : 1500
const ids = Array.from({ length: N }, (_, i) => `item:${String(i).padStart(6, '0')}`)
const idBufs = ids.map((id) => Buffer.from(id))
let s = 12345
const stream = Int32Array.from({ length: 1 << 16 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % N))
const payload = (i) => JSON.stringify({ user: i, text: 'x'.repeat(100 - 23 - String(i).length) })

async function suite(cache, label) {
  const map = new Map(ids.map((id, i) => [id, payload(i)]))
  const lru = new LRUCache({ max: 100_000 })
  ids.forEach((id, i) => lru.set(id, payload(i)))
  let at = 0
  const next = () => stream[(at = (at + 1) & 0xffff)]
  // Each task gets its own copy of the loop (new Function), so its call site stays monomorphic:
  // one shared closure would make every task pay for the others' megamorphic inline cache.
  const batch = (f) => new Function('f', 'next', 'BATCH', 'return () => { let n = 0; for (let i = 0; i < BATCH; i++) n += f(next()).length; return n }')(f, next, BATCH)
  const bench = new Bench({ time, warmupTime: 100 })
  bench
    .add('scopecache getRaw by id', batch((k) => cache.getRaw('bench', { id: ids[k] })))
    .add('scopecache getRaw by seq', batch((k) => cache.getRaw('bench', { seq: k + 1 })))
    .add('scopecache getRaw by id, fresh key string', batch((k) => cache.getRaw('bench', { id: idBufs[k].latin1Slice(0, 11) })))
    .add('scopecache get by id (parsed)', batch((k) => cache.get('bench', { id: ids[k] }).payload.text))
    .add('scopecache get by seq (parsed)', batch((k) => cache.get('bench', { seq: k + 1 }).payload.text))
    .add('Map.get', batch((k) => map.get(ids[k])))
    .add('Map.get, fresh key string', batch((k) => map.get(idBufs[k].latin1Slice(0, 11))))
    .add('lru-cache get', batch((k) => lru.get(ids[k])))
  await bench.run()
  const base = bench.tasks[0].result.latency.mean / BATCH
  const rows = bench.tasks.map((t) => {
    const ns = (t.result.latency.mean * 1e6) / BATCH
    return { task: t.name, 'ns/op': ns.toFixed(0), 'vs getRaw by id': (ns / (base * 1e6)).toFixed(2) + '×' }
  })
  return { label, rows }
}

if (isMainThread) {
  const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
  ids.forEach((id, i) => cache.append('bench', JSON.parse(payload(i)), { id }))
  console.log(`Node ${process.version}, ${N} items, ~100-byte payloads, ${quick ? 'quick' : 'full'} run`)
  const main = await suite(cache, 'main thread')
  console.log(`\n${main.label}`)
  console.table(main.rows)
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { handle: cache.handle, quick } })
  const inWorker = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject))
  console.log(`\n${inWorker.label}`)
  console.table(inWorker.rows)
  console.log(`\nmemory: stats().bytes = ${cache.stats().bytes} for ${N} items = ${(cache.stats().bytes / N).toFixed(1)} B/item`)
  cache.close()
} else {
  const cache = ScopeCache.attach(workerData.handle)
  parentPort.postMessage(await suite(cache, 'worker thread (attached to the main thread\'s store)'))
  cache.close()
}
