// Named locks with a lease and read-through (issue 12): what a tryLock + unlock pair costs, and
// what getOrLoad costs on a hit against get.
//   1. uncontended, one thread: the pair on one name, beside the floor of any shared-memory lock
//      (one compareExchange to take a word, one store to give it back); interleaved rounds, median
//      of per-round ratios (lib/rounds.mjs);
//   2. getOrLoad on a hit, awaited, against get (both parse the payload), in interleaved async rounds;
//   3. between 2 threads: pairs/s of 2 worker threads taking one name in turn (tryLock retried until
//      it succeeds) and taking a name each (they share only the lease table's mutex), against one
//      thread alone; threads start on a barrier and run a fixed count (bounded).
import os from 'node:os'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { runIfMain } from '../lib/standalone.mjs'
import { barrier, spawnAttached } from '../lib/threads.mjs'
import { ScopeCache } from '@scopecache/core'
import { asyncRounds, fmtNs, median, round, withCpuShare } from '../lib/measure.mjs'
import { roundRatio, timeRounds } from '../lib/rounds.mjs'

const BATCH = 1000


if (!isMainThread) {
  const { handle, gate: gateBuf, pairs, name, n } = workerData
  const cache = ScopeCache.attach(handle)
  barrier(new Int32Array(gateBuf), n)
  let busy = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < pairs; i++) {
    let g
    while ((g = cache.tryLock(name, { leaseMs: 60_000 })) === null) busy++
    cache.unlock(name, g.token)
  }
  parentPort.postMessage({ ns: Number(process.hrtime.bigint() - t0), busy })
  cache.close()
}

const spawn = (cache, data) => spawnAttached(new URL(import.meta.url), cache, data)

function uncontended({ quick, progress }) {
  const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
  const word = new Int32Array(new SharedArrayBuffer(64))
  const tasks = [
    { key: 'lease', fn: () => { for (let i = 0; i < BATCH; i++) cache.unlock('job', cache.tryLock('job').token) } },
    { key: 'cas', fn: () => { for (let i = 0; i < BATCH; i++) { if (Atomics.compareExchange(word, 0, 0, 7) === 0) Atomics.store(word, 0, 0) } } },
  ]
  const rounds = quick ? 7 : 21
  const ns = timeRounds(tasks, { rounds, sliceMs: quick ? 40 : 150, progress: (m) => progress(`locks: uncontended, ${m}`) })
  cache.close()
  return { ns, rounds }
}


async function readThroughHit({ quick, progress }) {
  const cache = ScopeCache.create({ maxStoreBytes: 8 << 20 })
  const N = 512
  for (let i = 0; i < N; i++) cache.upsert('view', `k${i}`, { text: 'x'.repeat(80), n: i })
  const ids = Array.from({ length: N }, (_, i) => `k${i}`)
  const loader = () => { throw new Error('a hit never loads') }
  let x = 0
  const tasks = [
    { key: 'getOrLoad', fn: async () => { for (let i = 0; i < BATCH; i++) x += (await cache.getOrLoad('view', { id: ids[i & (N - 1)] }, loader)).seq } },
    { key: 'get', fn: async () => { for (let i = 0; i < BATCH; i++) x += cache.get('view', { id: ids[i & (N - 1)] }).seq } },
    { key: 'getAwaited', fn: async () => { for (let i = 0; i < BATCH; i++) x += (await cache.get('view', { id: ids[i & (N - 1)] })).seq } },
  ]
  progress('locks: getOrLoad on a hit vs get')
  const rounds = quick ? 7 : 21
  const ns = await asyncRounds(tasks, { rounds, sliceMs: quick ? 40 : 150, batch: BATCH })
  cache.close()
  if (x === 0.5) console.log(x)
  return { ns, rounds }
}

async function twoThreads({ quick, progress }) {
  const pairs = quick ? 100_000 : 400_000
  const reps = quick ? 3 : 5
  const out = { one: [], same: [], own: [], busySame: [], cores: [] }
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of ['one', 'same', 'own']) {
      progress(`locks: ${mode === 'one' ? '1 thread' : mode === 'same' ? '2 threads, one name' : '2 threads, a name each'} × ${pairs} pairs (repeat ${rep + 1}/${reps})`)
      const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
      const n = mode === 'one' ? 1 : 2
      const gate = new SharedArrayBuffer(4)
      const { result, coresUsed } = await withCpuShare(() => Promise.all(Array.from({ length: n }, (_, k) => spawn(cache, { gate, pairs, n, name: mode === 'own' ? `job:${k}` : 'job' }))))
      const slowest = Math.max(...result.map((r) => r.ns))
      out[mode].push((n * pairs) / (slowest / 1e9))
      if (mode === 'same') out.busySame.push(result.reduce((a, r) => a + r.busy, 0) / (n * pairs))
      if (mode !== 'one') out.cores.push(coresUsed)
      cache.close()
    }
  }
  return { ...out, pairs, reps }
}

