/** Shared by the core's tests: stores closed and checked after each test, and an error's code. */
import { afterEach } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { ScopeCacheError } from '../src/errors.js'
import { checkInvariants } from '../src/internals.js'

export type MakeStore = ((o?: Parameters<typeof ScopeCache.create>[0]) => ScopeCache) & {
  /** Closes (and checks) this handle after the test too: an attached one, say. */
  adopt(c: ScopeCache): ScopeCache
}

/**
 * A `make(options)` whose stores (1 MiB unless told) are closed after each test of the calling
 * file and then held to every invariant.
 */
export function storesClosedAfterEach(): MakeStore {
  let open: ScopeCache[] = []
  afterEach(() => {
    const all = open
    open = []
    for (const c of all) c.close()
    for (const c of all) checkInvariants(c)
  })
  const adopt = (c: ScopeCache): ScopeCache => {
    open.push(c)
    return c
  }
  return Object.assign((o: Parameters<typeof ScopeCache.create>[0] = {}) => adopt(ScopeCache.create({ maxStoreBytes: 1 << 20, ...o })), { adopt })
}

/** The code of the ScopeCacheError `f` throws (undefined when it returns). */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return e instanceof ScopeCacheError ? e.code : `not a ScopeCacheError: ${String(e)}`
  }
  return undefined
}
