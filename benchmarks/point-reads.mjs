// Point reads: 50 000 items of 100-byte JSON in one scope, ids `item:000123`, looked up in a random
// order drawn from a seeded PRNG (the same Int32Array of indices for every task). One tinybench
// run holds every task, so the ratios compare like with like:
//   scopecache getRaw / get, by id and by seq; a per-thread Map<string,string> and lru-cache
//   holding the same JSON text; and "fresh key" variants that build the id string per lookup
//   from a Buffer, because V8 caches a string's hash in the string and a reused key skips hashing.
// Each task does BATCH lookups per iteration: ns/op = mean iteration time / BATCH.
// The suite runs in the main thread, then once more in a worker attached to the same store.
//
// Usage: node benchmarks/point-reads.mjs [--quick] [--no-prewarm]
//   (build the core first: npx tsc -p packages/core/tsconfig.build.json, or pnpm build)
import os from 'node:os'
import { Buffer } from 'node:buffer'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Bench } from 'tinybench'
import { LRUCache } from 'lru-cache'
import { ScopeCache } from '@scopecache/core'

const N = 50_000
const BATCH = 1000
const SCOPE = 'bench'
const SEED = 0x5eed1234
const STREAM_LEN = 1 << 20 // 4 MiB of indices: 1 M lookups before the stream repeats
const MASK = STREAM_LEN - 1
const PAYLOAD_BYTES = 100
const ID_LEN = 11 // `item:000123`

const opts = isMainThread
  ? { quick: process.argv.includes('--quick'), prewarm: !process.argv.includes('--no-prewarm') }
  : workerData.opts
const TIME_MS = opts.quick ? 250 : 2000 // measured time budget per task
const WARMUP_MS = opts.quick ? 50 : 250 // tinybench's own warmup, just before each task

// ---- data: identical in every thread (deterministic) ------------------------------------------
const ids = Array.from({ length: N }, (_, i) => `item:${String(i).padStart(6, '0')}`)
/** Every id's bytes back to back, ID_LEN each: the source of the "fresh key" strings. */
const idBytes = Buffer.from(ids.join(''), 'latin1')
const freshKey = typeof idBytes.latin1Slice === 'function'
  ? (k) => idBytes.latin1Slice(k * ID_LEN, k * ID_LEN + ID_LEN)
  : (k) => idBytes.toString('latin1', k * ID_LEN, k * ID_LEN + ID_LEN)

/** {"user":"u123","text":"…"} padded to exactly PAYLOAD_BYTES bytes of JSON. */
function payloadOf(i) {
  const user = `u${i}`
  const pad = PAYLOAD_BYTES - JSON.stringify({ user, text: '' }).length
  let text = ''
  for (let j = 0; j < pad; j++) text += String.fromCharCode(97 + ((i + j) % 26))
  return { user, text }
}
const texts = ids.map((_, i) => JSON.stringify(payloadOf(i)))

