/**
 * Named locks with a lease and a fencing token, shared by every thread of a store: the stampede
 * recipe (one thread refills, the others wait or serve what they have) and mutual exclusion for
 * work outside the store.
 *
 *   lease table (cfg.leaseCap records of 128 B, open addressing by name hash, linear probing)
 *   ┌───────┬──────┬──────────┬────────┬───────────┬────────────┬────────────────────┐
 *   │ state │ hash │ name len │ holder │ token f64 │ expiry f64 │ name (≤ 256 bytes) │
 *   └───────┴──────┴──────────┴────────┴───────────┴────────────┴────────────────────┘
 *
 * Every operation runs under one mutex (H_LEASE_LOCK): lock calls are rare next to reads, and a
 * mutex makes "no two records for one name" trivially true. A lease is not a thread's property:
 * when it lapses the next taker gets the name with a new token, even if the old holder is alive
 * and merely slow; that is what the token is for (pass it to the resource you protect and let it
 * refuse older tokens). Tokens come from one store-wide counter, so they strictly increase per
 * name and across names. A holder that dies frees nothing early: its lease lapses.
 *
 * Records are never moved: a free record is reused in place, and lookups scan as far
 * as H_LEASE_PROBE, the longest distance any record was ever placed from its home. A new record
 * gets every field before L_STATE, a lapsed one taken over keeps its name and gets its token
 * before its end, and a free writes L_STATE alone: a thread that dies inside the mutex leaves the
 * table whole, and the reaper releases the mutex and recounts H_LEASE_HELD.
 */
import { add64 } from './counter64.js'
import { invalid, ScopeCacheError } from './errors.js'
import { fault } from './fault.js'
import { hashKey, utf8Equals } from './keys.js'
import {
  H_LOCK_WAITS_LO,
  H_LEASE_HELD, H_LEASE_LOCK, H_LEASE_PROBE, H_LEASE_RELEASES, H_LEASE_TOKEN_F, H_LEASE_WAKERS, L_EXPIRES_F,
  L_HASH, L_HOLDER, L_NAME_B, L_NAME_LEN, L_STATE, L_TOKEN_F, LEASE_FREE, LEASE_HELD, LEASE_WORDS,
} from './layout.js'
import { acquire, release } from './lock.js'
import type { Store } from './store.js'
import { LIMITS, MESSAGES } from './limits.js'
import { keyProblem } from './validate.js'

/** Lock names hash with the store's seed mixed with this, apart from scope names and ids. */
export const LEASE_SEED = 0x27d4eb2f
export const DEFAULT_LEASE_MS = 5000
const noop = (): void => {}
/** The longest lease and the longest wait: a day. Longer is a bug in the caller, not a plan. */
export const MAX_LEASE_MS = LIMITS.maxLeaseMs

/** A held lock: pass `token` to `renew`/`unlock`, and to whatever the lock protects. */
export interface LeaseGrant {
  token: number
}

/** A `leaseMs`/`waitMs` option: an integer number of ms from `min` to MAX_LEASE_MS, or `dflt`. */
export function msOption(name: 'leaseMs' | 'waitMs', v: unknown, dflt: number, min: number): number {
  if (v === undefined || v === null) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_LEASE_MS) {
    throw invalid(`the '${name}' option must be an integer from ${min} to ${MAX_LEASE_MS} (ms)`)
  }
  return v
}

/** A fencing token argument: a positive integer. */
export function tokenArg(token: unknown): number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 1) throw invalid(MESSAGES.tokenPositive)
  return token
}

/**
 * The lock name the core uses for a name of its own (getOrLoad's one loader per item): it starts
 * with a NUL, which no user name may contain, and is a hash of `key` so it fits any key length. Two
 * keys that share a hash would share a loader lock: a wait, never a wrong answer.
 */
export function internalLockName(kind: string, key: string, seed: number): string {
  return `\u0000${kind}:${hashKey(key, seed).toString(36)}:${hashKey(key, seed ^ 0x3c6ef372).toString(36)}`
}

/** The store clock in ms (the same timebase as items' µs timestamps); injectable for tests. */
export const storeMillis = (): number => performance.timeOrigin + performance.now()

/** How often a lock() waiter looks again when the store is shared by processes. */
const SHARED_POLL_MS = 5

export class Leases {
  private readonly i32: Int32Array
  private readonly f64: Float64Array
  private readonly mask: number
  private readonly seed: number
  /** The token of this thread's last claim, read under the mutex. */
  private granted = 0

  constructor(
    private readonly s: Store,
    private readonly now: () => number = storeMillis,
  ) {
    this.i32 = s.i32
    this.f64 = s.f64
    this.mask = s.cfg.leaseCap - 1
    this.seed = s.cfg.seed ^ LEASE_SEED
  }

