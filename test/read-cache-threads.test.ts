/**
 * The readers' decoded-string cache across threads: writers with frozen clocks replace, update and
 * re-create a few hot ids (blocks re-used with the same seq and ts), readers on other threads must
 * never see a version older than one already acknowledged. See fixtures/read-cache-worker.mjs.
 */
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'

const WORKER = new URL('./fixtures/read-cache-worker.mjs', import.meta.url)
const SEED = process.env.SCOPECACHE_SEED !== undefined ? Number(process.env.SCOPECACHE_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0

interface Report { role: string; index: number; ops: number; hits: number; stale: number; wrong: number; firstProblem: string | null }

function run(cache: ScopeCache, data: Record<string, unknown>): Promise<Report> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { handle: cache.handle, ...data } })
    cache.watch(w)
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)))
  })
}

describe('decoded-string cache across threads', () => {
  it('never serves a replaced, deleted or re-used item', async () => {
    console.log(`read-cache-threads seed=${SEED} (replay with SCOPECACHE_SEED=${SEED})`)
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const ids = 8
    const acked = new SharedArrayBuffer(4 * (ids + 1))
    const writers = 2
    const common = { acked, ids, writers, seed: SEED }
    const reports = await Promise.all([
      run(cache, { ...common, role: 'writer', index: 0, ops: 20_000 }),
      run(cache, { ...common, role: 'writer', index: 1, ops: 20_000 }),
      run(cache, { ...common, role: 'reader', index: 2, ops: 60_000 }),
      run(cache, { ...common, role: 'reader', index: 3, ops: 60_000 }),
    ])
    const readers = reports.filter((r) => r.role === 'reader')
    console.log(`read-cache-threads: ${readers.map((r) => `${r.hits} of ${r.ops} reads hit`).join(', ')}`)
    for (const r of readers) {
      expect(r.firstProblem, `seed ${SEED}`).toBeNull()
      expect(r.hits).toBeGreaterThan(r.ops / 2)
    }
    const v = new Int32Array(acked)
    for (let j = 0; j < ids; j++) expect(JSON.parse(cache.getRaw('s', { id: `k${j}` }) as string)).toEqual({ j, v: v[j] })
    checkInvariants(cache)
    cache.close()
  })
})
