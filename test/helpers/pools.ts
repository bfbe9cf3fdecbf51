/**
 * Pools for tests: `const pool = poolsClosedAfterEach()`, then `pool(cache, threads)` makes a cache
 * pool of exactly `threads` workers running test/fixtures/pool-tasks.mjs, closed after each test;
 * `pool.track(p)` adds a pool made with other options.
 */
import { afterEach } from 'vitest'
import type { ScopeCache } from '../../packages/core/dist/index.js'
import { createCachePool, type CachePool } from '../../packages/pool/dist/index.js'

export const TASKS = new URL('../fixtures/pool-tasks.mjs', import.meta.url)

export interface Pools {
  (cache: ScopeCache, threads: number): CachePool
  /** Closes a pool made some other way after the test, too. */
  track(p: CachePool): CachePool
}

export function poolsClosedAfterEach(): Pools {
  const open: CachePool[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()))
  })
  const track = (p: CachePool): CachePool => {
    open.push(p)
    return p
  }
  return Object.assign(
    (cache: ScopeCache, threads: number) => track(createCachePool({ cache, filename: TASKS, minThreads: threads, maxThreads: threads })),
    { track },
  )
}