  /** Takes `name` if it is free or its lease has lapsed; null while someone else holds it. */
  tryLock(name: string, leaseMs: number, internal = false): LeaseGrant | null {
    if (this.attempt(internal ? this.hashName(name) : this.check(name), name, leaseMs) > 0) return { token: this.granted }
    if (!internal) add64(this.i32, H_LOCK_WAITS_LO, 1) // /metrics: a lock call that found it held
    return null
  }

  /**
   * Waits for `name` up to `waitMs` without blocking the event loop (see waitRelease). Null when
   * the wait ran out.
   */
  async lock(name: string, leaseMs: number, waitMs: number, internal = false): Promise<LeaseGrant | null> {
    const hash = internal ? this.hashName(name) : this.check(name)
    const deadline = this.now() + waitMs
    for (let first = true; ; first = false) {
      const seen = Atomics.load(this.i32, H_LEASE_RELEASES)
      const until = this.attempt(hash, name, leaseMs)
      if (until > 0) return { token: this.granted }
      if (first && !internal) add64(this.i32, H_LOCK_WAITS_LO, 1) // /metrics: it waits (or fails)
      if (this.now() >= deadline) return null
      await this.waitRelease(seen, Math.min(deadline, -until))
    }
  }

  /**
   * For a caller that did not get `name` and would rather look again than take it (getOrLoad):
   * waits until some lock is released, the current holder's lease ends, or `deadline`, whichever
   * comes first. Returns at once when the name is free now.
   */
  async waitFor(name: string, deadline: number): Promise<void> {
    const hash = this.hashName(name)
    const seen = Atomics.load(this.i32, H_LEASE_RELEASES)
    this.enter()
    let end: number
    try {
      const r = this.find(name, hash)
      end = r < 0 ? 0 : this.f64[(r >> 1) + L_EXPIRES_F]
    } finally {
      this.leave()
    }
    if (end > this.now()) await this.waitRelease(seen, Math.min(deadline, end))
  }

  /** Under the mutex: claim() (> 0: taken, lease end; < 0: minus the holder's lease end). */
  private attempt(hash: number, name: string, leaseMs: number): number {
    this.enter()
    try {
      return this.claim(name, hash, leaseMs)
    } finally {
      this.leave()
    }
  }

  /**
   * Sleeps until the release counter moves from `seen` (every unlock bumps it and wakes the
   * waiters) or until `until` on the store clock (+1 ms: past it), with Atomics.waitAsync.
   */
  private async waitRelease(seen: number, until: number): Promise<void> {
    const { i32 } = this
    let ms = Math.max(1, Math.ceil(until - this.now()) + 1)
    // Another process's unlock cannot notify this wait: in shared memory, poll (callers loop).
    if (this.s.shm !== null) ms = Math.min(ms, SHARED_POLL_MS)
    Atomics.add(i32, H_LEASE_WAKERS, 1)
    try {
      const w = Atomics.waitAsync(i32, H_LEASE_RELEASES, seen, ms)
      if (w.async) {
        // a pending waitAsync does not keep the event loop alive (a worker whose only task is
        // this wait would exit with an unsettled await): a timer does, for as long as we wait
        const keepAlive = setTimeout(noop, ms + 50)
        try {
          await w.value
        } finally {
          clearTimeout(keepAlive)
        }
      }
    } finally {
      Atomics.sub(i32, H_LEASE_WAKERS, 1)
    }
  }

  /** Extends a lease that is still held under `token`; false when it lapsed or is not yours. */
  renew(name: string, token: number, leaseMs: number): boolean {
    const hash = this.check(name)
    this.enter()
    try {
      const r = this.find(name, hash)
      const now = this.now()
      if (r < 0 || this.f64[(r >> 1) + L_TOKEN_F] !== token || this.f64[(r >> 1) + L_EXPIRES_F] <= now) return false
      this.f64[(r >> 1) + L_EXPIRES_F] = now + leaseMs
      return true
    } finally {
      this.leave()
    }
  }

  /**
   * Releases `name` if it is still recorded under `token` (a lease that lapsed but that nobody has
   * taken since is still yours to release); false otherwise.
   */
  unlock(name: string, token: number, internal = false): boolean {
    const hash = internal ? this.hashName(name) : this.check(name)
    let freed = false
    this.enter()
    try {
      const r = this.find(name, hash)
      if (r >= 0 && this.f64[(r >> 1) + L_TOKEN_F] === token) {
        this.free(r)
        freed = true
      }
    } finally {
      this.leave()
    }
    if (freed) {
      Atomics.add(this.i32, H_LEASE_RELEASES, 1)
      if (Atomics.load(this.i32, H_LEASE_WAKERS) > 0) Atomics.notify(this.i32, H_LEASE_RELEASES)
    }
    return freed
  }

  private check(name: unknown): number {
    if (typeof name !== 'string' || name === '') throw invalid("the 'name' field is required")
    const problem = keyProblem(name, 'name')
    if (problem !== null) throw invalid(problem)
    return this.hashName(name)
  }

  private hashName(name: string): number {
    return hashKey(name, this.seed)
  }

