// One store shared by processes (ScopeCache.open over @scopecache/shm) against the same store
// shared by threads: 2 worker threads attached by handle vs 2 child processes that open it by name,
// running the same code (processes-worker.mjs) on the same store, in interleaved rounds. Each round
// runs the thread pair (both at once) and then the process pair for one slice each; a round's ratio
// is processes' operations ÷ threads' operations, and the median of the per-round ratios is reported.
//   reads          getRaw by id over a 512-item hot set (seqlock reads: nothing shared is written)
//   writes, apart  each writer upserts its own item in its own scope (locks never contended)
//   writes, shared both upsert in ONE scope: its lock is contended, so waits and wakes cross
//                  processes through the futex (threads: Atomics.wait/notify)
import { fork } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { prefixedSet } from '../lib/data.mjs'
import { median, round } from '../lib/measure.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const WORKER = new URL('./processes-worker.mjs', import.meta.url)
const N = 512
const CASES = [
  { key: 'reads', name: 'getRaw by id, 512 hot items', op: 'read', scope: () => 'hot' },
  { key: 'writesApart', name: 'upsert, each in its own scope', op: 'write', scope: (k) => `own:${k}` },
  { key: 'writesShared', name: 'upsert, both in one scope (contended lock)', op: 'write', scope: () => 'shared' },
]

/** A reader/writer behind one `ask({ op, ms }) → ops` interface, as a thread or a process. */
function start(kind, args) {
  const ch = kind === 'thread'
    ? new Worker(WORKER, { workerData: args })
    : fork(WORKER, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let waiting = null
  const ready = new Promise((resolve, reject) => {
    waiting = resolve
    ch.once('error', reject)
  })
  ch.on('message', (m) => { const w = waiting; waiting = null; w?.(m) })
  const post = (m) => (kind === 'thread' ? ch.postMessage(m) : ch.send(m))
  return {
    ready,
    ask: (m) => new Promise((resolve) => { waiting = (r) => resolve(r.ops); post(m) }),
    stop: () => new Promise((resolve) => { ch.once('exit', resolve); post({ op: 'exit' }) }),
  }
}

const suite = {
  id: 'processes',
  title: 'One store shared by 2 processes vs by 2 threads (ScopeCache.open), same-run ratios',
  async run({ quick, progress }) {
    const rounds = quick ? 5 : 15, sliceMs = quick ? 100 : 300
    const name = `bench-processes-${process.pid}`
    ScopeCache.unlink(name)
    const cache = ScopeCache.open({ name, maxStoreBytes: 64 << 20 })
    try {
      const { ids, payloads } = prefixedSet(N)
      for (let i = 0; i < N; i++) cache.append('hot', payloads[i], { id: ids[i] })
      const figures = { 'processes.rounds': rounds, 'processes.sliceMs': sliceMs }
      const rows = []
      for (const c of CASES) {
        progress(`${c.key}: starting 2 threads and 2 processes`)
        const threads = [0, 1].map((k) => start('thread', { handle: cache.handle, n: N, k, scope: c.scope(k) }))
        const procs = [0, 1].map((k) => start('process', { name, n: N, k, scope: c.scope(k) }))
        await Promise.all([...threads, ...procs].map((w) => w.ready))
        const t = [], p = [], ratio = []
        for (let r = 0; r < rounds + 1; r++) { // round 0 warms up, untimed
          progress(`${c.key}: round ${r}/${rounds}`)
          const tOps = (await Promise.all(threads.map((w) => w.ask({ op: c.op, ms: sliceMs })))).reduce((a, b) => a + b, 0)
          const pOps = (await Promise.all(procs.map((w) => w.ask({ op: c.op, ms: sliceMs })))).reduce((a, b) => a + b, 0)
          if (r === 0) continue
          t.push((tOps / sliceMs) * 1000)
          p.push((pOps / sliceMs) * 1000)
          ratio.push(pOps / tOps)
        }
        await Promise.all([...threads, ...procs].map((w) => w.stop()))
        const med = median(ratio)
        figures[`processes.${c.key}.threadsOpsPerSec`] = Math.round(median(t))
        figures[`processes.${c.key}.processesOpsPerSec`] = Math.round(median(p))
        figures[`processes.${c.key}.processesVsThreads`] = round(med, 3)
        rows.push([c.name, `${Math.round(median(t)).toLocaleString('en')}`, `${Math.round(median(p)).toLocaleString('en')}`, `${med.toFixed(2)}×`, `${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}×`])
      }
      return {
        tables: [{ title: 'Same store, 2 threads vs 2 processes', columns: ['case', 'threads: ops/s (2 together)', 'processes: ops/s (2 together)', 'processes ÷ threads (median of per-round ratios)', 'per-round range'], rows }],
        figures,
        notes: [
          `${rounds} interleaved rounds after one warm-up round: each round runs the 2 threads together for ${sliceMs} ms, then the 2 processes together for ${sliceMs} ms; the ratio is per round. The store is one ScopeCache.open store in /dev/shm for both; the threads attach by handle, the processes open it by name; both run benchmarks/suites/processes-worker.mjs.`,
          'Reads write nothing shared (seqlock), so a process reads as fast as a thread. Writes take the scope lock and the allocator lock; in a store in shared memory every contended wait — of a thread or of a process — sleeps on the futex (@scopecache/shm) instead of Atomics.wait, and a release with waiters wakes it through the futex, so both pairs here take the same path and the ratio is the cost of being another process (its own address space, its own page tables for the mapping).',
          'On 2 cores, 2 readers or writers and the runner share the CPU: ops/s are of the pair together.',
        ],
        skipped: [],
      }
    } finally {
      cache.close()
      ScopeCache.unlink(name)
    }
  },
}

export default suite
await runIfMain(import.meta, suite)
