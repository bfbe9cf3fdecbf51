// Bulk loads: warm (replace the given scopes) and rebuild (replace the whole store) with 1 000 000
// items in 20 scopes of 50 000 (100-byte JSON payloads), items/s. Both build the new scopes beside
// the live ones and swap them in at once, so the second and later runs also free the old items.
import { ScopeCache, rawJson } from '@scopecache/core'
import { payloadOf } from '../lib/data.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const SCOPES = 20
const PER_SCOPE = 50_000
const ITEMS = SCOPES * PER_SCOPE
const idOf = (n) => `item:${String(n).padStart(7, '0')}`
const scopeOf = (n) => `scope:${String(Math.floor((n - 1) / PER_SCOPE)).padStart(2, '0')}`
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const suite = {
  id: 'bulk',
  title: 'Bulk: warm and rebuild of 1 000 000 items',
  async run({ quick, progress }) {
    progress('building 1 000 000 items')
    const objects = Array.from({ length: ITEMS }, (_, i) => ({ scope: scopeOf(i + 1), id: idOf(i + 1), payload: payloadOf(i + 1) }))
    const raws = quick ? [] : objects.map((it) => ({ scope: it.scope, id: it.id, payload: rawJson(JSON.stringify(it.payload)) }))
    const cache = ScopeCache.create({ maxStoreBytes: 400 << 20, scopeMaxItems: 100_000 })
    const reps = quick ? 1 : 3
    const all = [
      ['warm', 'objects', 'warm, payload objects (stringified by the store)', () => cache.warm(objects)],
      ['warm', 'raw', 'warm, rawJson text payloads (validated, stored byte-exact)', () => cache.warm(raws)],
      ['rebuild', 'objects', 'rebuild, payload objects', () => cache.rebuild(objects)],
      ['rebuild', 'raw', 'rebuild, rawJson text payloads', () => cache.rebuild(raws)],
    ]
    const cases = quick ? all.filter(([, kind]) => kind === 'objects') : all
    const figures = {}
    const rows = []
    try {
      for (const [op, kind, label, fn] of cases) {
        const ms = []
        for (let r = 0; r < reps; r++) {
          progress(`${label} (run ${r + 1}/${reps})`)
          const t = performance.now()
          fn()
          ms.push(performance.now() - t)
          const st = cache.stats()
          if (st.items !== ITEMS || st.scopes !== SCOPES) throw new Error(`${label}: ${st.items} items in ${st.scopes} scopes`)
        }
        if (cache.getRaw(scopeOf(777_777), { id: idOf(777_777) }) !== JSON.stringify(payloadOf(777_777))) throw new Error(`${label}: item reads back wrong`)
        const first = ms[0], later = ms.length > 1 ? median(ms.slice(1)) : null
        figures[`bulk.${op}.${kind}.itemsPerSec`] = Math.round((ITEMS / (later ?? first)) * 1000)
        rows.push([label, `${(first / 1000).toFixed(2)} s`, later ? `${(later / 1000).toFixed(2)} s` : '(quick: not run)', `${Math.round((ITEMS / (later ?? first)) * 1000).toLocaleString('en')}/s`])
        cache.flush()
      }
    } finally {
      cache.close()
    }
    return {
      tables: [{ title: '1 000 000 items, 20 scopes × 50 000, one call', columns: ['case', 'first call (empty store)', reps > 1 ? `replacing (median of ${reps - 1})` : 'replacing', reps > 1 ? 'items/s (replacing)' : 'items/s (first call)'], rows }],
      figures: { ...figures, 'bulk.items': ITEMS, 'bulk.reps': reps },
      notes: [
        'One call of warm(items) or rebuild(items) with all 1 000 000 items, timed with performance.now(); the first call fills an empty store (after a flush), later calls replace the same scopes, which also frees the old items. items/s uses the replacing calls (quick run: one call per case, into an empty store, payload objects only).',
        'Item objects are built before timing; "payload objects" include JSON.stringify inside the store, "rawJson" include validating the text.',
      ],
    }
  },
}

export default suite
await runIfMain(import.meta, suite)
