// Worker side of suites/point-reads.mjs: attach to the store, open the same lmdb environment, run
// the in-process tasks here (the targets are stated for a worker thread), post the rows back.
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { dataset } from '../lib/data.mjs'
import { timeSync } from '../lib/measure.mjs'
import { pointTasks } from '../lib/point-tasks.mjs'

const { handle, lmdbPath, quick } = workerData
const cache = ScopeCache.attach(handle)
let lmdb = null
if (lmdbPath) lmdb = (await import('lmdb')).open({ path: lmdbPath, encoding: 'string' })
const { tasks, check } = pointTasks({ cache, lmdb, data: dataset() })
// Process CPU time ÷ wall time while the tasks run (the main thread idles meanwhile): below ~1,
// other processes took this thread's CPU during the measurement.
const cpu0 = process.cpuUsage(), wall0 = performance.now()
const rows = timeSync(tasks, { quick, progress: (m) => parentPort.postMessage({ progress: m }) })
const cpu = process.cpuUsage(cpu0)
const coresUsed = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0)
check()
if (lmdb) await lmdb.close()
cache.close()
parentPort.postMessage({ rows: rows.map((r, i) => ({ ...r, key: tasks[i].key })), coresUsed })
