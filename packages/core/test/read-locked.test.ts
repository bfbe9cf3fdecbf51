/**
 * The locked fallback of a read (read-locked.ts): a read that loses every optimistic attempt —
 * here because the scope's seqlock is held odd, as by a writer preempted inside its publish window —
 * reads under the scope's writer lock, and takes nothing else of a write: no busy flag, no reclaim
 * of expired items, and the lock is free again afterwards.
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants } from '../src/internals.js'
import { S_LOCK, S_VER } from '../src/layout.js'
import { INTERNALS } from '../src/store.js'

/** Holds the scope's seqlock odd; `busy` is the thread's busy flag before (a write leaves it up while the thread holds ready blocks). */
function openWindow(cache: ScopeCache, scope: string): { rec: number; close: () => void; i32: Int32Array; busyW: number; busy: number } {
  const s = cache[INTERNALS]()
  const rec = s.dir.rec(s.dir.resolve(scope))
  const busy = s.i32[s.busyW]
  Atomics.add(s.i32, rec + S_VER, 1) // odd: every optimistic attempt retries
  return { rec, i32: s.i32, busyW: s.busyW, busy, close: () => void Atomics.add(s.i32, rec + S_VER, 1) }
}

describe('the locked fallback of a read', () => {
  it('answers every read kind under the scope lock, and leaves the lock free and the busy flag as it was', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    cache.append('s', { a: 1 }, { id: 'x' })
    cache.append('s', { a: 2 }, { id: 'y' })
    const w = openWindow(cache, 's')
    try {
      expect(cache.getRaw('s', { id: 'x' })).toBe('{"a":1}')
      expect(cache.get('s', { seq: 2 })?.payload).toEqual({ a: 2 })
      expect(cache.getRaw('s', { id: 'nope' })).toBeUndefined()
      expect(cache.tail('s', { limit: 5 }).items.map((i) => i.id)).toEqual(['x', 'y'])
      expect(cache.version('s')).toBeGreaterThan(0)
      expect(w.i32[w.rec + S_LOCK]).toBe(0)
      expect(w.i32[w.busyW]).toBe(w.busy)
    } finally {
      w.close()
    }
    expect(cache.scopeList().scopes[0].readCountTotal).toBe(3) // the two point hits and the page; not the miss, nor version()
    checkInvariants(cache)
    cache.close()
  })

  it('reclaims nothing: an expired item stays stored (unread) until a write or the sweep', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, expirySweepMs: 0 })
    let now = Date.now() * 1000
    cache[INTERNALS]().now = () => now
    cache.append('s', 'old', { id: 'x', ttlMs: 10 })
    cache.append('s', 'live', { id: 'y' })
    now += 20_000 // µs
    const w = openWindow(cache, 's')
    try {
      expect(cache.getRaw('s', { id: 'x' })).toBeUndefined()
      expect(cache.getRaw('s', { id: 'y' })).toBe('"live"')
    } finally {
      w.close()
    }
    expect(cache.stats().items).toBe(2) // the read removed nothing
    expect(cache.sweepExpired()).toBe(1)
    expect(cache.stats().items).toBe(1)
    checkInvariants(cache)
    cache.close()
  })

  it('waits one lease for a scope lock held by another token, then refuses with lock_timeout', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, lockLeaseMs: 100 })
    cache.append('s', 1, { id: 'x' })
    const w = openWindow(cache, 's')
    const other = cache[INTERNALS]().token + 1 // a token that is not this thread's
    Atomics.store(w.i32, w.rec + S_LOCK, other)
    try {
      expect(() => cache.getRaw('s', { id: 'x' })).toThrow(expect.objectContaining({ code: 'lock_timeout' }))
      expect(w.i32[w.rec + S_LOCK]).toBe(other) // not stolen from a holder that is not known dead
      expect(w.i32[w.busyW]).toBe(w.busy)
    } finally {
      Atomics.store(w.i32, w.rec + S_LOCK, 0)
      w.close()
    }
    expect(cache.getRaw('s', { id: 'x' })).toBe('1')
    cache.close()
  })
})
