// The drain worker of the inbox example: every DRAIN_MS it takes what the request handlers
// appended to the `events` scope (tail), ships it as one batch, and trims exactly what it
// shipped (`trim({ maxSeq })`): events appended meanwhile have higher seqs and stay for the
// next batch, so nothing is lost or shipped twice.
//
// It runs a timer between tasks, so its pool needs `atomics: 'disabled'` (piscina would
// otherwise park the idle worker in Atomics.wait, and the timer would never fire), and
// `minThreads: 1, idleTimeout: Infinity` so the worker starts at once and is never retired.
import { appendFileSync } from 'node:fs'
import { workerCache, workerData } from '@scopecache/pool/worker'

const cache = workerCache()
const { outFile, drainMs } = workerData()
// The events scope is capped at the store's scopeMaxItems (10 000 in main.mjs), so one tail
// of 10 000 always holds the whole buffer; `truncated` would say otherwise.
const LIMIT = 10_000

let batches = 0
let shipped = 0

/** Ships one batch; returns its size. Also callable as a task (main.mjs calls it at the end). */
export function drainNow() {
  const { items, truncated } = cache.tail('events', { limit: LIMIT, raw: true })
  if (items.length === 0) return { batch: 0, batches, shipped }
  if (truncated) throw new Error('events buffer is larger than one tail: raise LIMIT to scopeMaxItems')
  // Ship first, trim after: a crash in between ships a batch twice (at-least-once), never loses one.
  appendFileSync(outFile, items.map((it) => it.payload).join('\n') + '\n')
  cache.trim('events', { maxSeq: items.at(-1).seq })
  batches++
  shipped += items.length
  return { batch: items.length, batches, shipped }
}

setInterval(() => {
  try {
    drainNow()
  } catch (err) {
    // The batch stays in the buffer and is tried again next time; a throw here would end the worker.
    console.error('drain failed, will retry:', err.code ?? err.name, err.message)
  }
}, drainMs)
