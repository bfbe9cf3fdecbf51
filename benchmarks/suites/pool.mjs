// Reads inside a pool worker: a task reads 100 items by id, via
//   scopecache   the store shared with the owner (workerCache().get / getRaw), no copies made
//                ahead, no messages;
//   owner thread asking the thread that owns a Map of the data, per read or per 100 ids, over a
//                raw MessagePort (postMessage) and over comlink;
//   lru-cache    a per-worker copy of the data (each worker holds and warms its own).
// ns per read is measured inside the worker; the median of several tasks is reported, with
// each path's ratio to scopecache.get. 10 000 items of ~100-byte JSON in one scope.
import os from 'node:os'
import { MessageChannel } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { expose } from 'comlink'
import nodeEndpoint from 'comlink/dist/umd/node-adapter.js'
import { ScopeCache } from '@scopecache/core'
import { createCachePool } from '@scopecache/pool'

const N = 10_000
const SCOPE = 'bench'
const ALPHA = 'abcdefghijklmnopqrstuvwxyz'.repeat(5)
const idOf = (i) => `item:${String(i).padStart(6, '0')}`
const payloadOf = (i) => ({ user: `u${i}`, text: ALPHA.slice(i % 26, (i % 26) + 76 - String(i).length) })

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const suite = {
  id: 'pool',
  title: 'Pool workers: 100 reads by id per task — shared store vs asking the owner thread vs per-worker lru-cache',
  async run({ quick, progress }) {
    const payloads = Array.from({ length: N }, (_, i) => payloadOf(i))
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    cache.warm(payloads.map((payload, i) => ({ scope: SCOPE, id: idOf(i), payload })))
    const owner = new Map(payloads.map((p, i) => [idOf(i), p]))

    const pool = createCachePool({
      cache,
      filename: new URL('./pool-worker.mjs', import.meta.url),
      minThreads: 1,
      maxThreads: 1,
      workerData: { scope: SCOPE, n: N, payloads },
    })
    const raw = new MessageChannel()
    raw.port1.on('message', (m) => raw.port1.postMessage(m.ids ? m.ids.map((id) => owner.get(id)) : owner.get(m.id)))
    const cl = new MessageChannel()
    expose({ get: (id) => owner.get(id), getMany: (ids) => ids.map((id) => owner.get(id)) }, nodeEndpoint(cl.port1))
    await pool.run({ rawPort: raw.port2, comlinkPort: cl.port2 }, { name: 'connect', transferList: [raw.port2, cl.port2] })

    const tasks = quick ? 3 : 15
    // rounds of 100 reads per task, chosen so that each task takes ~50-200 ms on this VM
    const paths = [
      ['scopecache.get', quick ? 200 : 1000],
      ['scopecache.getRaw', quick ? 200 : 1000],
      ['lru', quick ? 200 : 1000],
      ['postMessage', quick ? 5 : 20],
      ['postMessage.batch', quick ? 50 : 200],
      ['comlink', quick ? 5 : 20],
      ['comlink.batch', quick ? 50 : 200],
    ]
    const results = {}
    const samples = Object.fromEntries(paths.map(([p]) => [p, []]))
    try {
      for (const [path, rounds] of paths) await pool.run({ path, rounds, seed: 1 }, { name: 'read' }) // warm-up (JIT, lru fill)
      // Paths take turns, task by task, so a burst of load on this shared VM hits them all alike.
      for (let t = 0; t < tasks; t++) {
        for (const [path, rounds] of paths) samples[path].push(await pool.run({ path, rounds, seed: 100 + t }, { name: 'read' }))
        progress(`pool: round ${t + 1}/${tasks}`)
      }
      for (const [path, rounds] of paths) {
        const xs = samples[path]
        results[path] = { ns: median(xs), min: Math.min(...xs), max: Math.max(...xs), reads: rounds * 100 * tasks }
      }
    } finally {
      await pool.run(null, { name: 'close' })
      await pool.close()
      raw.port1.close()
      cl.port1.close()
    }

    const base = results['scopecache.get'].ns
    const label = {
      'scopecache.get': 'scopecache get (parsed), shared store',
      'scopecache.getRaw': 'scopecache getRaw (JSON text), shared store',
      lru: 'lru-cache, per-worker copy',
      postMessage: 'owner Map over postMessage, 1 round trip per read',
      'postMessage.batch': 'owner Map over postMessage, 1 round trip per 100 ids',
      comlink: 'owner Map over comlink, 1 call per read',
      'comlink.batch': 'owner Map over comlink, 1 call per 100 ids',
    }
    const round = (x) => (x >= 100 ? Math.round(x) : Math.round(x * 10) / 10)
    return {
      tables: [{
        title: `Reads by id inside a piscina worker (${N} items of ~100-byte JSON; median of ${tasks} tasks)`,
        columns: ['path', 'ns/read', 'min', 'max', 'reads timed', '× scopecache get'],
        rows: paths.map(([p]) => [label[p], round(results[p].ns), round(results[p].min), round(results[p].max), results[p].reads, Math.round((results[p].ns / base) * 100) / 100]),
      }],
      figures: Object.fromEntries(paths.map(([p]) => [`pool.ns_per_read.${p}`, round(results[p].ns)])),
      notes: [
        'one pool of 1 worker (createCachePool, default atomics); each task reads 100 ids per round from a fixed LCG, the same ids for every path',
        'ns/read = process.hrtime.bigint() around the task body inside the worker / reads; piscina dispatch is excluded (it is the same for every path)',
        'owner paths: the main thread holds a Map of the same payload objects and answers each message; replies are structured clones',
        'lru-cache: filled once per worker before timing (its warm-up is not counted, nor is its memory: one copy per worker); get returns the stored object itself, while scopecache get parses a fresh copy (getRaw returns the JSON text) and the owner paths return structured clones',
        `node ${process.version}, ${quick ? 'quick' : 'full'} mode, ${os.cpus().length} CPUs, load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      ],
      skipped: [],
    }
  },
}

export default suite

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await suite.run({ quick: process.argv.includes('--quick'), progress: (m) => process.stderr.write(m + '\n') })
  console.log(JSON.stringify(r, null, 2))
}
