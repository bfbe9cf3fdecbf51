// One thread of suites/scaling.mjs, kept alive across trials (so no trial pays thread start-up).
// Per trial it gets a role: a reader warms up, reports ready, blocks on the start barrier, then
// times a fixed count of random reads; a writer warms up, waits on the same barrier, then writes
// until told to stop (bounded in count and time): append + trim in its own scope, or upserts over
// the readers' ids in theirs.
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { dataset, MASK } from '../lib/data.mjs'

const READY = 0, GO = 1, STOP = 2
const { handle, lmdbPath, index } = workerData
const data = dataset(undefined, 0x5eed1234 + index * 7919) // each thread its own random order
const { ids, texts, stream } = data
const cache = ScopeCache.attach(handle)
let lmdb = null
let map = null

function barrier(ctl) {
  Atomics.add(ctl, READY, 1)
  Atomics.notify(ctl, READY)
  while (Atomics.load(ctl, GO) === 0) Atomics.wait(ctl, GO, 0, 1000)
}

// One read function per engine and scope, each its own closure (own call site).
async function readerFor(engine, scope) {
  if (engine === 'scopecache') return (k) => cache.getRaw(scope, { id: ids[k] })
  if (engine === 'map') {
    map ??= new Map(ids.map((id, i) => [id, texts[i]]))
    return (k) => map.get(ids[k])
  }
  if (engine === 'lmdb') {
    lmdb ??= (await import('lmdb')).open({ path: lmdbPath, encoding: 'string' })
    return (k) => lmdb.get(ids[k])
  }
  throw new Error(`unknown engine ${engine}`)
}

async function reader({ engine, scope, ops, warmOps }, ctl) {
  const read = await readerFor(engine, scope)
  for (let i = 0; i < 1000; i++) if (read(i) !== texts[i]) throw new Error(`${engine} reader ${index}: wrong value for ${ids[i]}`)
  let sink = 0
  for (let i = 0; i < warmOps; i++) sink += read(stream[i & MASK]).length
  barrier(ctl)
  const t = process.hrtime.bigint()
  for (let i = 0; i < ops; i++) sink += read(stream[i & MASK]).length
  const ns = Number(process.hrtime.bigint() - t)
  if (sink === 0) throw new Error('nothing read')
  return { ns, ops }
}

function writer({ scope, writer: { mode, maxMs, maxWrites } }, ctl) {
  let n = 0
  const write = mode === 'same'
    // Upserts over the readers' own ids, rewriting each item's own payload (a real write: new block,
    // publish, free the old one), so readers keep hitting and every value stays checkable.
    ? () => { const k = stream[n & MASK]; cache.upsert(scope, ids[k], data.payloads[k]) }
    // Appends in a scope no reader touches, trimmed to 10 000 items so the store stays bounded.
    : () => { cache.append(scope, data.payloads[n % data.n], { id: `w:${n}` }); if ((n & 1023) === 1023) cache.trim(scope, { keep: 10_000 }) }
  for (let i = 0; i < 20_000; i++, n++) write()
  barrier(ctl)
  let done = 0
  const t0 = performance.now()
  while (Atomics.load(ctl, STOP) === 0 && done < maxWrites) {
    write()
    n++
    done++
    if ((done & 4095) === 0 && performance.now() - t0 > maxMs) break
  }
  return { writes: done, ms: performance.now() - t0 }
}

parentPort.on('message', async (m) => {
  if (m.cmd === 'close') {
    cache.close()
    await lmdb?.close()
    parentPort.close()
    return
  }
  try {
    const ctl = new Int32Array(m.ctl)
    parentPort.postMessage({ ok: m.role === 'writer' ? writer(m, ctl) : await reader(m, ctl) })
  } catch (e) {
    parentPort.postMessage({ error: e?.stack ?? String(e) })
  }
})
parentPort.postMessage({ ready: true })
