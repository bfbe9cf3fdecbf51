// How often an optimistic read of a hot scope gives up and takes the writer's lock.
// One worker upserts into scope 'hot' non-stop while another reads it; the reader counts its
// locked fallbacks by wrapping the handle's private write() (a read thread calls it only then).
//   node tools/read-fallback.mjs [path/to/core/dist] [seconds]
import { Worker } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const dist = pathToFileURL(resolve(process.argv[2] ?? 'packages/core/dist')).href
const seconds = Number(process.argv[3] ?? 3)
const { ScopeCache } = await import(`${dist}/index.js`)
const cache = ScopeCache.create({ maxStoreBytes: 8 << 20 })
for (let i = 0; i < 64; i++) cache.upsert('hot', `k${i}`, { i, pad: 'x'.repeat(100) })
const stop = new Int32Array(new SharedArrayBuffer(4))
const body = `
  const { parentPort, workerData: w } = require('node:worker_threads')
  import(w.dist + '/index.js').then(({ ScopeCache }) => {
    const c = ScopeCache.attach(w.handle)
    const stop = new Int32Array(w.stop)
    let n = 0, fallbacks = 0
    if (w.role === 'writer') {
      while (Atomics.load(stop, 0) === 0) c.upsert('hot', 'k' + (n++ % 64), { n, pad: 'x'.repeat(100) })
    } else {
      const write = c.write
      c.write = function (...a) { fallbacks++; return write.apply(this, a) }
      while (Atomics.load(stop, 0) === 0) { c.getRaw('hot', { id: 'k' + (n % 64) }); n++ }
    }
    parentPort.postMessage({ n, fallbacks })
  })`
const run = (role) => new Promise((res, rej) => {
  const w = new Worker(body, { eval: true, workerData: { dist, handle: cache.handle, stop: stop.buffer, role } })
  w.once('message', res)
  w.once('error', rej)
})
const done = [run('writer'), run('reader')]
await new Promise((r) => setTimeout(r, seconds * 1000))
Atomics.store(stop, 0, 1)
const [writer, reader] = await Promise.all(done)
console.log(`${dist}: ${writer.n} writes, ${reader.n} reads, ${reader.fallbacks} locked fallbacks = ${(100 * reader.fallbacks / reader.n).toFixed(4)} % of reads`)
