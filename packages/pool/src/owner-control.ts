/**
 * The owner thread's side of the control channel: the calls that belong to the thread that
 * holds the source of truth and the pool (warm/rebuild from the source, flush, aggregated
 * stats, shutdown). One instance serves every worker. Loads are single-flight: while a rebuild
 * (or a warm of the same scopes) is running, further requests join it instead of loading again.
 * Every method resolves to an `Outcome`, never rejects, so errors keep their `code` on the wire.
 */
import type { ScopeCache, WarmItem } from '@scopecache/core'
import { encodeError, PoolError } from './errors.js'
import type { ControlApi, Outcome, PoolStats } from './protocol.js'

/** Loads items from the source of truth: `scopes` named for a warm, `null` for a full rebuild. */
export type CacheSource = (request: { scopes: readonly string[] | null }) => Iterable<WarmItem> | Promise<Iterable<WarmItem>>

export interface OwnerSide {
  cache: ScopeCache
  source: CacheSource | undefined
  stats(): PoolStats
  /** Starts closing the pool; must not wait for running tasks (the caller is one of them). */
  requestShutdown(): void
  isClosing(): boolean
  /** Told of every call as it arrives (the pool re-emits it as a `'control'` event). */
  onCall(op: keyof ControlApi): void
}

export function ownerControlApi(owner: OwnerSide): ControlApi {
  const inFlight = new Map<string, Promise<unknown>>()

  const once = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    let p = inFlight.get(key) as Promise<T> | undefined
    if (p === undefined) {
      p = load().finally(() => inFlight.delete(key))
      inFlight.set(key, p)
    }
    return p
  }

  const fromSource = async (scopes: readonly string[] | null): Promise<WarmItem[]> => {
    if (owner.source === undefined) {
      throw new PoolError('no_source', 'this pool was created without a `source`, so the owner cannot warm or rebuild')
    }
    return [...(await owner.source({ scopes }))]
  }

  const call = async <T>(op: keyof ControlApi, fn: () => T | Promise<T>): Promise<Outcome<T>> => {
    try {
      owner.onCall(op)
      if (owner.isClosing()) throw new PoolError('pool_closed', 'the pool is closing')
      return { ok: true, value: await fn() }
    } catch (err) {
      return { ok: false, error: encodeError(err) }
    }
  }

  return {
    warm: (scopes) => call('warm', () => {
      if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string')) {
        throw new PoolError('invalid_input', 'warm() needs a non-empty array of scope names')
      }
      const key = 'warm\0' + [...scopes].sort().join('\0')
      return once(key, async () => owner.cache.warm(await fromSource(scopes)))
    }),
    rebuild: () => call('rebuild', () => once('rebuild', async () => owner.cache.rebuild(await fromSource(null)))),
    flush: () => call('flush', () => owner.cache.flush()),
    stats: () => call('stats', () => owner.stats()),
    shutdown: () => call('shutdown', () => {
      owner.requestShutdown()
      return { closing: true as const }
    }),
  }
}
