// Bulk loads. (1) issue 11's warm targets: warm of N rawJson items into a fresh store and into a
// refilled one (the same scopes warmed again over a store holding them), beside a Map.set loop of
// the same ids and texts into a new Map, interleaved per repeat, items/s and the median of the
// per-repeat ratios; N = 1 000 000 (quick: 200 000). (2) full runs only: warm / rebuild with
// payload objects and rebuild with rawJson, items/s. Items: scopes of 50 000, 100-byte JSON.
import { ScopeCache, rawJson } from '@scopecache/core'
import { payloadOf } from '../lib/data.mjs'
import { median, round, withCpuShare } from '../lib/measure.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const PER_SCOPE = 50_000
const idOf = (n) => `item:${String(n).padStart(7, '0')}`
const scopeOf = (n) => `scope:${String(Math.floor((n - 1) / PER_SCOPE)).padStart(2, '0')}`
const gc = () => globalThis.gc?.()

function timed(fn) {
  const t = performance.now()
  fn()
  return performance.now() - t
}

/** Map.set loop vs warm of rawJson items, fresh and refilled store, `reps` interleaved repeats. */
function warmVsMap({ items, ids, texts, raws, reps, storeOpts, progress }) {
  const ms = { mapSet: [], fresh: [], refill: [] }
  const check = (cache, what) => {
    const st = cache.stats()
    if (st.items !== items) throw new Error(`${what}: ${st.items} items, expected ${items}`)
    if (cache.getRaw(raws[items - 7].scope, { id: ids[items - 7] }) !== texts[items - 7]) throw new Error(`${what}: item reads back wrong`)
  }
  for (let r = 0; r < reps; r++) {
    progress(`Map.set loop of ${items.toLocaleString('en')} items (repeat ${r + 1}/${reps})`)
    gc()
    let map
    ms.mapSet.push(timed(() => { map = new Map(); for (let i = 0; i < items; i++) map.set(ids[i], texts[i]) }))
    if (map.size !== items) throw new Error('Map.set loop: wrong size')
    map = null
    gc()
    const cache = ScopeCache.create(storeOpts)
    try {
      progress(`warm of ${items.toLocaleString('en')} rawJson items into a fresh store (repeat ${r + 1}/${reps})`)
      ms.fresh.push(timed(() => cache.warm(raws)))
      check(cache, 'warm, fresh store')
      progress(`warm of ${items.toLocaleString('en')} rawJson items into the refilled store (repeat ${r + 1}/${reps})`)
      ms.refill.push(timed(() => cache.warm(raws)))
      check(cache, 'warm, refilled store')
    } finally {
      cache.close()
    }
  }
  return ms
}

/** warm / rebuild with one call each, the first into an empty store, later ones replacing. */
function otherCases({ items, objects, raws, reps, storeOpts, progress }) {
  const cache = ScopeCache.create(storeOpts)
  const all = [
    ['warm', 'objects', 'warm, payload objects (stringified by the store)', () => cache.warm(objects)],
    ['rebuild', 'objects', 'rebuild, payload objects', () => cache.rebuild(objects)],
    ['rebuild', 'raw', 'rebuild, rawJson text payloads', () => cache.rebuild(raws)],
  ]
  const rows = [], figures = {}
  try {
    for (const [op, kind, label, fn] of all) {
      const ms = []
      for (let r = 0; r < reps; r++) {
        progress(`${label} (run ${r + 1}/${reps})`)
        ms.push(timed(fn))
        if (cache.stats().items !== items) throw new Error(`${label}: ${cache.stats().items} items`)
      }
      const first = ms[0], later = median(ms.slice(1))
      figures[`bulk.${op}.${kind}.itemsPerSec`] = Math.round((items / later) * 1000)
      rows.push([label, `${(first / 1000).toFixed(2)} s`, `${(later / 1000).toFixed(2)} s`, `${Math.round((items / later) * 1000).toLocaleString('en')}/s`])
      cache.flush()
    }
  } finally {
    cache.close()
  }
  return { rows, figures }
}

