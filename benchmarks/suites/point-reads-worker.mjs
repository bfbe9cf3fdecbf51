// Worker side of suites/point-reads.mjs: attach to the store, open the same lmdb environment, run
// the in-process tasks here (the targets are stated for a worker thread), post the rows back.
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { dataset } from '../lib/data.mjs'
import { timeSync, withCpuShare } from '../lib/measure.mjs'
import { pointTasks } from '../lib/point-tasks.mjs'

const { handle, lmdbPath, quick } = workerData
const cache = ScopeCache.attach(handle)
let lmdb = null
if (lmdbPath) lmdb = (await import('lmdb')).open({ path: lmdbPath, encoding: 'string' })
const { tasks, check } = pointTasks({ cache, lmdb, data: dataset() })
// The CPU share this thread got while the tasks ran (the main thread idles meanwhile).
const { result: rows, coresUsed } = await withCpuShare(() => timeSync(tasks, { quick, progress: (m) => parentPort.postMessage({ progress: m }) }))
check()
if (lmdb) await lmdb.close()
cache.close()
parentPort.postMessage({ rows: rows.map((r, i) => ({ ...r, key: tasks[i].key })), coresUsed })
