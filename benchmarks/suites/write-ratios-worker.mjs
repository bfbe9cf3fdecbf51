// Worker side of suites/write-ratios.mjs: attach to the store and time, in interleaved rounds
// (lib/rounds.mjs), JSON.stringify + Map.set of a new key, append with id (object payload and
// rawJson payload) and upsert replacing an existing item. Memory stays bounded: each slice starts
// from an empty Map / dropped scope, and a Map or scope reaching LIMIT items is cleared (untimed).
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache, rawJson } from '@scopecache/core'
import { prefixedSet, KEY_PREFIX as P, MASK } from '../lib/data.mjs'
import { BATCH, withCpuShare } from '../lib/measure.mjs'
import { timeRounds } from '../lib/rounds.mjs'

const { handle, quick, rounds, sliceMs, items, limit } = workerData
const cache = ScopeCache.attach(handle)
const { payloads, texts, stream } = prefixedSet(items)
const M = items - 1 // items is a power of two
for (let i = 0; i < items; i++) cache.upsert('upsert', P + i, payloads[i])

let next = 0 // the id counter of the appends: P + next, a new key each time
const map = new Map()
let live = 0 // items in the Map or scope now
const emptyStore = (scope) => () => { next = 0; live = 0; cache.dropScope(scope) }
const bound = (clear) => () => { if ((live += BATCH) >= limit) { clear(); live = 0 } }
let pos = 0
const tasks = [
  { key: 'mapSet', name: 'JSON.stringify + Map.set (new key)', before: () => { next = 0; live = 0; map.clear() }, after: bound(() => map.clear()), fn: () => {
    let k = next
    for (let i = 0; i < BATCH; i++, k++) map.set(P + k, JSON.stringify(payloads[k & M]))
    next = k
  } },
  { key: 'appendObj', name: 'scopecache append with id, object payload', before: emptyStore('obj'), after: bound(() => cache.dropScope('obj')), fn: () => {
    let k = next
    for (let i = 0; i < BATCH; i++, k++) cache.append('obj', payloads[k & M], { id: P + k })
    next = k
  } },
  { key: 'appendRaw', name: 'scopecache append with id, rawJson payload', before: emptyStore('raw'), after: bound(() => cache.dropScope('raw')), fn: () => {
    let k = next
    for (let i = 0; i < BATCH; i++, k++) cache.append('raw', rawJson(texts[k & M]), { id: P + k })
    next = k
  } },
  { key: 'upsert', name: `scopecache upsert replacing an item (random of ${items.toLocaleString('en')}, object payload)`, before: () => { pos = 0 }, fn: () => {
    let p = pos
    for (let i = 0; i < BATCH; i++) { const k = stream[p]; cache.upsert('upsert', P + k, payloads[k]); p = (p + 1) & MASK }
    pos = p
  } },
]
const { result: ns, coresUsed } = await withCpuShare(() => timeRounds(tasks, { rounds, sliceMs, prewarm: quick ? 5 : 20, progress: (m) => parentPort.postMessage({ progress: m }) }))
// Everything written must read back: the upserts kept each item's own payload.
for (const i of [0, 777, M]) if (cache.getRaw('upsert', { id: P + i }) !== texts[i]) throw new Error(`upserted item ${P + i} reads back wrong`)
if (map.size === 0 && cache.stats().items === 0) throw new Error('nothing written')
cache.close()
parentPort.postMessage({ rows: tasks.map((t) => ({ key: t.key, name: t.name, ns: ns[t.key] })), coresUsed })
