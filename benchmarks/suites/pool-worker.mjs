// Task module for suites/pool.mjs, run in a createCachePool worker. Each task reads 100 items by
// id, `rounds` times, through one access path, and returns ns per read measured inside the
// worker (piscina's dispatch is outside the timed region, and the same for every path).
import { LRUCache } from 'lru-cache'
import { wrap } from 'comlink'
import nodeEndpoint from 'comlink/dist/umd/node-adapter.js'
import { workerCache, workerData } from '@scopecache/pool/worker'

const { scope, n, payloads } = workerData()
const cache = workerCache()
let lru // built on first use: a per-worker copy of the data, as an app without a shared store keeps
let port // owner's Map over postMessage
let pending
let remote // owner's Map over comlink

export function connect({ rawPort, comlinkPort }) {
  port = rawPort
  port.on('message', (m) => pending(m))
  remote = wrap(nodeEndpoint(comlinkPort))
  return true
}

export function close() {
  port.close()
  return true
}

const ask = (msg) => new Promise((resolve) => {
  pending = resolve
  port.postMessage(msg)
})

function batchOf(round, seed) {
  // 100 ids per round from a fixed LCG: the same sequence for every path
  const ids = new Array(100)
  let s = (seed + round * 7919) >>> 0
  for (let i = 0; i < 100; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    ids[i] = `item:${String(s % n).padStart(6, '0')}`
  }
  return ids
}

const sink = { v: 0 }
const use = (p) => { sink.v ^= p === undefined ? 1 : 0 }

export async function read({ path, rounds, seed }) {
  const batches = Array.from({ length: rounds }, (_, r) => batchOf(r, seed))
  if (path === 'lru' && lru === undefined) {
    lru = new LRUCache({ max: n })
    for (let i = 0; i < n; i++) lru.set(`item:${String(i).padStart(6, '0')}`, payloads[i])
  }
  const t0 = process.hrtime.bigint()
  for (const ids of batches) {
    switch (path) {
      case 'scopecache.get':
        for (const id of ids) use(cache.get(scope, { id })?.payload)
        break
      case 'scopecache.getRaw':
        for (const id of ids) use(cache.getRaw(scope, { id }))
        break
      case 'lru':
        for (const id of ids) use(lru.get(id))
        break
      case 'postMessage':
        for (const id of ids) use(await ask({ id }))
        break
      case 'postMessage.batch':
        for (const p of await ask({ ids })) use(p)
        break
      case 'comlink':
        for (const id of ids) use(await remote.get(id))
        break
      case 'comlink.batch':
        for (const p of await remote.getMany(ids)) use(p)
        break
      default:
        throw new Error(`unknown path ${path}`)
    }
  }
  const ns = Number(process.hrtime.bigint() - t0)
  if (sink.v !== 0) throw new Error('a read missed') // every id exists: a miss is a bug
  return ns / (rounds * 100)
}
