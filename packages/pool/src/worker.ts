/**
 * `@scopecache/pool/worker`: what task modules running in a cache pool import.
 *
 *   const cache = workerCache()            // the owner's store, attached once at worker start
 *   await ownerControl().rebuild()         // the few calls that belong to the owner thread
 *
 * Reads and writes go straight to shared memory (nanoseconds, synchronous). Control calls cross
 * to the owner thread (tens of microseconds, async) and reject with typed errors whose `code`
 * survived the trip.
 */
import type { ScopeCache } from '@scopecache/core'
import { decodeError, PoolError } from './errors.js'
import type { Outcome, PoolStats } from './protocol.js'
import { requireState } from './worker-state.js'

export type { PoolStats } from './protocol.js'
export { PoolError, type PoolErrorCode } from './errors.js'

/** The store this pool worker is attached to: the same `ScopeCache` API as the owner's. */
export function workerCache(): ScopeCache {
  return requireState('workerCache').cache
}

/** The `workerData` passed to `createCachePool` (piscina's own `workerData` carries the handle too). */
export function workerData<T = unknown>(): T {
  return requireState('workerData').boot.data as T
}

export interface OwnerControl {
  /** Asks the owner to load these scopes from its `source` and `warm` them into the store. */
  warm(scopes: string[]): Promise<{ scopes: number }>
  /** Asks the owner to load everything from its `source` and `rebuild` the store. */
  rebuild(): Promise<{ scopes: number; items: number }>
  flush(): Promise<{ scopes: number; items: number; bytes: number }>
  /** Store counters plus the pool's (attached/reaped workers, queue, completed tasks). */
  stats(): Promise<PoolStats>
  /** Asks the owner to close the pool once running tasks (this one too) have finished. */
  shutdown(): Promise<{ closing: true }>
}

let control: OwnerControl | undefined

/** The control channel to the owner thread of this pool. */
export function ownerControl(): OwnerControl {
  if (control !== undefined) return control
  const channel = requireState('ownerControl').control
  const remote = channel.remote
  // A call still pending when the owner closes the channel would never settle: fail it instead.
  const unwrap = async <T>(call: () => Promise<Outcome<T>>): Promise<T> => {
    if (!channel.isOpen) throw new PoolError('pool_closed', 'the pool owner closed the control channel')
    const out = await Promise.race([call(), channel.closed.then((): typeof CLOSED => CLOSED)])
    if (out === CLOSED) throw new PoolError('pool_closed', 'the pool owner closed the control channel')
    if (out.ok) return out.value
    throw decodeError(out.error)
  }
  control = {
    warm: (scopes) => unwrap(() => remote.warm(scopes)),
    rebuild: () => unwrap(() => remote.rebuild()),
    flush: () => unwrap(() => remote.flush()),
    stats: () => unwrap(() => remote.stats()),
    shutdown: () => unwrap(() => remote.shutdown()),
  }
  return control
}

const CLOSED: unique symbol = Symbol('closed')