  /** Takes the table mutex (a caller's try/finally gives it back with leave()). */
  private enter(): void {
    const { s } = this
    acquire(this.i32, H_LEASE_LOCK, s.token, s.cfg.lockLeaseMs, s.threads)
  }

  private leave(): void {
    release(this.i32, H_LEASE_LOCK, this.s.token)
  }

  private rec(slot: number): number {
    return this.s.cfg.leasesW + slot * LEASE_WORDS
  }

  /** Word index of the HELD record of `name` (lapsed or not), or -1. */
  private find(name: string, hash: number): number {
    const { i32 } = this
    const probe = Atomics.load(i32, H_LEASE_PROBE)
    const u8 = this.s.v.u8
    for (let d = 0, slot = hash & this.mask; d <= probe; d++, slot = (slot + 1) & this.mask) {
      const r = this.rec(slot)
      if (i32[r + L_STATE] === LEASE_HELD && i32[r + L_HASH] === hash && utf8Equals(u8, r * 4 + L_NAME_B, i32[r + L_NAME_LEN], name)) return r
    }
    return -1
  }

  /**
   * Under the mutex: takes `name` and returns its lease end (> 0), or, while a live lease holds
   * it, minus that lease's end.
   */
  private claim(name: string, hash: number, leaseMs: number): number {
    const { i32, f64 } = this
    const now = this.now()
    let r = this.find(name, hash)
    const fresh = r < 0
    if (!fresh) {
      const end = f64[(r >> 1) + L_EXPIRES_F]
      if (end > now) return -end
      // lapsed: taken over in place (same name, so only holder, token and end change)
    } else {
      r = this.place(hash, now)
      i32[r + L_HASH] = hash
      i32[r + L_NAME_LEN] = this.s.v.buf.write(name, r * 4 + L_NAME_B, 'utf8')
    }
    fault('lease:claiming')
    i32[r + L_HOLDER] = this.s.token
    const token = f64[H_LEASE_TOKEN_F] + 1
    f64[H_LEASE_TOKEN_F] = token
    // token before end: a death in between leaves the new token under the lapsed end (nobody's)
    f64[(r >> 1) + L_TOKEN_F] = token
    const end = now + leaseMs
    f64[(r >> 1) + L_EXPIRES_F] = end
    if (fresh) {
      Atomics.store(i32, r + L_STATE, LEASE_HELD)
      Atomics.add(i32, H_LEASE_HELD, 1)
    }
    this.granted = token
    return end
  }

  /**
   * A free record for a new name: the first one from its home slot. Lapsed leases of other names
   * keep their records (their holder may still unlock them) until the table is full, when one
   * sweep frees them all.
   */
  private place(hash: number, now: number): number {
    const { i32 } = this
    if (i32[H_LEASE_HELD] >= this.s.cfg.maxLocks && this.sweep(now) === 0) {
      throw new ScopeCacheError('store_full', `scopecache: the lock table is full: ${this.s.cfg.maxLocks} locks are held (option maxLocks)`)
    }
    // fewer than maxLocks records are HELD and the table has 2 × maxLocks: one is free
    for (let d = 0, slot = hash & this.mask; d <= this.mask; d++, slot = (slot + 1) & this.mask) {
      const r = this.rec(slot)
      if (i32[r + L_STATE] === LEASE_FREE) {
        if (d > i32[H_LEASE_PROBE]) Atomics.store(i32, H_LEASE_PROBE, d) // before the record is visible
        return r
      }
    }
    throw new Error('scopecache: lease table has no free record below maxLocks (internal bug)')
  }

  /** Frees every lapsed record; returns how many. */
  private sweep(now: number): number {
    let n = 0
    for (let slot = 0; slot <= this.mask; slot++) {
      const r = this.rec(slot)
      if (this.i32[r + L_STATE] === LEASE_HELD && this.f64[(r >> 1) + L_EXPIRES_F] <= now) {
        this.free(r)
        n++
      }
    }
    return n
  }

  private free(r: number): void {
    Atomics.store(this.i32, r + L_STATE, LEASE_FREE)
    Atomics.sub(this.i32, H_LEASE_HELD, 1)
  }
}

/**
 * The reaper's part: a thread that died inside the lease mutex left every record whole (see the
 * header), so only the held count may be off by one. Recount it and release the mutex.
 */
export function recoverLeaseLock(i32: Int32Array, leasesW: number, leaseCap: number, dead: (token: number) => boolean, token: number): boolean {
  const holder = Atomics.load(i32, H_LEASE_LOCK)
  if (!dead(holder) || Atomics.compareExchange(i32, H_LEASE_LOCK, holder, token) !== holder) return false
  let held = 0
  for (let slot = 0; slot < leaseCap; slot++) if (i32[leasesW + slot * LEASE_WORDS + L_STATE] === LEASE_HELD) held++
  Atomics.store(i32, H_LEASE_HELD, held)
  release(i32, H_LEASE_LOCK, token)
  return true
}