/** mulberry32: small, fast, seedable; the stream is the same in every thread and every run. */
function mulberry32(seed) {
  let a = seed | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rnd = mulberry32(SEED)
const stream = new Int32Array(STREAM_LEN)
for (let i = 0; i < STREAM_LEN; i++) stream[i] = Math.floor(rnd() * N)

// ---- the suite -----------------------------------------------------------------------------------

/** Every lookup of every task must hit and return the expected value; run before timing. */
function verify(cache) {
  for (let i = 0; i < N; i++) {
    const seq = i + 1
    if (cache.getRaw(SCOPE, { id: ids[i] }) !== texts[i]) throw new Error(`getRaw by id wrong for ${ids[i]}`)
    if (cache.getRaw(SCOPE, { seq }) !== texts[i]) throw new Error(`getRaw by seq wrong for seq ${seq}`)
    if (cache.getRaw(SCOPE, { id: freshKey(i) }) !== texts[i]) throw new Error(`getRaw by fresh id wrong for ${ids[i]}`)
    const a = cache.get(SCOPE, { id: ids[i] })
    const b = cache.get(SCOPE, { seq })
    if (a.seq !== seq || a.id !== ids[i] || a.payload.user !== `u${i}`) throw new Error(`get by id wrong for ${ids[i]}`)
    if (b.seq !== seq || b.id !== ids[i] || b.payload.text !== a.payload.text) throw new Error(`get by seq wrong for seq ${seq}`)
  }
}

async function suite(cache, where) {
  verify(cache)
  const map = new Map()
  const lru = new LRUCache({ max: N })
  for (let i = 0; i < N; i++) {
    map.set(ids[i], texts[i])
    lru.set(ids[i], texts[i])
  }

  // The lookups of every task start at the same place in the stream (reset in beforeAll), so every
  // task reads the same keys in the same order. Each loop is written out so that each task has its
  // own call sites (a shared helper taking a callback would go megamorphic and cost every task).
  let pos = 0
  let sink = 0
  const tasks = [
    ['scopecache getRaw by id', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { id: ids[stream[p]] }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['scopecache getRaw by seq', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { seq: stream[p] + 1 }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['scopecache get by id (parsed)', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.get(SCOPE, { id: ids[stream[p]] }).payload.text.length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['scopecache get by seq (parsed)', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.get(SCOPE, { seq: stream[p] + 1 }).payload.text.length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['scopecache getRaw by id, fresh key', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { id: freshKey(stream[p]) }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['Map.get', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += map.get(ids[stream[p]]).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['Map.get, fresh key', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += map.get(freshKey(stream[p])).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['lru-cache get', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += lru.get(ids[stream[p]]).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
    ['(fresh key string alone, no lookup)', () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += freshKey(stream[p]).length; p = (p + 1) & MASK }
      pos = p; sink += n
    }],
  ]

  // Pre-warm: run every task before timing any of them, so the store's shared read path has seen
  // ids and seqs, raw and parsed reads, before the first measurement. Without it the first task
  // is timed while that path is still monomorphic and the later ones after it went polymorphic.
  if (opts.prewarm) for (let r = 0; r < 50; r++) for (const [, fn] of tasks) fn()

  const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, warmupIterations: 10, iterations: 10 })
  for (const [name, fn] of tasks) bench.add(name, fn, { beforeAll: () => { pos = 0 } })
  await bench.run()

  const failed = bench.tasks.find((t) => t.result.state !== 'completed')
  if (failed) throw failed.result.error ?? new Error(`${failed.name}: ${failed.result.state}`)
  if (sink <= 0) throw new Error('nothing read')
  const base = bench.tasks[0].result.latency.mean
  const rows = bench.tasks.map((t) => {
    const l = t.result.latency
    return {
      task: t.name,
      'ns/op': ((l.mean * 1e6) / BATCH).toFixed(0),
      'p50 ns/op': ((l.p50 * 1e6) / BATCH).toFixed(0),
      '±%': l.rme.toFixed(1),
      samples: l.samplesCount,
      'vs getRaw by id': (l.mean / base).toFixed(2) + '×',
    }
  })
  return { where, rows }
}

function print({ where, rows }) {
  console.log(`\n${where}`)
  console.table(rows)
}

// ---- main thread: create and fill the store, run the suite, then the worker runs it too ---------

if (isMainThread) {
  const cache = ScopeCache.create({ maxStoreBytes: 64 << 20, scopeMaxItems: 100_000, maxItemBytes: 1 << 20 })
  for (let i = 0; i < N; i++) cache.append(SCOPE, payloadOf(i), { id: ids[i] })
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  console.log(`Node ${process.version} (V8 ${process.versions.v8}), ${os.availableParallelism?.() ?? os.cpus().length} CPUs: ${cpu}`)
  console.log(`${N} items in one scope, ${PAYLOAD_BYTES}-byte JSON payloads, ${BATCH} random lookups per iteration (seed 0x${SEED.toString(16)})`)
  console.log(`${opts.quick ? 'quick' : 'full'} run: ${TIME_MS} ms per task after ${WARMUP_MS} ms warmup${opts.prewarm ? ', all tasks pre-warmed' : ', no pre-warm'}`)
  console.log('ns/op = mean iteration time / batch; ±% = 95% margin of error of the mean; ratio on the mean')
  const st = cache.stats()
  console.log(`store: ${st.items} items, stats().bytes ${st.bytes} (${(st.bytes / st.items).toFixed(1)} B/item)`)

  print(await suite(cache, 'main thread (owner of the store)'))

  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { handle: cache.handle, opts } })
  cache.watch(worker)
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  const fromWorker = await new Promise((resolve, reject) => {
    worker.once('message', resolve).once('error', reject)
    exited.then((code) => reject(new Error(`worker exited with code ${code} before reporting`)))
  })
  print(fromWorker)
  await exited
  cache.close()
} else {
  const cache = ScopeCache.attach(workerData.handle)
  const result = await suite(cache, 'worker thread (attached to the same store via handle; Map and lru-cache are its own copies)')
  cache.close()
  parentPort.postMessage(result)
}
