/**
 * `@scopecache/pool`: piscina pools whose workers share one scopecache store.
 *
 *   const pool = createCachePool({ cache, filename: new URL('./task.js', import.meta.url) })
 *   await pool.run(task)        // in task.js: const cache = workerCache()  (from '@scopecache/pool/worker')
 *   await pool.close()          // drain, detach workers; `cache` stays usable here
 */
export { CachePool, createCachePool } from './pool.js'
export type { CachePoolOptions, CacheRunOptions } from './pool.js'
export type { CacheSource } from './owner-control.js'
export { decodeError, encodeError, POOL_ERROR_CODES, PoolError } from './errors.js'
export type { PoolErrorCode } from './errors.js'
export type { PoolStats, WireAnyError } from './protocol.js'
