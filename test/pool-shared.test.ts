/**
 * @scopecache/pool: workers of one pool and the owner thread share one store. Tasks run in real
 * piscina workers (built JS: packages/pool/dist and test/fixtures/pool-tasks.mjs).
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createCachePool, type CachePool } from '../packages/pool/dist/index.js'
import { poolsClosedAfterEach, TASKS } from './helpers/pools.js'

const pool = poolsClosedAfterEach()

interface Seen { threadId: number; payload: unknown }

describe('createCachePool: one store for the owner and every worker', () => {
  it('workers read what the owner wrote, the owner reads what workers wrote, across distinct workers', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    cache.upsert('cfg', 'greeting', { text: 'hello from the owner' })
    const p = pool(cache, 2)
    // Two tasks that meet on a shared-memory barrier must run at once, hence on two workers.
    const gate = new SharedArrayBuffer(4)
    const seen = (await Promise.all([0, 1].map(() => p.run({ gate, parties: 2, scope: 'cfg', id: 'greeting' }, { name: 'readAtBarrier' })))) as Seen[]
    expect(new Set(seen.map((s) => s.threadId)).size).toBe(2)
    for (const s of seen) expect(s.payload).toEqual({ text: 'hello from the owner' })

    await Promise.all(seen.map((s, i) => p.run({ scope: 'from-workers', id: `w${i}`, payload: { i } }, { name: 'write' })))
    expect(cache.get('from-workers', { id: 'w0' })?.payload).toEqual({ i: 0 })
    expect(cache.get('from-workers', { id: 'w1' })?.payload).toEqual({ i: 1 })

    // An owner write after the workers started is visible to them at once (no copies, no sync).
    cache.upsert('cfg', 'greeting', { text: 'changed' })
    const again = (await p.run({ scope: 'cfg', id: 'greeting' }, { name: 'read' })) as Seen
    expect(again.payload).toEqual({ text: 'changed' })
  })

  it('many concurrent tasks append and read back with exact results', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 8 << 20 })
    const p = pool(cache, 4)
    const TASKS_N = 40
    const N = 50
    const results = (await Promise.all(
      Array.from({ length: TASKS_N }, (_, task) => p.run({ scope: 'shared', task, n: N }, { name: 'appendAndRead' })),
    )) as { threadId: number; seqs: number[]; back: number[] }[]

    const seqs = results.flatMap((r) => r.seqs)
    expect(new Set(seqs).size).toBe(TASKS_N * N)
    expect(Math.min(...seqs)).toBe(1)
    expect(Math.max(...seqs)).toBe(TASKS_N * N)
    for (const r of results) {
      expect(r.back).toEqual(Array.from({ length: N }, (_, i) => i))
      // one task's appends are ordered even when others interleave
      for (let i = 1; i < r.seqs.length; i++) expect(r.seqs[i]).toBeGreaterThan(r.seqs[i - 1])
    }
    expect(new Set(results.map((r) => r.threadId)).size).toBeGreaterThan(1)

    const { items } = cache.tail('shared', { limit: TASKS_N * N })
    expect(items).toHaveLength(TASKS_N * N)
    const byTask = new Map<number, number[]>()
    for (const it of items) {
      const { task, i } = it.payload as { task: number; i: number }
      expect(it.id).toBe(`t${task}-${i}`)
      byTask.set(task, [...(byTask.get(task) ?? []), i])
    }
    for (let t = 0; t < TASKS_N; t++) expect(byTask.get(t)).toEqual(Array.from({ length: N }, (_, i) => i))

    // counters: increments from every worker add up exactly
    await Promise.all(Array.from({ length: 20 }, () => p.run({ scope: 'ctr', id: 'hits', times: 100 }, { name: 'counter' })))
    expect(cache.get('ctr', { id: 'hits' })?.payload).toBe(2000)
  })

  for (const atomics of ['sync', 'async', 'disabled'] as const) {
    it(`works in piscina's atomics: '${atomics}' mode (tasks, control calls)`, async () => {
      const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
      cache.upsert('m', 'k', atomics)
      const p = createCachePool({ cache, filename: TASKS, minThreads: 2, maxThreads: 2, atomics })
      pool.track(p)
      const reads = (await Promise.all([0, 1, 2, 3].map(() => p.run({ scope: 'm', id: 'k' }, { name: 'read' })))) as Seen[]
      expect(reads.map((r) => r.payload)).toEqual([atomics, atomics, atomics, atomics])
      expect(await p.run({ op: 'stats' }, { name: 'control' })).toMatchObject({ ok: true, value: { store: { items: 1 } } })
    })
  }

  it('transferList and Piscina.move reach the task (the envelope does not hide them)', async () => {
    // piscina is a dependency of the pool package, not of the workspace root
    const { Piscina } = createRequire(new URL('../packages/pool/package.json', import.meta.url))('piscina') as typeof import('piscina')
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }), 1)
    const a = new ArrayBuffer(1024)
    expect(await p.run(a, { name: 'byteLength', transferList: [a] })).toBe(1024)
    expect(a.byteLength).toBe(0) // moved, not copied
    const b = new ArrayBuffer(512)
    expect(await p.run(Piscina.move(b), { name: 'byteLength' })).toBe(512)
    expect(b.byteLength).toBe(0)
  })

  it("hands each worker the caller's own workerData", async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const p = createCachePool({ cache, filename: TASKS, maxThreads: 1, workerData: { region: 'eu', n: 3 } })
    pool.track(p)
    expect(await p.run(null, { name: 'data' })).toEqual({ region: 'eu', n: 3 })
    expect(await p.run('x')).toMatchObject({ task: 'x' }) // the default export
  })
})