async function run({ quick, progress }) {
  const { ns, rounds } = uncontended({ quick, progress })
  const vsCas = roundRatio(ns.lease, ns.cas)
  const rt = await readThroughHit({ quick, progress })
  const hitVsGet = roundRatio(rt.ns.getOrLoad, rt.ns.get)
  const hitVsAwaited = roundRatio(rt.ns.getOrLoad, rt.ns.getAwaited)
  const t = await twoThreads({ quick, progress })
  const figures = {
    'locks.pair.ns': round(median(ns.lease), 1),
    'locks.pair.vsCas': round(vsCas.median, 2),
    'readThrough.hit.ns': round(median(rt.ns.getOrLoad), 1),
    'readThrough.hit.vsGet': round(hitVsGet.median, 3),
    'readThrough.hit.vsAwaitedGet': round(hitVsAwaited.median, 3),
    'locks.1thread.pairs_per_s': Math.round(median(t.one)),
    'locks.2threads.sameName.pairs_per_s': Math.round(median(t.same)),
    'locks.2threads.ownNames.pairs_per_s': Math.round(median(t.own)),
  }
  const rows = [
    ['tryLock + unlock, one name, one thread', fmtNs(median(ns.lease)), '1.00×'],
    ['floor: compareExchange + store on a shared word', fmtNs(median(ns.cas)), `${(1 / vsCas.median).toFixed(2)}× (lease pair = ${vsCas.median.toFixed(1)}×, range ${vsCas.min.toFixed(1)}–${vsCas.max.toFixed(1)})`],
  ]
  const rowsRt = [
    ['await getOrLoad, hit (parsed payload)', fmtNs(median(rt.ns.getOrLoad)), '1.00×'],
    ['get, same items', fmtNs(median(rt.ns.get)), `getOrLoad = ${hitVsGet.median.toFixed(2)}× (range ${hitVsGet.min.toFixed(2)}–${hitVsGet.max.toFixed(2)})`],
    ['await get (a value awaited the same way)', fmtNs(median(rt.ns.getAwaited)), `getOrLoad = ${hitVsAwaited.median.toFixed(2)}×`],
  ]
  const rows2 = [
    ['1 thread: pairs/s', Math.round(median(t.one))],
    ['2 threads, one name (taken in turn): pairs/s', Math.round(median(t.same))],
    ['2 threads, one name: failed tryLocks per pair', round(median(t.busySame), 2)],
    ['2 threads, a name each (share the table mutex): pairs/s', Math.round(median(t.own))],
    ['CPU cores the 2 threads got (median)', `${median(t.cores).toFixed(2)} of 2`],
  ]
  return {
    tables: [
      { title: 'Named locks, uncontended (main thread)', columns: ['case', 'ns per pair (median of rounds)', '× the lease pair'], rows },
      { title: 'Read-through: getOrLoad on a hit (main thread, 512 items of ~100 B)', columns: ['case', 'ns/op (median of rounds)', 'ratio (median of per-round ratios)'], rows: rowsRt },
      { title: 'Named locks between 2 threads', columns: ['measure', 'value'], rows: rows2 },
    ],
    figures,
    notes: [
      `Uncontended: ${rounds} interleaved rounds of batches of ${BATCH} pairs; ratios are per round, the median reported. A pair validates the name, hashes it, takes and releases the lease table's mutex twice, reads the store clock and writes the record.`,
      `getOrLoad hit: ${rt.rounds} interleaved rounds of batches of ${BATCH} calls, each awaited in turn; \`get\` is the same read without a promise, \`await get\` the same read awaited (the floor for any promise-returning API). The loader never runs (every item is stored).`,
      `Between threads: ${t.pairs.toLocaleString('en')} pairs per thread, ${t.reps} repeats (1 thread, 2 on one name, 2 on a name each, back to back); medians. On one name the loser of a race retries tryLock at once (a spin); \`await lock()\` would sleep instead. ${os.availableParallelism()} CPUs.`,
    ],
    skipped: [],
  }
}

const suite = { id: 'locks', title: 'Named locks with a lease, and getOrLoad on a hit', run }
export default suite

if (isMainThread) await runIfMain(import.meta, suite) // (this file is also its own worker)
