// A/B of the single-item write path: a baseline build of the core (a copy of packages/core/dist,
// path in argv[2]) against the current build, in one process with interleaved rounds, so a noisy
// shared machine hits both alike. Prints per task the median ns/op of each side, the median of the
// per-round ratios new ÷ base, and each side's ratio to JSON.stringify + Map.set of the same round.
//   cp -r packages/core/dist /tmp/base-dist   # before a change
//   node tools/write-ab.mjs /tmp/base-dist [rounds]
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { prefixedSet, KEY_PREFIX as P, MASK } from '../benchmarks/lib/data.mjs'
import { roundRatio } from '../benchmarks/lib/rounds.mjs'
import { BATCH, median } from '../benchmarks/lib/measure.mjs'

// Like lib/rounds.mjs timeRounds, but each batch is timed in process CPU time (user + system),
// which a preempting neighbour on a loaded machine disturbs far less than wall time.
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
function timeRounds(tasks, { rounds, sliceMs, prewarm }) {
  for (let r = 0; r < prewarm; r++) for (const t of tasks) { t.before?.(); t.fn(); t.after?.() }
  const ns = Object.fromEntries(tasks.map((t) => [t.key, []]))
  const samples = new Float64Array(1 << 14)
  for (let r = 0; r < rounds; r++) {
    for (const t of tasks) {
      t.before?.()
      let k = 0
      const end = cpuNow() + sliceMs
      do {
        const a = cpuNow()
        t.fn()
        samples[k++] = cpuNow() - a
        t.after?.()
      } while ((k < 5 || cpuNow() < end) && k < samples.length)
      ns[t.key].push((median(samples.subarray(0, k)) * 1e6) / BATCH)
    }
  }
  return ns
}

const baseDir = process.argv[2]
if (!baseDir) throw new Error('usage: node tools/write-ab.mjs <baseline dist dir> [rounds]')
const rounds = Number(process.argv[3] ?? 15)
const A = await import(pathToFileURL(resolve(baseDir, 'index.js')).href)
const B = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)

const ITEMS = 8192, LIMIT = 20_000, M = ITEMS - 1
const { payloads, texts, stream } = prefixedSet(ITEMS)
const map = new Map()
let next = 0, live = 0
const bound = (clear) => () => { if ((live += BATCH) >= LIMIT) { clear(); live = 0 } }

function side(name, mod) {
  const cache = mod.ScopeCache.create({ maxStoreBytes: 64 << 20 })
  for (let i = 0; i < ITEMS; i++) cache.upsert('upsert', P + i, payloads[i])
  const empty = (scope) => () => { next = 0; live = 0; cache.dropScope(scope) }
  let pos = 0
  return [
    { key: `appendObj.${name}`, before: empty('obj'), after: bound(() => cache.dropScope('obj')), fn: () => {
      let k = next
      for (let i = 0; i < BATCH; i++, k++) cache.append('obj', payloads[k & M], { id: P + k })
      next = k
    } },
    { key: `appendRaw.${name}`, before: empty('raw'), after: bound(() => cache.dropScope('raw')), fn: () => {
      let k = next
      for (let i = 0; i < BATCH; i++, k++) cache.append('raw', mod.rawJson(texts[k & M]), { id: P + k })
      next = k
    } },
    { key: `upsert.${name}`, before: () => { pos = 0 }, fn: () => {
      let p = pos
      for (let i = 0; i < BATCH; i++) { const k = stream[p]; cache.upsert('upsert', P + k, payloads[k]); p = (p + 1) & MASK }
      pos = p
    } },
  ]
}

const tasks = [
  { key: 'mapSet', before: () => { next = 0; live = 0; map.clear() }, after: bound(() => map.clear()), fn: () => {
    let k = next
    for (let i = 0; i < BATCH; i++, k++) map.set(P + k, JSON.stringify(payloads[k & M]))
    next = k
  } },
]
const a = side('base', A), b = side('new', B)
for (let i = 0; i < a.length; i++) tasks.push(a[i], b[i])
const ns = timeRounds(tasks, { rounds, sliceMs: 40, prewarm: 5 })
console.log(`mapSet ${median(ns.mapSet).toFixed(0)} ns/op; ${rounds} rounds`)
for (const t of ['appendObj', 'appendRaw', 'upsert']) {
  const x = ns[`${t}.base`], y = ns[`${t}.new`]
  const r = roundRatio(y, x)
  console.log(
    `${t.padEnd(10)} base ${median(x).toFixed(0).padStart(5)} ns (${roundRatio(x, ns.mapSet).median.toFixed(2)}× map)  ` +
    `new ${median(y).toFixed(0).padStart(5)} ns (${roundRatio(y, ns.mapSet).median.toFixed(2)}× map)  new÷base ${r.median.toFixed(3)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`,
  )
}
const ua = roundRatio(ns['upsert.base'], ns['appendObj.base']).median, ub = roundRatio(ns['upsert.new'], ns['appendObj.new']).median
console.log(`upsert ÷ appendObj: base ${ua.toFixed(2)}×  new ${ub.toFixed(2)}×`)
