/**
 * Pool lifecycle: close() drains and detaches workers and leaves the store to the owner; a
 * worker that dies (aborted mid-write, or exiting while it holds a lock) is replaced and the
 * store stays consistent; a process that used a pool exits on its own.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createCachePool, type CachePool } from '../packages/pool/dist/index.js'
import { poolsClosedAfterEach, TASKS } from './helpers/pools.js'

const pool = poolsClosedAfterEach()

/** Waits (bounded) until a worker sets gate[0] to 1: a shared-memory handshake, not a sleep. */
async function waitGate(gate: SharedArrayBuffer): Promise<void> {
  const g = new Int32Array(gate)
  const deadline = Date.now() + 10_000
  while (Atomics.load(g, 0) === 0) {
    if (Date.now() > deadline) throw new Error('worker never reached the gate')
    const w = Atomics.waitAsync(g, 0, 0, 50)
    if (w.async) await w.value
  }
}

const reaped = (p: CachePool): Promise<unknown[]> => once(p, 'workerReaped')

describe('pool lifecycle', () => {
  it('close() drains queued tasks, frees every worker slot, and leaves the store usable', async () => {
    // owner + 2 workers = every thread slot; a second pool can attach only if close freed them
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreads: 3 })
    const p1 = pool(cache, 2)
    const queued = Array.from({ length: 20 }, (_, task) => p1.run({ scope: 'drain', task, n: 5 }, { name: 'appendAndRead' }))
    await p1.close()
    expect((await Promise.all(queued)).length).toBe(20) // every queued task ran before close resolved
    expect(cache.tail('drain', { limit: 1000 }).items).toHaveLength(100)
    expect(p1.stats().pool.attachedWorkers).toBe(0)
    expect(p1.stats().pool.reapedWorkers).toBe(2)
    await expect(p1.run('late')).rejects.toMatchObject({ code: 'pool_closed' })
    await p1.close() // idempotent

    cache.upsert('after', 'k', 'owner still writes')
    const p2 = pool(cache, 2)
    const gate = new SharedArrayBuffer(4)
    const seen = (await Promise.all([0, 1].map(() => p2.run({ gate, parties: 2, scope: 'after', id: 'k' }, { name: 'readAtBarrier' })))) as { payload: unknown }[]
    expect(seen.map((s) => s.payload)).toEqual(['owner still writes', 'owner still writes'])
  })

  it('a worker aborted mid-write is replaced; the scope stays readable and writable by all', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20 })
    const p = pool(cache, 1)
    const gate = new SharedArrayBuffer(4)
    const ac = new AbortController()
    const killed = p.run({ scope: 'hot', gate }, { name: 'writeUntilKilled', signal: ac.signal })
    await waitGate(gate)
    const gone = reaped(p)
    ac.abort() // piscina terminates the worker wherever it is in its write loop
    await expect(killed).rejects.toMatchObject({ name: 'AbortError' })
    await gone

    // A replacement worker and the owner both write the same scope; nothing is torn.
    const r = (await p.run({ scope: 'hot', task: 1, n: 10 }, { name: 'appendAndRead' })) as { back: number[] }
    expect(r.back).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    cache.append('hot', { owner: true })
    const { items } = cache.tail('hot', { limit: 10_000 })
    for (let i = 1; i < items.length; i++) expect(items[i].seq).toBeGreaterThan(items[i - 1].seq)
    expect(items.at(-1)?.payload).toEqual({ owner: true })
    expect(p.stats().pool.reapedWorkers).toBe(1)
  })

  it('a worker that exits holding the directory lock: the lock is taken over, other threads go on', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const p = pool(cache, 1)
    const gate = new SharedArrayBuffer(4)
    const gone = reaped(p)
    await expect(p.run({ gate }, { name: 'dieHoldingLock' })).rejects.toMatchObject({ code: 'worker_exited' })
    expect(Atomics.load(new Int32Array(gate), 0)).toBe(1) // it did take the lock before exiting
    await gone // its thread slot is now marked dead
    // Creating a scope needs the directory lock: both the replacement worker and the owner get it.
    await p.run({ scope: 'new-scope', id: 'a', payload: 1 }, { name: 'write' })
    cache.upsert('another-new-scope', 'b', 2)
    expect(cache.get('new-scope', { id: 'a' })?.payload).toBe(1)
    expect(cache.stats().scopes).toBe(2)
  })

  it('more workers die than the store has thread slots: each replacement still attaches', async () => {
    // owner + 2 workers fill every slot; 6 deaths in a row only work if each dead slot is reused
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreads: 3 })
    const p = pool(cache, 2)
    for (let i = 0; i < 6; i++) {
      const gone = reaped(p)
      await expect(p.run({ code: 1 }, { name: 'exitNow' })).rejects.toMatchObject({ code: 'worker_exited' })
      await gone
      await p.run({ scope: 'survivors', id: `r${i}`, payload: i }, { name: 'write' })
    }
    expect(cache.tail('survivors').items.map((it) => it.payload)).toEqual([0, 1, 2, 3, 4, 5])
    expect(p.stats().pool.reapedWorkers).toBe(6)
  })

  it('a worker that dies while starting (after attaching, before any task) frees its slot', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreads: 2 }) // owner + 1 worker
    const dying = createCachePool({ cache, filename: new URL('./fixtures/pool-exit-at-load.mjs', import.meta.url), minThreads: 1, maxThreads: 1 })
    dying.on('error', () => undefined) // piscina reports the crash outside any task
    await once(dying, 'workerReaped')
    await dying.close() // also stops (and reaps) a replacement piscina may be starting
    const p = pool(cache, 1)
    expect(await p.run('alive')).toMatchObject({ task: 'alive' })
  })

  it('a worker retired by idleTimeout is reaped; the next task gets a fresh, attached worker', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreads: 2 }) // owner + 1 worker
    const p = createCachePool({ cache, filename: TASKS, minThreads: 0, maxThreads: 1, idleTimeout: 20 })
    pool.track(p)
    const gone = reaped(p)
    const first = (await p.run('a')) as { threadId: number }
    await gone // retired after 20 ms idle; its slot is the only one a new worker can take
    const second = (await p.run('b')) as { threadId: number }
    expect(second.threadId).not.toBe(first.threadId)
    expect(p.stats().pool.reapedWorkers).toBe(1)
  })

  for (const atomics of ['disabled', 'async'] as const) {
    it(`atomics: '${atomics}' lets a worker's timer run between tasks (the drain-worker setting)`, async () => {
      const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
      const p = createCachePool({
        cache, filename: new URL('./fixtures/pool-timer.mjs', import.meta.url),
        minThreads: 1, maxThreads: 1, idleTimeout: Infinity, atomics,
      })
      pool.track(p)
      expect(await p.run(null)).toBe('pong')
      // No task is running now; the counter still moves (bounded wait on the store, 10 s at most).
      const ticks = () => (cache.get('timer', { id: 'ticks' })?.payload as number | undefined) ?? 0
      const start = ticks()
      const deadline = Date.now() + 10_000
      while (ticks() < start + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      expect(ticks()).toBeGreaterThanOrEqual(start + 3)
    })
  }

  it('a process that used a pool (tasks, control calls, close) exits on its own', async () => {
    const script = fileURLToPath(new URL('./fixtures/pool-exit.mjs', import.meta.url))
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const [code, signal] = await once(child, 'exit')
    clearTimeout(timer)
    expect({ code, signal, out }).toMatchObject({ code: 0, signal: null })
    const report = JSON.parse(out.trim().split('\n').at(-1) as string)
    expect(report.reads).toEqual(['from owner', 'from owner'])
    expect(report.stats.pool.attachedWorkers).toBe(2)
    // nothing but the stdio pipes to this test is left once the pool is closed
    expect(report.resources.filter((r: string) => r !== 'PipeWrap' && r !== 'TTYWrap')).toEqual([])
  })
})
