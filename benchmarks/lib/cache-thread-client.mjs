// Client side of lib/cache-thread.mjs: start the thread, then get(key) → Promise<string>.
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import * as Comlink from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'

export async function startCacheThread(mode) {
  const worker = new Worker(new URL('./cache-thread.mjs', import.meta.url), { workerData: { mode } })
  const [first] = await once(worker, 'message')
  if (first !== 'ready') throw new Error(`cache thread: unexpected first message ${first}`)
  let get
  if (mode === 'comlink') {
    const api = Comlink.wrap(nodeEndpoint(worker))
    get = (key) => api.get(key)
  } else {
    let resolve = null
    worker.on('message', (v) => { const r = resolve; resolve = null; r(v) })
    get = (key) => new Promise((r) => { resolve = r; worker.postMessage(key) })
  }
  return { get, stop: () => worker.terminate() }
}
