// Worker side of suites/read-ratios.mjs: attach to the store, build this thread's Map and lru-cache
// of the same items, open the lmdb environment, check every peer returns the exact text for every
// key, then time the reads in interleaved rounds (lib/rounds.mjs), hot set first, then cold.
// Every lookup builds its key afresh (KEY_PREFIX + number), the same way for every peer. Each loop
// is written out so each task has its own call sites (see lib/point-tasks.mjs).
import { parentPort, workerData } from 'node:worker_threads'
import { Buffer } from 'node:buffer'
import { LRUCache } from 'lru-cache'
import { ScopeCache } from '@scopecache/core'
import { prefixedSet, KEY_PREFIX as P, MASK } from '../lib/data.mjs'
import { BATCH, withCpuShare } from '../lib/measure.mjs'
import { timeRounds } from '../lib/rounds.mjs'

const { handle, lmdbPath, quick, sets, rounds, sliceMs } = workerData
const cache = ScopeCache.attach(handle)
const lmdb = lmdbPath ? (await import('lmdb')).open({ path: lmdbPath, encoding: 'string' }) : null

function verify(name, read, { n, texts }) {
  for (let i = 0; i < n; i++) if (read(i) !== texts[i]) throw new Error(`${name}: wrong value for ${P + i}`)
}

function readTasks(S, set) {
  const { n, texts, stream } = set
  const map = new Map()
  const lru = new LRUCache({ max: n })
  for (let i = 0; i < n; i++) { map.set(P + i, texts[i]); lru.set(P + i, texts[i]) }
  verify('Map.get', (i) => map.get(P + i), set)
  verify('getRaw', (i) => cache.getRaw(S, { id: P + i }), set)
  const ST = S + '-ttl' // the same items, each with a TTL (read-ratios.mjs)
  verify('getRaw (TTL)', (i) => cache.getRaw(ST, { id: P + i }), set)
  verify('get', (i) => JSON.stringify(cache.get(S, { id: P + i }).payload), set)
  verify('getBytes', (i) => Buffer.from(cache.getBytes(S, { id: P + i })).toString(), set)
  verify('lru-cache', (i) => lru.get(P + i), set)
  if (lmdb) verify('lmdb', (i) => lmdb.get(P + i), set)
  let pos = 0, sink = 0
  const before = () => { pos = 0 }
  const tasks = [
    { key: 'map', name: 'Map.get (per-thread Map of id → JSON text)', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += map.get(P + stream[p]).length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'getRaw', name: 'scopecache getRaw by id', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += cache.getRaw(S, { id: P + stream[p] }).length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'getRawTtl', name: 'scopecache getRaw by id, every item with a TTL', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += cache.getRaw(ST, { id: P + stream[p] }).length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'getRawParse', name: 'scopecache getRaw + JSON.parse', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += JSON.parse(cache.getRaw(S, { id: P + stream[p] })).user.length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'get', name: 'scopecache get by id (payload parsed)', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += cache.get(S, { id: P + stream[p] }).payload.user.length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'getBytes', name: 'scopecache getBytes by id', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += cache.getBytes(S, { id: P + stream[p] }).length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
    { key: 'lru', name: 'lru-cache get (per-thread)', fn: () => {
      let p = pos, x = 0
      for (let i = 0; i < BATCH; i++) { x += lru.get(P + stream[p]).length; p = (p + 1) & MASK }
      pos = p; sink += x
    } },
  ]
  if (lmdb) tasks.push({ key: 'lmdb', name: 'lmdb-js get (encoding: string)', fn: () => {
    let p = pos, x = 0
    for (let i = 0; i < BATCH; i++) { x += lmdb.get(P + stream[p]).length; p = (p + 1) & MASK }
    pos = p; sink += x
  } })
  for (const t of tasks) t.before = before
  return { tasks, check: () => { if (sink <= 0) throw new Error('nothing read') } }
}

const out = {}
const { coresUsed } = await withCpuShare(() => {
  for (const { scope, n, seed } of sets) {
    const { tasks, check } = readTasks(scope, prefixedSet(n, seed))
    const ns = timeRounds(tasks, { rounds, sliceMs, prewarm: quick ? 10 : 30, progress: (m) => parentPort.postMessage({ progress: `${scope}: ${m}` }) })
    check()
    out[scope] = tasks.map((t) => ({ key: t.key, name: t.name, ns: ns[t.key] }))
  }
})
await lmdb?.close()
cache.close()
parentPort.postMessage({ out, coresUsed })
