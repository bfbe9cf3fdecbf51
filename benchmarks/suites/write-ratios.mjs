// Writes as ratios measured in the same run (issue 11's write targets), in a worker thread attached
// to the store: append with id (object payload, rawJson payload) against JSON.stringify + Map.set
// of a new key, and upsert replacing an item against append. Interleaved rounds (lib/rounds.mjs);
// each ratio is the median of the per-round ratios.
import { ScopeCache } from '@scopecache/core'
import { fmtNs, median, round } from '../lib/measure.mjs'
import { roundRatio } from '../lib/rounds.mjs'
import { runWorker } from '../lib/worker-run.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const ITEMS = 8192 // payloads cycled by the appends; items of the upsert scope
const LIMIT = 20_000 // a Map or scope is cleared when it reaches this many items
// [figure name, numerator task, denominator task]
const RATIOS = [['appendObj.vsMapSet', 'appendObj', 'mapSet'], ['appendRaw.vsMapSet', 'appendRaw', 'mapSet'], ['upsert.vsAppendObj', 'upsert', 'appendObj']]

const suite = {
  id: 'write-ratios',
  title: 'Writes as ratios to JSON.stringify + Map.set (worker thread)',
  async run({ quick, progress }) {
    const rounds = quick ? 7 : 21, sliceMs = quick ? 40 : 150
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    try {
      const { rows, coresUsed } = await runWorker(new URL('./write-ratios-worker.mjs', import.meta.url), {
        cache, workerData: { quick, rounds, sliceMs, items: ITEMS, limit: LIMIT }, progress,
      })
      return report({ rows, coresUsed, rounds, sliceMs })
    } finally {
      cache.close()
    }
  },
}

function report({ rows, coresUsed, rounds, sliceMs }) {
  const figures = { 'writeRatios.coresUsed': round(coresUsed, 2), 'writeRatios.rounds': rounds }
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r.ns]))
  const table = rows.map((t) => {
    const r = roundRatio(t.ns, byKey.mapSet)
    figures[`writeRatios.${t.key}.ns`] = round(median(t.ns), 1)
    return [t.name, fmtNs(median(t.ns)), `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`]
  })
  for (const [name, a, b] of RATIOS) {
    const r = roundRatio(byKey[a], byKey[b])
    figures[`writeRatios.${name}`] = round(r.median, 3)
    if (b !== 'mapSet') table.push([`ratio: ${a} ÷ ${b}`, '', `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`])
  }
  return {
    tables: [{ title: 'Writes in a worker thread, 100-byte JSON payloads', columns: ['case', 'ns/op (median of rounds)', '× (JSON.stringify + Map.set) (median of per-round ratios)', 'per-round range'], rows: table }],
    figures,
    notes: [
      `${rounds} interleaved rounds, each task timed for ${sliceMs} ms a round in batches of 1000 writes; a task's ns/op in a round is its median batch ÷ 1000; ratios are per round, the median reported with the range.`,
      `Appends and Map.set add new keys \`"item:" + n\` (built per write) with one of ${ITEMS.toLocaleString('en')} payload objects; the rawJson append wraps that payload's JSON text (built before timing) with rawJson() per write. Every slice starts from an empty Map or a dropped scope, and one reaching ${LIMIT.toLocaleString('en')} items is cleared between batches (untimed), so memory stays bounded.`,
      `upsert replaces a random one of ${ITEMS.toLocaleString('en')} existing items with its own (same-size) payload object; it is compared with the object-payload append.`,
      `The worker thread got ${coresUsed.toFixed(2)} of 1 CPU core while it ran.`,
    ],
    skipped: [],
  }
}

export default suite
await runIfMain(import.meta, suite)
