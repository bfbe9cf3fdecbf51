/**
 * getOrLoad across real threads: one loader for a missing item among 4 threads × 250 concurrent
 * callers, and a loader whose thread dies is replaced once its lease lapses. Workers run the built
 * core (packages/core/dist).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { sleep } from './helpers/kill-checks.js'
import { runWatched } from './helpers/watched-worker.js'

const WORKER = new URL('./fixtures/read-through-worker.mjs', import.meta.url)

const start = (cache: ScopeCache, data: Record<string, unknown>) => runWatched<{ w: number; distinct: string[] }>(cache, WORKER, data)

describe('getOrLoad across threads', () => {
  it('4 threads × 250 concurrent callers of one missing item: the loader runs once, all get its value', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const words = new SharedArrayBuffer(12)
    const reports = await Promise.all(Array.from({ length: 4 }, (_, w) =>
      start(cache, { role: 'many', w, threads: 4, calls: 250, scope: 'view:hot', id: 'feed', words }).done))
    expect(Atomics.load(new Int32Array(words), 1)).toBe(1)
    const all = new Set(reports.flatMap((r) => r.distinct))
    expect(all.size).toBe(1)
    const [seq, payload] = JSON.parse([...all][0]!) as [number, { loadedBy: number }]
    expect(seq).toBe(1)
    expect(cache.get('view:hot', { id: 'feed' })!.payload).toEqual(payload)
    checkInvariants(cache)
    cache.close()
  })

  it('a loader whose thread dies is replaced after its lease', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const words = new SharedArrayBuffer(24) // [2] the loader runs; f64 at byte 16: when its getOrLoad began
    const flag = new Int32Array(words, 0, 3)
    const leaseMs = 300
    const storeNow = (): number => performance.timeOrigin + performance.now() // the store clock, as every thread reads it
    const { worker, done } = start(cache, { role: 'die', scope: 'v', id: 'x', words, leaseMs })
    done.catch(() => {})
    for (let i = 0; i < 5000 && Atomics.load(flag, 2) === 0; i++) await sleep(1)
    expect(Atomics.load(flag, 2)).toBe(1)
    // the lease began after this instant; timing from when this thread's poll saw the loader run
    // would start late by however long the poll took
    const t0 = new Float64Array(words, 16, 1)[0]
    await worker.terminate()
    const got = await cache.getOrLoad('v', { id: 'x' }, () => 'taken over')
    expect(got.payload).toBe('taken over')
    expect(storeNow() - t0).toBeGreaterThanOrEqual(leaseMs - 2) // it waited for the lease, not less (threads' clocks may differ by a fraction of a ms)
    checkInvariants(cache)
    cache.close()
  })
})
