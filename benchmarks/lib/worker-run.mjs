// Runs one benchmark worker thread attached to a store and waits for its report. The worker posts
// { progress } messages while it runs (forwarded to the progress line) and then one result message.
import { Worker } from 'node:worker_threads'

export function runWorker(url, { cache, workerData, progress, label = 'worker' }) {
  const worker = new Worker(url, { workerData: { handle: cache.handle, ...workerData } })
  cache.watch(worker)
  return new Promise((resolve, reject) => {
    worker.on('message', (m) => (m.progress ? progress(`${label}: ${m.progress}`) : resolve(m)))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`${label} exited with code ${code} before reporting`)))
  })
}
