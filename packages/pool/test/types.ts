/**
 * Type tests of the pool's public types, checked by `pnpm typecheck` (tsconfig.json includes
 * test/): lines marked `@ts-expect-error` must not compile. Nothing here runs.
 */
import type { ScopeCache } from '@scopecache/core'
import { createCachePool, type CachePool } from '../src/index.js'

declare const cache: ScopeCache

export async function events(p: CachePool): Promise<void> {
  p.on('workerAttached', (threadId: number) => void threadId)
  p.on('workerReaped', (threadId: number) => void threadId)
  p.on('control', (op: 'warm' | 'rebuild' | 'flush' | 'stats' | 'shutdown') => void op)
  p.on('error', (err: unknown) => void err)
  // @ts-expect-error a thread id is a number
  p.on('workerAttached', (threadId: string) => void threadId)
  // @ts-expect-error no such event
  p.on('workerAttach', () => undefined)
  // @ts-expect-error control ops are the ControlApi's names
  p.on('control', (op: 'drop') => void op)
  await using pool = createCachePool({ cache, filename: '/abs/tasks.js', maxThreads: 2 })
  await pool.run({ scope: 's' }, { scope: 's', name: 'write' })
  // @ts-expect-error close() takes only { force }
  await pool.close({ forced: true })
}
