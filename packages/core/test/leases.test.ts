/**
 * Named locks with a lease (leases.ts), in one thread: the API, its argument checks, and a
 * model-based test against a plain Map under an injected clock, so lapses happen at exact
 * milliseconds. The multi-thread and dead-thread cases are in test/leases-threads.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { ScopeCacheError } from '../src/errors.js'
import { checkInvariants } from '../src/internals.js'
import { codeOf as code } from './helpers.js'
import { Leases } from '../src/leases.js'
import { INTERNALS } from '../src/store.js'


describe('named locks: the API', () => {
  it('tryLock, contention, renew, unlock; tokens strictly increase', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const a = cache.tryLock('refill:user:1')
    expect(a).not.toBeNull()
    expect(cache.tryLock('refill:user:1')).toBeNull() // not re-entrant: the token is the identity
    const b = cache.tryLock('refill:user:2', { leaseMs: 50 })
    expect(b!.token).toBeGreaterThan(a!.token)
    expect(cache.renew('refill:user:1', a!.token, { leaseMs: 10_000 })).toBe(true)
    expect(cache.renew('refill:user:1', b!.token)).toBe(false) // not its token
    expect(cache.unlock('refill:user:1', b!.token)).toBe(false)
    expect(cache.unlock('refill:user:1', a!.token)).toBe(true)
    expect(cache.unlock('refill:user:1', a!.token)).toBe(false) // once
    const c = cache.tryLock('refill:user:1')
    expect(c!.token).toBeGreaterThan(b!.token)
    checkInvariants(cache)
    cache.close()
  })

  it('bad arguments are invalid_input and change nothing; a closed handle throws closed', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const bad: (() => unknown)[] = [
      () => cache.tryLock(''),
      () => cache.tryLock(42 as unknown as string),
      () => cache.tryLock(' padded'),
      () => cache.tryLock('a\u0000b'),
      () => cache.tryLock('\ud800'),
      () => cache.tryLock('x'.repeat(257)),
      () => cache.tryLock('n', { leaseMs: 0 }),
      () => cache.tryLock('n', { leaseMs: 1.5 }),
      () => cache.tryLock('n', { leaseMs: 86_400_001 }),
      () => cache.tryLock('n', { leaseMs: '5' as unknown as number }),
      () => cache.renew('n', 0),
      () => cache.renew('n', 1.5),
      () => cache.unlock('n', -1),
      () => cache.unlock('n', Number.NaN),
    ]
    for (const f of bad) expect(code(f)).toBe('invalid_input')
    expect(code(() => cache.lock('n', { waitMs: -1 }))).toBe('invalid_input')
    expect(cache.tryLock('x'.repeat(256))).not.toBeNull() // 256 bytes is the limit, as for scopes
    expect(cache.tryLock('é'.repeat(128))).not.toBeNull()
    checkInvariants(cache)
    cache.close()
    expect(code(() => cache.tryLock('n'))).toBe('closed')
    expect(code(() => cache.unlock('n', 1))).toBe('closed')
  })

  it('a full table is store_full naming maxLocks; lapsed leases make room', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxLocks: 4 })
    for (let i = 0; i < 3; i++) expect(cache.tryLock(`held:${i}`, { leaseMs: 60_000 })).not.toBeNull()
    expect(cache.tryLock('short', { leaseMs: 20 })).not.toBeNull()
    let e: unknown
    try {
      cache.tryLock('one-too-many')
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(ScopeCacheError)
    expect((e as ScopeCacheError).code).toBe('store_full')
    expect((e as Error).message).toMatch(/4 locks are held \(option maxLocks\)/)
    await new Promise((r) => setTimeout(r, 40))
    expect(cache.tryLock('one-too-many')).not.toBeNull() // 'short' lapsed: swept
    checkInvariants(cache)
    cache.close()
  })

  it('lock() waits for an unlock without blocking the event loop, and for a lapse', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const a = cache.tryLock('job', { leaseMs: 60_000 })!
    // the unlock runs from a timer of this very thread: had lock() blocked the event loop, it could
    // not run, and lock() would give up after waitMs with null
    const waiting = cache.lock('job', { waitMs: 5000 })
    const t = performance.now()
    setTimeout(() => cache.unlock('job', a.token), 30)
    const b = await waiting
    expect(b!.token).toBeGreaterThan(a.token)
    expect(performance.now() - t).toBeLessThan(4000)
    // a lease that lapses is taken by the waiter with no unlock at all
    const t0 = performance.now()
    cache.renew('job', b!.token, { leaseMs: 60 })
    const c = await cache.lock('job', { waitMs: 5000 })
    expect(c!.token).toBeGreaterThan(b!.token)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50)
    // a wait that runs out is null, and takes about waitMs
    const t1 = performance.now()
    expect(await cache.lock('job', { waitMs: 40 })).toBeNull()
    expect(performance.now() - t1).toBeGreaterThanOrEqual(35)
    expect(await cache.lock('job', { waitMs: 0 })).toBeNull()
    checkInvariants(cache)
    cache.close()
  })
})

describe('named locks: model', () => {
  // The reference: name → { token, end }; one token counter; a lease lives while now < end.
  type Op =
    | { k: 'try'; n: number; lease: number }
    | { k: 'renew'; n: number; pick: number; lease: number }
    | { k: 'unlock'; n: number; pick: number }
    | { k: 'tick'; ms: number }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant('try' as const), n: fc.nat(5), lease: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ k: fc.constant('renew' as const), n: fc.nat(5), pick: fc.nat(7), lease: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ k: fc.constant('unlock' as const), n: fc.nat(5), pick: fc.nat(7) }),
    fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  )
  // six names, two of which collide on nothing but share a probe run (tiny table)
  const names = ['a', 'b', 'lock:é', 'lock:😀', 'x'.repeat(256), 'c']

  it('agrees with a Map under an injected clock (maxLocks 3: full table, sweeps, reuse in place)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxLocks: 3 })
        let now = 1_000_000
        const leases = new Leases(cache[INTERNALS](), () => now)
        const model = new Map<string, { token: number; end: number }>()
        let counter = 0
        const issued: number[] = [] // tokens handed out, for renew/unlock picks (incl. stale ones)
        const pickToken = (pick: number): number => issued.length === 0 ? 1 + pick : issued[issued.length - 1 - (pick % issued.length)]!
        try {
          for (const o of ops) {
            if (o.k === 'tick') {
              now += o.ms
              continue
            }
            const name = names[o.n]!
            const m = model.get(name)
            const live = m !== undefined && m.end > now
            if (o.k === 'try') {
              const liveCount = [...model.values()].filter((v) => v.end > now).length
              if (!live && m === undefined && liveCount >= 3) {
                expect(code(() => leases.tryLock(name, o.lease))).toBe('store_full')
                continue
              }
              const got = leases.tryLock(name, o.lease)
              if (live) expect(got).toBeNull()
              else {
                // records of lapsed leases are dropped from the model once the table sweeps them
                if (m === undefined && model.size >= 3) for (const [k, v] of model) if (v.end <= now) model.delete(k)
                counter++
                expect(got).toEqual({ token: counter })
                model.set(name, { token: counter, end: now + o.lease })
                issued.push(counter)
              }
            } else if (o.k === 'renew') {
              const token = pickToken(o.pick)
              const ok = live && m!.token === token
              expect(leases.renew(name, token, o.lease)).toBe(ok)
              if (ok) m!.end = now + o.lease
            } else {
              const token = pickToken(o.pick)
              const ok = m !== undefined && m.token === token
              expect(leases.unlock(name, token)).toBe(ok)
              if (ok) model.delete(name)
            }
          }
          checkInvariants(cache)
        } finally {
          cache.close()
        }
      }),
      { numRuns: 300 },
    )
  })
})
