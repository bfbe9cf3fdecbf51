// The in-process point-read tasks (scopecache, Map, lru-cache, lmdb-js), shared by the main thread
// and the worker of suites/point-reads.mjs. Each loop is written out so each task has its own call
// sites (one shared helper taking a callback would go megamorphic and tax every task alike).
// All tasks read the same keys in the same order: the stream position resets before each task.
import { LRUCache } from 'lru-cache'
import { BATCH } from './measure.mjs'
import { MASK } from './data.mjs'

export const SCOPE = 'bench'

/** Every lookup of every peer must hit and return the exact text before anything is timed. */
function verify(name, read, data) {
  for (let i = 0; i < data.n; i++) {
    const v = read(i)
    if (v !== data.texts[i]) throw new Error(`${name}: wrong value for ${data.ids[i]}: ${String(v).slice(0, 40)}`)
  }
}

export function pointTasks({ cache, lmdb, data }) {
  const { ids, texts, stream, freshKey } = data
  const map = new Map()
  const lru = new LRUCache({ max: data.n })
  for (let i = 0; i < data.n; i++) { map.set(ids[i], texts[i]); lru.set(ids[i], texts[i]) }
  verify('getRaw by id', (i) => cache.getRaw(SCOPE, { id: ids[i] }), data)
  verify('getRaw by seq', (i) => cache.getRaw(SCOPE, { seq: i + 1 }), data)
  verify('getRaw by fresh id', (i) => cache.getRaw(SCOPE, { id: freshKey(i) }), data)
  verify('get by id', (i) => JSON.stringify(cache.get(SCOPE, { id: ids[i] }).payload), data)
  verify('get by seq', (i) => JSON.stringify(cache.get(SCOPE, { seq: i + 1 }).payload), data)
  verify('lru-cache', (i) => lru.get(ids[i]), data)
  if (lmdb) verify('lmdb', (i) => lmdb.get(ids[i]), data)

  let pos = 0
  let sink = 0
  const reset = { beforeAll: () => { pos = 0 } }
  const tasks = [
    { key: 'scopecache.getRaw.id', name: 'scopecache getRaw by id', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { id: ids[stream[p]] }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'scopecache.getRaw.seq', name: 'scopecache getRaw by seq', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { seq: stream[p] + 1 }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'scopecache.getRaw.freshId', name: 'scopecache getRaw by id, fresh key string', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.getRaw(SCOPE, { id: freshKey(stream[p]) }).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'scopecache.get.id', name: 'scopecache get by id (payload parsed)', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.get(SCOPE, { id: ids[stream[p]] }).payload.text.length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'scopecache.get.seq', name: 'scopecache get by seq (payload parsed)', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += cache.get(SCOPE, { seq: stream[p] + 1 }).payload.text.length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'map.get', name: 'Map.get (per-thread lower bound)', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += map.get(ids[stream[p]]).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'map.get.freshId', name: 'Map.get, fresh key string', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += map.get(freshKey(stream[p])).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
    { key: 'lru.get', name: 'lru-cache get', fn: () => {
      let p = pos, n = 0
      for (let i = 0; i < BATCH; i++) { n += lru.get(ids[stream[p]]).length; p = (p + 1) & MASK }
      pos = p; sink += n
    } },
  ]
  if (lmdb) tasks.push({ key: 'lmdb.get', name: 'lmdb-js get (encoding: string)', fn: () => {
    let p = pos, n = 0
    for (let i = 0; i < BATCH; i++) { n += lmdb.get(ids[stream[p]]).length; p = (p + 1) & MASK }
    pos = p; sink += n
  } })
  for (const t of tasks) t.opts = reset
  return { tasks, check: () => { if (sink <= 0) throw new Error('nothing read') } }
}
