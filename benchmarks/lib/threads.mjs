// Worker threads of a suite file that runs itself as its own worker (concurrency, locks): a
// shared-memory start barrier, and a spawn that attaches the worker to the store.
import { Worker } from 'node:worker_threads'

/** Every one of `n` threads waits here until all have arrived (bounded waits, re-checked). */
export function barrier(gate, n) {
  Atomics.add(gate, 0, 1)
  Atomics.notify(gate, 0)
  while (Atomics.load(gate, 0) < n) Atomics.wait(gate, 0, Atomics.load(gate, 0), 5)
}

/** Starts `url` as a worker attached to `cache` (watched); resolves with its first message. */
export function spawnAttached(url, cache, data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData: { handle: cache.handle, ...data } })
    cache.watch(w)
    w.once('message', resolve)
    w.once('error', reject)
  })
}
