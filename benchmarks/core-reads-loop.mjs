// The same point reads as core-reads.mjs, timed with a plain loop instead of tinybench: 1 M random
// lookups per run (seeded stream), 3 runs, the last reported (the first two warm the JIT).
// Kept beside the tinybench suite because the two harnesses disagree (see README.md).
// Usage: node benchmarks/core-reads-loop.mjs           (run `pnpm build` first)
import { ScopeCache } from '@scopecache/core'

const N = 50_000
const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
const ids = Array.from({ length: N }, (_, i) => `item:${String(i).padStart(6, '0')}`)
ids.forEach((id, i) => cache.append('bench', { user: i, text: 'x'.repeat(100 - 23 - String(i).length) }, { id }))
const map = new Map(ids.map((id, i) => [id, cache.getRaw('bench', { seq: i + 1 })]))
let s = 1
const stream = Int32Array.from({ length: 1 << 20 }, () => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s % N))

function run(name, f) {
  let ns = 0
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint()
    let sink = 0
    for (let i = 0; i < stream.length; i++) sink += f(stream[i]).length
    ns = Number(process.hrtime.bigint() - t) / stream.length
    if (sink === 0) throw new Error('nothing read')
  }
  return ns
}
const base = run('getRaw by id', (k) => cache.getRaw('bench', { id: ids[k] }))
const rows = [
  ['scopecache getRaw by id', base],
  ['scopecache getRaw by seq', run('getRaw by seq', (k) => cache.getRaw('bench', { seq: k + 1 }))],
  ['Map.get', run('Map.get', (k) => map.get(ids[k]))],
]
console.log(`Node ${process.version}, ${N} items, 1 M random lookups per run`)
console.table(rows.map(([task, ns]) => ({ task, 'ns/op': ns.toFixed(0), 'vs getRaw by id': (ns / base).toFixed(2) + '×' })))
