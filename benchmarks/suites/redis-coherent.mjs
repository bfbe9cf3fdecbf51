// Many machines (issue 14, @scopecache/redis): what coherence through Redis costs, against a
// private redis-server (lib/redis.mjs starts it, as for the Redis peer rows).
//   1. local reads: get through a coherent node against get on a plain store holding the same
//      items, in interleaved rounds, median of per-round ratios (coherence must not tax reads);
//   2. writes: an awaited upsert through the node (published to Redis, then applied here) against
//      an upsert on the plain store, interleaved async rounds;
//   3. propagation: node A (this thread) writes at a steady pace, node B (a worker thread with its
//      own store and event loop) applies them; the delay from A's clock at publication to B's
//      apply, as B measured it (stats().coherence.propagationMs), one host.
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { createCoherentCache } from '@scopecache/redis'
import { runIfMain } from '../lib/standalone.mjs'
import { asyncRounds, fmtNs, median, round } from '../lib/measure.mjs'
import { roundRatio, timeRounds } from '../lib/rounds.mjs'
import { REDIS_PORT, startRedis } from '../lib/redis.mjs'

const N = 512
const BATCH = 1000
const WRITE_BATCH = 50

if (!isMainThread) {
  // node B: follows the group until told to report
  const node = await createCoherentCache({ cache: ScopeCache.create({ maxStoreBytes: 64 << 20 }), redis: workerData.url, group: workerData.group, mode: 'replicate', log: () => {} })
  parentPort.postMessage({ ready: true })
  parentPort.once('message', async () => {
    const c = node.stats().coherence
    await node.close()
    node.cache.close()
    parentPort.postMessage({ stats: c })
  })
}


async function run({ quick, progress }) {
  const redis = await startRedis()
  if (redis.skip) return { tables: [], figures: {}, notes: [], skipped: [redis.skip] }
  const url = `redis://127.0.0.1:${REDIS_PORT}`
  try {
    const node = await createCoherentCache({ cache: ScopeCache.create({ maxStoreBytes: 64 << 20 }), redis: url, group: 'bench', mode: 'replicate', log: () => {} })
    const plain = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    const ids = Array.from({ length: N }, (_, i) => `k${i}`)
    for (const id of ids) {
      await node.upsert('view', id, { text: 'x'.repeat(80), id })
      plain.upsert('view', id, { text: 'x'.repeat(80), id })
    }
    // 1. reads
    let x = 0
    const reads = [
      { key: 'coherent', fn: () => { for (let i = 0; i < BATCH; i++) x += node.getRaw('view', { id: ids[i & (N - 1)] }).length } },
      { key: 'plain', fn: () => { for (let i = 0; i < BATCH; i++) x += plain.getRaw('view', { id: ids[i & (N - 1)] }).length } },
    ]
    const rounds = quick ? 7 : 21
    const rns = timeRounds(reads, { rounds, sliceMs: quick ? 40 : 150, progress: (m) => progress(`redis-coherent: reads, ${m}`) })
    const readRatio = roundRatio(rns.coherent, rns.plain)
    // 2. writes
    progress('redis-coherent: writes')
    let w = 0
    const writes = [
      { key: 'coherent', fn: async () => { for (let i = 0; i < WRITE_BATCH; i++) await node.upsert('w', ids[w++ & (N - 1)], { n: w }) } },
      { key: 'plain', fn: async () => { for (let i = 0; i < WRITE_BATCH; i++) plain.upsert('w', ids[w++ & (N - 1)], { n: w }) } },
    ]
    const wns = await asyncRounds(writes, { rounds: quick ? 5 : 15, sliceMs: quick ? 60 : 200, batch: WRITE_BATCH, warmups: 3, minSamples: 3 })
    const writeRatio = roundRatio(wns.coherent, wns.plain)
    // 3. propagation to a node in another thread
    progress('redis-coherent: propagation')
    const b = new Worker(new URL(import.meta.url), { workerData: { url, group: 'bench' } })
    await new Promise((r) => b.once('message', r))
    const count = quick ? 500 : 3000
    for (let i = 0; i < count; i++) {
      await node.upsert('prop', `k${i & 63}`, { i })
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1)) // a steady pace, not a flood
    }
    await new Promise((r) => setTimeout(r, 200))
    b.postMessage('report')
    const { stats } = await new Promise((r) => b.once('message', r))
    await new Promise((r) => b.once('exit', r))
    const p = stats.propagationMs
    await node.close()
    node.cache.close()
    plain.close()
    if (x === 0.5) console.log(x)
    const figures = {
      'redis.read.vsPlain': round(readRatio.median, 3),
      'redis.write.us': round(median(wns.coherent) / 1000, 1),
      'redis.propagation.p50_ms': round(p.p50, 2),
      'redis.propagation.p99_ms': round(p.p99, 2),
    }
    return {
      tables: [
        { title: 'Local reads: getRaw through a coherent node vs a plain store (512 items of ~100 B)', columns: ['case', 'ns/op (median of rounds)', 'ratio (median of per-round ratios)'], rows: [
          ['node.getRaw (coherent, replicate mode)', fmtNs(median(rns.coherent)), `${readRatio.median.toFixed(3)}× (range ${readRatio.min.toFixed(2)}–${readRatio.max.toFixed(2)})`],
          ['cache.getRaw (plain store)', fmtNs(median(rns.plain)), '1.00×'],
        ] },
        { title: 'Writes: awaited upsert, published to Redis then applied here', columns: ['case', 'per write (median of rounds)', 'ratio'], rows: [
          ['node.upsert (script: fence + XADD, then local apply)', `${round(median(wns.coherent) / 1000, 1)} µs`, `${writeRatio.median.toFixed(0)}× the plain upsert`],
          ['cache.upsert (plain store)', fmtNs(median(wns.plain)), '1.00×'],
        ] },
        { title: 'Propagation: A (main thread) → Redis → B (worker thread), one host', columns: ['writes applied by B', 'p50', 'p99', 'max'], rows: [
          [p.count, `${round(p.p50, 2)} ms`, `${round(p.p99, 2)} ms`, `${round(p.max, 2)} ms`],
        ] },
      ],
      figures,
      notes: [
        `Reads: ${rounds} interleaved rounds of batches of ${BATCH} getRaw calls; node.getRaw is the store's own getRaw, bound: the ratio is the cost of the indirection. ${redis.version}.`,
        `Writes: batches of ${WRITE_BATCH} awaited upserts, interleaved with the plain store's; one connection, no pipelining (each write waits for its script's answer).`,
        `Propagation: ${count} writes, 10 at a time then a 1 ms pause; B's delays over the last 4096 entries, measured from A's clock at publication (performance.timeOrigin + now()) to B's apply.`,
      ],
      skipped: [],
    }
  } finally {
    await redis.stop()
  }
}

const suite = { id: 'redis-coherent', title: 'Many machines: coherence through Redis (reads, writes, propagation)', run }
export default suite

if (isMainThread) await runIfMain(import.meta, suite)
