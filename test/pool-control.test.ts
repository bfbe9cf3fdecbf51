/**
 * The control channel: workers ask the owner thread to warm/rebuild from its source of truth,
 * flush, report aggregated stats, and shut the pool down. Calls are comlink over one port per
 * worker; results come back by value.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache, type WarmItem } from '../packages/core/dist/index.js'
import { createCachePool, type CachePool, type CacheSource } from '../packages/pool/dist/index.js'

const TASKS = new URL('./fixtures/pool-tasks.mjs', import.meta.url)
const open: CachePool[] = []
const pool = (cache: ScopeCache, threads: number, source?: CacheSource): CachePool => {
  const p = createCachePool({ cache, filename: TASKS, minThreads: threads, maxThreads: threads, source })
  open.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()))
})

interface Reply<T = unknown> { ok: boolean; value: T; code?: string }
const control = <T>(p: CachePool, op: string, arg?: unknown) => p.run({ op, arg }, { name: 'control' }) as Promise<Reply<T>>

describe('ownerControl(): calls that belong to the owner thread', () => {
  it('warm loads only the named scopes from the source; every worker then reads them', async () => {
    const db: Record<string, WarmItem[]> = {
      'user:1': [{ scope: 'user:1', id: 'profile', payload: { name: 'Ada' } }],
      'user:2': [{ scope: 'user:2', id: 'profile', payload: { name: 'Grace' } }],
    }
    const asked: (readonly string[] | null)[] = []
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const p = pool(cache, 2, ({ scopes }) => {
      asked.push(scopes)
      return (scopes ?? Object.keys(db)).flatMap((s) => db[s] ?? [])
    })
    expect(await control(p, 'warm', ['user:1'])).toEqual({ ok: true, value: { scopes: 1 } })
    expect(asked).toEqual([['user:1']])
    expect(cache.get('user:1', { id: 'profile' })?.payload).toEqual({ name: 'Ada' })
    expect(cache.get('user:2', { id: 'profile' })).toBeUndefined()
    const gate = new SharedArrayBuffer(4) // both tasks wait for each other: two workers
    const seen = (await Promise.all([0, 1].map(() => p.run({ gate, parties: 2, scope: 'user:1', id: 'profile' }, { name: 'readAtBarrier' })))) as { threadId: number; payload: unknown }[]
    expect(new Set(seen.map((s) => s.threadId)).size).toBe(2)
    for (const s of seen) expect(s.payload).toEqual({ name: 'Ada' })
  })

  it('concurrent rebuild requests from several workers share one load (single-flight)', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    cache.append('stale', 'old')
    let loads = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const p = pool(cache, 4, async () => {
      loads++
      await gate
      return [{ scope: 'fresh', id: 'a', payload: 1 }, { scope: 'fresh', id: 'b', payload: 2 }]
    })
    let arrived = 0
    p.on('control', (op) => {
      if (op === 'rebuild' && ++arrived === 4) release()
    })
    const replies = await Promise.all([0, 1, 2, 3].map(() => control(p, 'rebuild')))
    expect(loads).toBe(1)
    for (const r of replies) expect(r).toEqual({ ok: true, value: { scopes: 1, items: 2 } })
    expect(cache.get('fresh', { id: 'b' })?.payload).toBe(2)
    expect(cache.tail('stale').items).toHaveLength(0) // rebuild replaced the whole store
  })

  it('flush empties the store for everyone; stats aggregate store and pool counters', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    for (let i = 0; i < 5; i++) cache.append('s', i)
    const p = pool(cache, 2)
    const stats = await control<{ store: { items: number }; pool: { attachedWorkers: number; threads: number } }>(p, 'stats')
    expect(stats.value.store.items).toBe(5)
    expect(stats.value.pool.threads).toBe(2)
    expect(stats.value.pool.attachedWorkers).toBeGreaterThanOrEqual(1)
    expect(await control(p, 'flush')).toMatchObject({ ok: true, value: { scopes: 1, items: 5 } })
    expect(cache.stats().items).toBe(0)
  })

  it('shutdown from a worker closes the pool after running tasks finish; later runs are refused', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const p = pool(cache, 1)
    expect(await control(p, 'shutdown')).toEqual({ ok: true, value: { closing: true } })
    await p.close() // the same close the worker started
    await expect(p.run('late')).rejects.toMatchObject({ code: 'pool_closed' })
    cache.append('still', 'usable')
    expect(cache.tail('still').items).toHaveLength(1)
  })
})
