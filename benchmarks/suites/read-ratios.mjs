// Point reads as ratios measured in the same run (issue 11's read targets): in a worker thread
// attached to the store, scopecache getRaw / get / getBytes by id beside a per-thread Map.get (the
// lower bound), a per-thread lru-cache and lmdb-js, over a hot set (512 items: CPU-bound) and a
// cold set (50 000 items read at random: memory-bound). Every lookup builds its key string afresh,
// as a request parser would. Interleaved rounds (lib/rounds.mjs); each ratio is the median of the
// per-round ratios. Expiry's cost: getRaw of the same items in a twin scope where every item has a
// TTL (an hour: none expires while timed), beside getRaw of the scope without TTLs.
import { ScopeCache } from '@scopecache/core'
import { prefixedSet } from '../lib/data.mjs'
import { fmtNs, median, round } from '../lib/measure.mjs'
import { roundRatio } from '../lib/rounds.mjs'
import { openLmdb } from '../lib/lmdb.mjs'
import { runWorker } from '../lib/worker-run.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const SETS = [{ scope: 'hot', n: 512, seed: 0x5eed0512 }, { scope: 'cold', n: 50_000, seed: 0x5eed1234 }]
// The ratios the targets read: [figure name, numerator task, denominator task].
const RATIOS = [
  ['getRaw.vsMap', 'getRaw', 'map'], ['getRaw.vsLru', 'getRaw', 'lru'], ['get.vsGetRawParse', 'get', 'getRawParse'], ['getBytes.vsGetRaw', 'getBytes', 'getRaw'],
  ['getRawTtl.vsGetRaw', 'getRawTtl', 'getRaw'],
]
/** The twin scope of a set whose items all carry a TTL (suffix), and that TTL. */
export const TTL_SUFFIX = '-ttl'
const TTL_MS = 3_600_000

const suite = {
  id: 'read-ratios',
  title: 'Point reads, hot and cold, as ratios to Map.get (worker thread, fresh key strings)',
  async run({ quick, progress }) {
    const rounds = quick ? 7 : 21, sliceMs = quick ? 25 : 100
    const skipped = []
    progress('filling scopecache (512 + 50 000 items, and again with a TTL each) and lmdb (50 000)')
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    for (const { scope, n } of SETS) {
      const { ids, payloads } = prefixedSet(n)
      for (let i = 0; i < n; i++) cache.append(scope, payloads[i], { id: ids[i] })
      for (let i = 0; i < n; i++) cache.append(scope + TTL_SUFFIX, payloads[i], { id: ids[i], ttlMs: TTL_MS })
    }
    const lmdb = await openLmdb(prefixedSet(50_000), skipped)
    try {
      const { out, coresUsed } = await runWorker(new URL('./read-ratios-worker.mjs', import.meta.url), {
        cache, workerData: { lmdbPath: lmdb?.path, quick, sets: SETS, rounds, sliceMs }, progress,
      })
      return report({ out, coresUsed, rounds, sliceMs, skipped })
    } finally {
      cache.close()
      await lmdb?.close()
    }
  },
}

function report({ out, coresUsed, rounds, sliceMs, skipped }) {
  const figures = { 'readRatios.coresUsed': round(coresUsed, 2), 'readRatios.rounds': rounds }
  const tables = []
  for (const { scope, n } of SETS) {
    const byKey = Object.fromEntries(out[scope].map((t) => [t.key, t.ns]))
    const rows = out[scope].map((t) => {
      const r = roundRatio(t.ns, byKey.map)
      figures[`readRatios.${scope}.${t.key}.ns`] = round(median(t.ns), 1)
      figures[`readRatios.${scope}.${t.key}.vsMap`] = round(r.median, 3)
      return [t.name, fmtNs(median(t.ns)), `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`]
    })
    for (const [name, a, b] of RATIOS) {
      if (!byKey[a] || !byKey[b]) continue
      const r = roundRatio(byKey[a], byKey[b])
      figures[`readRatios.${scope}.${name}`] = round(r.median, 3)
      if (b !== 'map') rows.push([`ratio: ${a} ÷ ${b}`, '', `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`])
    }
    tables.push({ title: `${scope === 'hot' ? 'Hot' : 'Cold'}: ${n.toLocaleString('en')} items, random order, worker thread`, columns: ['case', 'ns/op (median of rounds)', '× Map.get (median of per-round ratios)', 'per-round range'], rows })
  }
  return {
    tables,
    figures,
    notes: [
      `${rounds} interleaved rounds (every task in turn, the same order each round), each task timed for ${sliceMs} ms a round in batches of 1000 lookups; a task's ns/op in a round is its median batch ÷ 1000. A ratio is computed per round (both figures from the same round) and the median of those ratios is reported, with their range.`,
      'Keys: every lookup of every peer builds its key as `"item:" + number` (a fresh string, hashed anew), from one pre-generated seeded random stream of indices. Hot: 512 items (all in the CPU caches); cold: 50 000 items (memory-bound). Payloads: 100-byte JSON objects.',
      'Peers in the same worker thread: a Map of id → JSON text and an lru-cache (max = item count), each built by this thread; lmdb-js opens one environment of the 50 000 ids (the hot set reads ids 0–511 of it). get is compared with getRaw + JSON.parse of the same text; every peer is checked to return the exact text for every key before timing.',
      'Expiry: `getRaw … with a TTL` reads the same ids in a twin scope filled in the same order where every item has ttlMs (one hour: none expires while timed), so each read also compares the item\'s expiry with the clock. `getRaw by id` reads the scope without TTLs, which pays only the test of a flag bit in a header word it loads anyway: the ratio getRaw ÷ Map.get of that row, compared with the same figure of a run before expiry existed, is the cost when unused (across runs: load differs; the same-run ratio is getRawTtl ÷ getRaw).',
      `The worker thread got ${coresUsed.toFixed(2)} of 1 CPU core while it ran; below ~0.9, other processes took CPU (a same-round ratio still holds better than absolute ns).`,
    ],
    skipped,
  }
}

export default suite
await runIfMain(import.meta, suite)
