/**
 * Named locks across real threads (leases.ts): mutual exclusion and strictly increasing tokens
 * while several workers contend with tryLock and with `await lock()`, and a holder that dies
 * frees nothing early but its lease lapses. Workers run the built core (packages/core/dist).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { sleep } from './helpers/kill-checks.js'
import { runWatched } from './helpers/watched-worker.js'

const WORKER = new URL('./fixtures/leases-worker.mjs', import.meta.url)
const SEED = process.env.SCOPECACHE_SEED !== undefined ? Number(process.env.SCOPECACHE_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0

interface Report { w: number; viaLock: number; viaTry: number; spins: number; bad: string[] }

const run = <T>(cache: ScopeCache, data: Record<string, unknown>) => runWatched<T>(cache, WORKER, data)

describe('named locks across threads', () => {
  it('4 workers contend for 3 names with tryLock and await lock(): one holder at a time, tokens only rise', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const names = ['refill:a', 'refill:b', 'refill:é']
    const owners = new SharedArrayBuffer(4 * names.length)
    const lastTokens = new SharedArrayBuffer(8 * names.length)
    const rounds = 400
    const reports = await Promise.all(
      Array.from({ length: 4 }, (_, w) => run<Report>(cache, { role: 'contend', w, names, rounds, seed: (SEED + w * 7919) >>> 0, owners, lastTokens }).done),
    )
    const bad = reports.flatMap((r) => r.bad)
    expect(bad, `seed ${SEED}`).toEqual([])
    const taken = reports.reduce((a, r) => a + r.viaLock + r.viaTry, 0)
    expect(taken).toBe(4 * rounds)
    expect(reports.every((r) => r.viaLock > 0 && r.viaTry > 0)).toBe(true)
    // every grant drew a new token from the one counter: the last one is at least the grant count
    const last = new Float64Array(lastTokens)
    expect(Math.max(...last)).toBeGreaterThanOrEqual(taken / names.length)
    expect(new Int32Array(owners).every((o) => o === 0)).toBe(true)
    // nothing is held now, and every name is free again for this thread
    for (const n of names) {
      const g = cache.tryLock(n)
      expect(g!.token).toBeGreaterThan(Math.max(...last))
      expect(cache.unlock(n, g!.token)).toBe(true)
    }
    checkInvariants(cache)
    console.log(`leases: seed ${SEED}, ${taken} grants (${reports.map((r) => `w${r.w} lock ${r.viaLock} / try ${r.viaTry}, ${r.spins} busy tries`).join('; ')})`)
    cache.close()
  })

  it('a holder that dies frees nothing early; its lease lapses and a waiter takes the name', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, lockLeaseMs: 200 })
    const signal = new SharedArrayBuffer(24) // [0] taken, [1] its token, [2] park word; f64 at byte 16: when the take began
    const flag = new Int32Array(signal, 0, 3)
    const leaseMs = 400
    const storeNow = (): number => performance.timeOrigin + performance.now() // the store clock, as every thread reads it
    const { worker, done } = run<never>(cache, { role: 'hold', name: 'job', leaseMs, signal })
    done.catch(() => {}) // it is terminated: that is the point
    for (let i = 0; i < 5000 && Atomics.load(flag, 0) === 0; i++) await sleep(1)
    // the lease began after this instant (the worker read it just before its tryLock); timing from
    // when this thread saw the flag would start late by however long the poll took
    const t0 = new Float64Array(signal, 16, 1)[0]
    const held = Atomics.load(flag, 1)
    expect(held).toBeGreaterThan(0)
    const exited = new Promise((r) => worker.once('exit', r))
    await worker.terminate()
    await exited
    await sleep(0)
    expect(cache.recoveryStats().deadThreadsReaped).toBe(1)
    // reaped, but the lease is the dead thread's until it lapses
    if (storeNow() - t0 < leaseMs - 50) expect(cache.tryLock('job')).toBeNull()
    const g = await cache.lock('job', { waitMs: 5000 })
    expect(g).not.toBeNull()
    expect(storeNow() - t0).toBeGreaterThanOrEqual(leaseMs - 2) // (threads' clocks may differ by a fraction of a ms)
    expect(g!.token).toBeGreaterThan(held)
    // the dead holder's token is refused from now on
    expect(cache.renew('job', held)).toBe(false)
    expect(cache.unlock('job', held)).toBe(false)
    expect(cache.unlock('job', g!.token)).toBe(true)
    checkInvariants(cache)
    cache.close()
  })
})
