/**
 * The writer lock (src/lock.ts) and how readers and writers get along, on real threads.
 *   - mutual exclusion: workers increment a plain counter inside the lock; none is lost (and a
 *     mutant that skips the lock does lose some, so the check can fail);
 *   - bounded waiting: a live holder makes waiters give up after the lease with `lock_timeout`;
 *     a dead holder is never taken over by a waiter (only the reaper may);
 *   - progress under contention: every contender finishes its acquisitions within the lease;
 *   - readers never wait for a writer: while a thread holds a scope's lock, other threads still
 *     read that scope, and write other scopes.
 * Workers load the BUILT core (dist/), as vitest does not transform worker files; this file uses the
 * source, which is the same code over the same memory layout.
 */
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError } from '../src/index.js'
import { checkInvariants } from '../src/internals.js'
import { acquire, release } from '../src/lock.js'
import { T_STATE, THREAD_CLAIMING, THREAD_FREE, THREAD_WORDS } from '../src/layout.js'
import { ThreadSlots } from '../src/threads.js'

const LOCK_WORKER = new URL('./fixtures/lock-worker.mjs', import.meta.url)
const CRASH_WORKER = new URL('../../../test/fixtures/recovery-worker.mjs', import.meta.url)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function contend(threads: number, iterations: number, broken: boolean): Promise<{ total: number; timeouts: number }> {
  const sab = new SharedArrayBuffer(64)
  const results = await Promise.all(
    Array.from({ length: threads }, (_, k) => new Promise<{ timeouts: number }>((resolve, reject) => {
      const w = new Worker(LOCK_WORKER, { workerData: { sab, token: k + 1, iterations, leaseMs: 5000, broken, threads } })
      w.once('message', resolve)
      w.once('error', reject)
    })),
  )
  return { total: new Int32Array(sab)[2], timeouts: results.reduce((s, r) => s + r.timeouts, 0) }
}

describe('lock', () => {
  it('excludes: 4 threads × 3000 plain increments inside the lock lose nothing', async () => {
    const { total, timeouts } = await contend(4, 3000, false)
    expect(timeouts).toBe(0)
    expect(total).toBe(12_000)
  })

  it('the same check catches a broken lock (mutant: no lock at all)', async () => {
    // many iterations: on a loaded machine 4 × 3000 can run one thread after another and lose nothing
    const { total } = await contend(4, 200_000, true)
    expect(total).toBeLessThan(800_000)
  })

  it('a waiter gives up after the lease with lock_timeout, naming a live holder', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(8))
    i32[0] = 77 // held by token 77
    const live = { isAlive: (t: number) => t === 77, threadIdOf: (t: number) => (t === 77 ? 5 : -1) }
    const t0 = Date.now()
    let err: unknown
    try {
      acquire(i32, 0, 1, 60, live)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ScopeCacheError)
    expect((err as ScopeCacheError).code).toBe('lock_timeout')
    expect((err as ScopeCacheError).details).toEqual({ holderThreadId: 5, holderAlive: true })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55) // it did wait (a lower bound, not a speed claim)
    expect(i32[1]).toBe(0) // the waiter count is back to zero
  })

  it('never takes a lock over from a dead holder: that is the reaper’s job', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(8))
    i32[0] = 99
    const dead = { isAlive: () => false, threadIdOf: () => 9 }
    expect(() => acquire(i32, 0, 1, 30, dead)).toThrow(/its holder died and (has not been reaped yet|is being reaped)/)
    expect(i32[0]).toBe(99)
    release(i32, 0, 1) // releasing with the wrong token changes nothing
    expect(i32[0]).toBe(99)
  })

  it('wakes a sleeping waiter when the holder releases', async () => {
    const sab = new SharedArrayBuffer(64)
    const i32 = new Int32Array(sab)
    i32[0] = 1000 // this thread holds it; a worker waits
    const w = new Worker(LOCK_WORKER, { workerData: { sab, token: 5, iterations: 1, leaseMs: 10_000, broken: false, threads: 1 } })
    const done = new Promise<{ timeouts: number }>((resolve) => w.once('message', resolve))
    for (let i = 0; i < 2000 && Atomics.load(i32, 1) === 0; i++) await sleep(1) // until it sleeps
    expect(Atomics.load(i32, 1)).toBe(1)
    release(i32, 0, 1000)
    expect((await done).timeouts).toBe(0)
    expect(i32[2]).toBe(1)
  })
})

describe('thread slots', () => {
  it('a slot being claimed is out of markDead’s reach (its thread id still names the previous thread)', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(2 * THREAD_WORDS * 4))
    const slots = new ThreadSlots(i32, 0, 2)
    const x = slots.claim(7)
    slots.release(x) // thread 7 closed its handle; its 'exit' comes later
    Atomics.store(i32, T_STATE, THREAD_CLAIMING) // thread 9 is between its claim CAS and writing its id
    expect(slots.markDead(7)).toEqual([])
    Atomics.store(i32, T_STATE, THREAD_FREE)
    const y = slots.claim(9)
    expect(slots.markDead(7)).toEqual([])
    expect(slots.isAlive(y)).toBe(true)
    expect(slots.isAlive(x)).toBe(false) // the old token never looks alive again
  })
})

describe('readers and writers', () => {
  it('while one thread holds a scope lock, others read that scope and write other scopes', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, lockLeaseMs: 200 })
    cache.append('victim', { n: 'a' }, { id: 'a' })
    cache.append('victim', { n: 'b' }, { id: 'b' })
    const signal = new SharedArrayBuffer(4)
    const holder = new Worker(CRASH_WORKER, { workerData: { handle: cache.handle, signal, point: 'write:locked', mode: 'terminate', op: 'append', hit: 1 } })
    cache.watch(holder)
    const exited = new Promise((r) => holder.once('exit', r))
    const flag = new Int32Array(signal)
    for (let i = 0; i < 5000 && Atomics.load(flag, 0) === 0; i++) await sleep(1)
    expect(Atomics.load(flag, 0)).toBe(1) // it holds victim's lock now, and spins
    for (let i = 0; i < 1000; i++) expect(cache.getRaw('victim', { id: 'a' })).toBe('{"n":"a"}')
    expect(cache.tail('victim', { limit: 10 }).items.map((it) => it.id)).toEqual(['a', 'b'])
    cache.append('other', { n: 1 }) // another scope: no wait
    // a writer of the held scope waits out the lease, then gets a typed error
    expect(() => cache.append('victim', { n: 'c' })).toThrow(expect.objectContaining({ code: 'lock_timeout' }))
    await holder.terminate()
    await exited
    await sleep(0)
    cache.append('victim', { n: 'c' }) // reaped: the scope takes writes again
    expect(cache.tail('victim').items.map((it) => it.payload)).toEqual([{ n: 'a' }, { n: 'b' }, { n: 'c' }])
    checkInvariants(cache)
    cache.close()
  })
})
