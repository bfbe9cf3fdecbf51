// A/B of warm (issue 11): N rawJson items (scopes of 50 000, 100-byte JSON), a Map.set loop of the same
// ids and texts, warm into a fresh store, warm again (refilled store); R interleaved repeats, medians.
// CORE=<path to a core dist/index.js> measures another build (A/B).
// usage: node --expose-gc tools/bulk-ab.mjs [N=1000000] [R=5] [phase=all|fresh|refill|touched]   (build first)
// touched: the store's heap pages are touched first (warm, warm, rebuild([]) untimed), to separate the CPU
// cost of warm from the first-touch page faults of a fresh store (~20-30 µs per 4 KiB page on this VM).
const { ScopeCache, rawJson } = await import(process.env.CORE ?? '../packages/core/dist/index.js')
import { payloadOf } from '../benchmarks/lib/data.mjs'
const N = Number(process.argv[2] ?? 1_000_000)
const R = Number(process.argv[3] ?? 5)
const phase = process.argv[4] ?? 'all'
const ids = Array.from({ length: N }, (_, i) => `item:${String(i + 1).padStart(7, '0')}`)
const texts = ids.map((_, i) => JSON.stringify(payloadOf(i + 1)))
const raws = ids.map((id, i) => ({ scope: `scope:${String(Math.floor(i / 50_000)).padStart(2, '0')}`, id, payload: rawJson(texts[i]) }))
const gc = () => globalThis.gc?.()
const t = (fn) => { const a = performance.now(); fn(); return performance.now() - a }
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
const ms = { map: [], fresh: [], refill: [] }
for (let r = 0; r < R; r++) {
  gc()
  let m
  ms.map.push(t(() => { m = new Map(); for (let i = 0; i < N; i++) m.set(ids[i], texts[i]) }))
  m = null
  gc()
  const c = ScopeCache.create({ maxStoreBytes: 400 << 20, scopeMaxItems: 100_000 })
  if (phase === 'touched') { c.warm(raws); c.warm(raws); c.rebuild([]); gc() }
  if (phase !== 'refill') ms.fresh.push(t(() => c.warm(raws)))
  else c.warm(raws)
  gc()
  if (phase !== 'fresh') ms.refill.push(t(() => c.warm(raws)))
  if (c.stats().items !== N || c.getRaw(raws[N - 7].scope, { id: ids[N - 7] }) !== texts[N - 7]) throw new Error('wrong content')
  c.close()
}
const ps = (x) => Math.round((N / x) * 1000)
for (const k of ['map', 'fresh', 'refill']) {
  if (ms[k].length === 0) continue
  const ratio = k === 'map' ? '' : ` ${med(ms[k].map((x, i) => ms.map[i] / x)).toFixed(2)}× Map.set`
  console.log(`${k.padEnd(7)} ${ps(med(ms[k])).toLocaleString('en').padStart(10)}/s${ratio}   [${ms[k].map((x) => ps(x).toLocaleString('en')).join(' / ')}]`)
}
