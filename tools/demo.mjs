// The README's main command: one store, four worker threads writing and reading it at once.
// Writers append events into shared scopes; readers read them by id and seq straight from
// shared memory (no messages), and everyone reports what it saw.
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { ScopeCache } from '../packages/core/dist/index.js'

const WRITES = 20_000
const READS = 200_000

if (isMainThread) {
  const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
  cache.append('config', { motd: 'hello from the main thread' }, { id: 'motd' })
  const roles = ['writer', 'writer', 'reader', 'reader']
  const t0 = performance.now()
  const results = await Promise.all(
    roles.map((role, w) => {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { handle: cache.handle, role, w } })
      cache.watch(worker)
      return new Promise((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })
    }),
  )
  const ms = performance.now() - t0
  for (const r of results) console.log(r)
  const stats = cache.stats()
  console.log('store:', stats)
  console.log('scopes:', cache.scopeList().scopes.map((s) => `${s.scope} items=${s.itemCount} lastSeq=${s.lastSeq} reads=${s.readCountTotal}`))
  console.log(`4 threads, ${2 * WRITES} writes and ${2 * READS} reads in ${ms.toFixed(0)} ms`)
  cache.close()
} else {
  const { handle, role, w } = workerData
  const cache = ScopeCache.attach(handle)
  const motd = cache.get('config', { id: 'motd' }).payload.motd
  if (role === 'writer') {
    for (let n = 1; n <= WRITES; n++) {
      cache.append(`events:${n % 4}`, { writer: w, n, at: Date.now() }, { id: `w${w}-${n}` })
      if (n % 5000 === 0) cache.trim(`events:${n % 4}`, { keep: 2000 })
    }
    parentPort.postMessage(`thread ${w} (writer): wrote ${WRITES} events; read motd "${motd}"`)
  } else {
    let hits = 0
    let misses = 0
    let tails = 0
    for (let i = 0; i < READS; i++) {
      const writer = i % 2
      const n = 1 + ((i * 7919) % WRITES)
      const item = cache.get(`events:${n % 4}`, { id: `w${writer}-${n}` })
      if (item !== undefined && item.payload.n === n) hits++
      else misses++
      if (i % 1000 === 0) tails += cache.tail(`events:${i % 4}`, { limit: 10 }).items.length
    }
    parentPort.postMessage(`thread ${w} (reader): ${hits} hits, ${misses} misses (not yet written or trimmed), ${tails} items via tail; read motd "${motd}"`)
  }
  cache.close()
}