const suite = {
  id: 'bulk',
  title: 'Bulk: warm and rebuild',
  async run({ quick, progress }) {
    const items = quick ? 200_000 : 1_000_000
    const reps = quick ? 3 : 5
    const storeOpts = { maxStoreBytes: (quick ? 100 : 400) << 20, scopeMaxItems: 100_000 }
    progress(`building ${items.toLocaleString('en')} items`)
    const ids = Array.from({ length: items }, (_, i) => idOf(i + 1))
    const texts = ids.map((_, i) => JSON.stringify(payloadOf(i + 1)))
    const raws = ids.map((id, i) => ({ scope: scopeOf(i + 1), id, payload: rawJson(texts[i]) }))
    const { result: ms, coresUsed } = await withCpuShare(() => warmVsMap({ items, ids, texts, raws, reps, storeOpts, progress }))
    const perSec = (x) => Math.round((items / x) * 1000)
    const figures = { 'bulk.items': items, 'bulk.reps': reps, 'bulk.coresUsed': round(coresUsed, 2), 'bulk.mapSet.itemsPerSec': perSec(median(ms.mapSet)) }
    const rows = [['Map.set loop of the same ids and texts, into a new Map', perSec(median(ms.mapSet)).toLocaleString('en') + '/s', '1.00×', ms.mapSet.map((x) => perSec(x).toLocaleString('en')).join(' / ')]]
    for (const [key, label] of [['fresh', 'warm, rawJson, fresh store'], ['refill', 'warm, rawJson, refilled store (the same scopes again)']]) {
      const per = ms[key].map((x, i) => ms.mapSet[i] / x) // items/s ÷ Map.set items/s, same repeat
      figures[`bulk.warmRaw.${key}.itemsPerSec`] = perSec(median(ms[key]))
      figures[`bulk.warmRaw.${key}.vsMapSet`] = round(median(per), 3)
      rows.push([label, perSec(median(ms[key])).toLocaleString('en') + '/s', `${median(per).toFixed(2)}×`, ms[key].map((x) => perSec(x).toLocaleString('en')).join(' / ')])
    }
    const tables = [{ title: `warm of ${items.toLocaleString('en')} rawJson items (${items / PER_SCOPE} scopes × 50 000) vs a Map.set loop; median of ${reps} interleaved repeats`, columns: ['case', 'items/s', '× Map.set loop (median of per-repeat ratios)', 'items/s of each repeat'], rows }]
    let other = { figures: {} }
    if (!quick) {
      const objects = ids.map((id, i) => ({ scope: raws[i].scope, id, payload: payloadOf(i + 1) }))
      other = otherCases({ items, objects, raws, reps: 3, storeOpts, progress })
      tables.push({ title: `${items.toLocaleString('en')} items, one call`, columns: ['case', 'first call (empty store)', 'replacing (median of 2)', 'items/s (replacing)'], rows: other.rows })
    }
    return {
      tables,
      figures: { ...figures, ...other.figures },
      notes: [
        `warm vs Map.set: each repeat times a Map.set loop of the ${items.toLocaleString('en')} ids and JSON texts into a new Map, then creates a store (untimed), times warm(items) into it (fresh store: its pages are touched for the first time) and warm(items) again (refilled store: the same scopes replaced in a store that holds them). items/s is the median of the repeats; the ratio is the median of the per-repeat ratios. Items ({ scope, id, payload: rawJson(text) }) are built before timing. This thread got ${coresUsed.toFixed(2)} of 1 CPU core over those repeats.${quick ? ' Quick run: 200 000 items instead of 1 000 000.' : ''}`,
        ...(quick ? [] : ['One-call table: warm(items) / rebuild(items) timed with performance.now(); the first call fills an empty store, the later two replace the same scopes (items/s from those). "payload objects" include JSON.stringify inside the store.']),
      ],
    }
  },
}

export default suite
await runIfMain(import.meta, suite)
