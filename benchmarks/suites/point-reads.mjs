// Point reads over 50 000 items of 100-byte JSON, random keys: scopecache against every peer in
// one run. In-process peers (Map, lru-cache, lmdb-js) run in the same worker thread as scopecache
// (tinybench, batches of 1000, see lib/measure.mjs); peers behind a round trip (Redis via ioredis,
// a cache thread via postMessage or comlink) are awaited one request at a time from the main thread.
import { ScopeCache } from '@scopecache/core'
import { dataset, MASK } from '../lib/data.mjs'
import { timeSync, timeAsync, fmtNs, round } from '../lib/measure.mjs'
import { pointTasks, SCOPE } from '../lib/point-tasks.mjs'
import { startRedis } from '../lib/redis.mjs'
import { startCacheThread } from '../lib/cache-thread-client.mjs'
import { runIfMain } from '../lib/standalone.mjs'
import { runWorker } from '../lib/worker-run.mjs'
import { openLmdb } from '../lib/lmdb.mjs'

const ASYNC_BATCH = 50

async function roundTripPeers(data, quick, progress, skipped) {
  const { ids, texts, stream } = data
  const tasks = []
  const stops = []
  const awaitedTask = (key, name, get) => {
    let pos = 0
    return { key, name, opts: { beforeAll: () => { pos = 0 } }, fn: async () => {
      for (let i = 0; i < ASYNC_BATCH; i++) {
        const v = await get(ids[stream[pos]])
        if (v.length !== 100) throw new Error(`${name}: wrong value`)
        pos = (pos + 1) & MASK
      }
    } }
  }
  const redis = await startRedis()
  if (redis.skip) skipped.push({ what: 'Redis (ioredis GET)', why: redis.skip })
  else {
    stops.push(redis.stop)
    for (let i = 0; i < data.n; i += 1000) {
      const p = redis.client.pipeline()
      for (let j = i; j < Math.min(i + 1000, data.n); j++) p.set(ids[j], texts[j])
      await p.exec()
    }
    if ((await redis.client.get(ids[777])) !== texts[777]) throw new Error('redis: wrong value')
    tasks.push(awaitedTask('redis.get', `Redis GET via ioredis, awaited (${redis.version})`, (k) => redis.client.get(k)))
  }
  for (const mode of ['postMessage', 'comlink']) {
    const t = await startCacheThread(mode)
    stops.push(t.stop)
    if ((await t.get(ids[777])) !== texts[777]) throw new Error(`${mode}: wrong value`)
    tasks.push(awaitedTask(mode === 'comlink' ? 'comlink.get' : 'postMessage.get', mode === 'comlink' ? 'cache thread via comlink, awaited' : 'cache thread via postMessage, awaited', t.get))
  }
  try {
    const rows = await timeAsync(tasks, { quick, batch: ASYNC_BATCH, progress })
    return rows.map((r, i) => ({ ...r, key: tasks[i].key }))
  } finally {
    for (const stop of stops) await stop()
  }
}

const suite = {
  id: 'point-reads',
  title: 'Point reads: random get over 50 000 items of 100-byte JSON',
  async run({ quick, progress }) {
    const data = dataset()
    const skipped = []
    progress('filling scopecache and lmdb with 50 000 items')
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    for (let i = 0; i < data.n; i++) cache.append(SCOPE, data.payloads[i], { id: data.ids[i] })
    const lmdb = await openLmdb(data, skipped)
    try {
      const { rows: worker, coresUsed } = await runWorker(new URL('./point-reads-worker.mjs', import.meta.url), { cache, workerData: { lmdbPath: lmdb?.path, quick }, progress })
      let main = []
      if (!quick) {
        const { tasks, check } = pointTasks({ cache, lmdb: lmdb?.db, data })
        main = timeSync(tasks, { quick, progress: (m) => progress(`main thread: ${m}`) }).map((r, i) => ({ ...r, key: tasks[i].key }))
        check()
      }
      const remote = await roundTripPeers(data, quick, (m) => progress(`main thread: ${m}`), skipped)
      return report({ worker, main, remote, skipped, quick, coresUsed })
    } finally {
      cache.close()
      await lmdb?.close()
    }
  },
}

function report({ worker, main, remote, skipped, quick, coresUsed }) {
  const base = worker.find((r) => r.key === 'scopecache.getRaw.id').ns
  const figures = { 'point.worker.coresUsed': round(coresUsed, 2) }
  const line = (where, r) => {
    figures[`point.${where}.${r.key}.ns`] = round(r.ns, 1)
    figures[`point.${where}.${r.key}.ratio`] = round(r.ns / base, 3)
    return [r.name, where === 'worker' ? 'worker' : 'main', fmtNs(r.ns), fmtNs(r.mean), `±${r.rme.toFixed(1)}%`, `${(r.ns / base).toFixed(r.ns / base < 10 ? 2 : 0)}×`]
  }
  const columns = ['case', 'thread', 'median /op', 'mean /op', '± (mean)', '× scopecache getRaw by id']
  const tables = [{ title: 'In-process reads, one worker thread (attached to the store)', columns, rows: worker.map((r) => line('worker', r)) }]
  if (main.length) tables.push({ title: 'In-process reads, main thread (owner of the store)', columns, rows: main.map((r) => line('main', r)) })
  tables.push({ title: 'Reads across a thread or socket (awaited one at a time, main thread)', columns, rows: remote.map((r) => line('main', r)) })
  const bars = [...worker, ...remote].filter((r) => !r.key.includes('fresh')).map((r) => ({ label: r.name.replace(/ \(.*\)$/, ''), value: r.ns, highlight: r.key.startsWith('scopecache') }))
  return {
    tables,
    figures,
    charts: [{ id: 'point-reads', type: 'hbar-log', title: 'Point read latency, random over 50 000 items (ns/op, log scale, shorter is faster)', unit: 'ns', bars }],
    notes: [
      `In-process rows: tinybench runSync, ${quick ? '250' : '1500'} ms per task after warm-up, each iteration 1000 random lookups (seeded stream, same keys for every peer), ns/op = median iteration time / 1000 (mean beside it); every task pre-warmed before any is timed.`,
      `Round-trip rows: each iteration awaits ${ASYNC_BATCH} requests one after the other; Redis is a private redis-server on 127.0.0.1 (no persistence), the cache thread holds a Map and answers one key per message.`,
      `The worker thread got ${coresUsed.toFixed(2)} of 1 CPU core while its tasks ran (process CPU time ÷ wall time); below ~0.95, other processes on the machine took CPU during the measurement.`,
      'Every peer is checked to return the exact 100-byte text for every key before timing. "fresh key string" rows build the id from bytes per lookup, as a request parser would (V8 caches a string\'s hash in the string).',
    ],
    skipped,
  }
}

export default suite
await runIfMain(import.meta, suite)
