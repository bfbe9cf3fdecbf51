/**
 * What the store offers beyond ScopeCache, behind the facade's one-line methods: named locks with
 * a lease (leases.ts), the version fence read and invalidate (fences.ts, invalidate.ts),
 * read-through (read-through.ts), expiry (expiry.ts) and per-scope limits (scope-limit.ts). The
 * `ifVersion` check and the `ttlMs` of the writes stay with them in cache.ts.
 */
import { checkKey, checkOptions, checkRef, checkScope } from './args.js'
import { nowMicros } from './clock.js'
import { add64 } from './counter64.js'
import { H_LOADER_RUNS_LO } from './layout.js'
import { invalid } from './errors.js'
import { dueScopes, scopeTtlOf, setScopeTtlLocked, sweepExpired, ttlArg, ttlOption } from './expiry.js'
import { fenceFloor, fenceOf } from './fences.js'
import { invalidateItem, invalidateScope } from './invalidate.js'
import { DEFAULT_LEASE_MS, internalLockName, Leases, msOption, storeMillis, tokenArg, type LeaseGrant } from './leases.js'
import { MISS, NO_SCOPE } from './read-base.js'
import type { Reader } from './read.js'
import { getOrLoad, type GetOrLoadOptions, type ReadThroughStore } from './read-through.js'
import { writeScope } from './scope-life.js'
import { checkLimitOptions, setLimit } from './scope-limit.js'
import type { Store } from './store.js'
import type { Txn } from './txn.js'
import type { Item, ItemMeta, ItemRef, JsonPayload, ScopeLimitOptions } from './types.js'

/** The facade's own calls that read-through builds on. */
export interface FacadeCalls {
  get<P>(scope: string, ref: ItemRef): Item<P> | undefined
  upsert(scope: string, id: string, payload: JsonPayload, opts: { ifVersion: number; ttlMs?: number }): { created: boolean; item: ItemMeta }
}

export class Beyond {
  private readonly leases: Leases
  private readonly readThrough: ReadThroughStore
  private fenceSeen = 0

  constructor(
    private readonly s: Store,
    private readonly t: Txn,
    private readonly reader: Reader,
    private readonly cache: FacadeCalls,
  ) {
    const leases = (this.leases = new Leases(s))
    this.readThrough = {
      get: (scope, ref) => cache.get(scope, ref),
      version: (scope) => this.version(scope),
      scopeTtl: (scope) => (this.reader.validated(scope, this.ttlVisit) === NO_SCOPE ? 0 : this.ttlSeen),
      upsert: (scope, id, payload, opts) => cache.upsert(scope, id, payload as JsonPayload, opts), // the loader's value: checked at run time
      tryLoader: (name, leaseMs) => leases.tryLock(name, leaseMs, true)?.token ?? 0,
      waitLoader: (name, deadline) => leases.waitFor(name, deadline),
      unlockLoader: (name, token) => void leases.unlock(name, token, true),
      now: storeMillis,
      loaderRan: () => add64(s.i32, H_LOADER_RUNS_LO, 1),
    }
  }

  // ---- named locks ----
  tryLock(name: string, opts: { leaseMs?: number } | null | undefined): LeaseGrant | null {
    checkOptions(opts, 'tryLock')
    return this.leases.tryLock(name, msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1))
  }

  lock(name: string, opts: { leaseMs?: number; waitMs?: number } | null | undefined): Promise<LeaseGrant | null> {
    checkOptions(opts, 'lock')
    return this.leases.lock(name, msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1), msOption('waitMs', opts?.waitMs, DEFAULT_LEASE_MS, 0))
  }

  renew(name: string, token: number, opts: { leaseMs?: number } | null | undefined): boolean {
    checkOptions(opts, 'renew')
    return this.leases.renew(name, tokenArg(token), msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1))
  }

  unlock(name: string, token: number): boolean {
    return this.leases.unlock(name, tokenArg(token))
  }

  // ---- version fences ----
  version(scope: string): number {
    const r = this.reader.validated(scope, this.fenceVisit)
    return r === NO_SCOPE ? fenceFloor(this.s.f64) : this.fenceSeen
  }

  private ttlSeen = 0
  private readonly ttlVisit = (rec: number): number => {
    this.ttlSeen = scopeTtlOf(this.s, rec)
    return MISS // not a read of the scope
  }

  private readonly fenceVisit = (rec: number): number => {
    this.fenceSeen = fenceOf(this.s.f64, rec)
    return MISS // done, and not counted as a read of the scope
  }

  invalidate(scope: string, ref: ItemRef | null | undefined): number {
    checkScope(scope)
    if (ref === undefined || ref === null) return invalidateScope(this.t, scope)
    const by = checkRef(ref)
    if (typeof by === 'string') checkKey(by, 'id')
    const n = invalidateItem(this.t, scope, by)
    this.t.bumpLastWrite(nowMicros())
    return n
  }

  // ---- read-through ----
  getOrLoad<P>(scope: string, ref: { id: string }, loader: () => P | Promise<P>, opts: GetOrLoadOptions | null | undefined): Promise<Item<P>> {
    const id = ref?.id
    if (typeof id !== 'string' || id === '') throw invalid('getOrLoad needs { id }')
    if (typeof loader !== 'function') throw invalid('getOrLoad needs a loader function')
    if (opts != null) checkOptions(opts, 'getOrLoad')
    const leaseMs = msOption('leaseMs', opts?.leaseMs, DEFAULT_LEASE_MS, 1)
    const waitMs = msOption('waitMs', opts?.waitMs, 2 * DEFAULT_LEASE_MS, 0)
    const ttlMs = opts == null ? 0 : ttlOption(opts.ttlMs)
    // a hit is the facade's get (which checks nothing: an invalid name simply misses, and so comes here)
    const item = this.cache.get<P>(scope, ref)
    if (item !== undefined) return Promise.resolve(item)
    checkScope(scope)
    checkKey(id, 'id')
    return getOrLoad(this.readThrough, internalLockName('load', `${scope}\n${id}`, this.s.cfg.seed), scope, id, loader, leaseMs, waitMs, ttlMs)
  }

  // ---- expiry ----
  setScopeTtl(scope: string, ttlMs: number | null): void {
    checkScope(scope)
    const ttl = ttlMs === null ? 0 : ttlArg(ttlMs)
    writeScope(this.t, scope, ttl > 0, (_slot, rec) => {
      if (rec >= 0) setScopeTtlLocked(this.t, rec, ttl)
    })
  }

  sweepExpired(): number {
    const t = this.t
    const now = this.s.now()
    const due = dueScopes(this.s, now)
    if (due.length === 0) return 0 // (the timer's usual tick: no write entered, no lock taken)
    return t.busy(() => sweepExpired(t, due, now, (scope, fn) => writeScope(t, scope, false, (_slot, rec) => fn(rec), false)))
  }

  // ---- capacity ----
  setScopeLimit(scope: string, opts: ScopeLimitOptions): { created: boolean } {
    checkScope(scope)
    checkOptions(opts, 'setScopeLimit')
    const { limit, mode } = checkLimitOptions(opts, this.s.cfg.scopeMaxItems)
    return setLimit(this.t, scope, limit, mode)
  }
}
