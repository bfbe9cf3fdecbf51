// A worker thread attached to a store and watched by it (`cache.watch`, so its death is reaped),
// whose result is the last message it posted before exiting with code 0.
import { Worker } from 'node:worker_threads'

interface Watching {
  readonly handle: unknown
  watch(worker: Worker): void
}

export function runWatched<T>(cache: Watching, url: URL, data: Record<string, unknown>): { worker: Worker; done: Promise<T> } {
  const worker = new Worker(url, { workerData: { handle: cache.handle, ...data } })
  cache.watch(worker)
  const done = new Promise<T>((resolve, reject) => {
    let last: T | undefined
    worker.on('message', (m: T) => (last = m))
    worker.once('error', reject)
    worker.once('exit', (code) => (code === 0 && last !== undefined ? resolve(last) : reject(new Error(`worker exited with ${code}`))))
  })
  return { worker, done }
}
