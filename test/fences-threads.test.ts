/**
 * Version fences across real threads: a refill that read the version before a slower source
 * changed never puts its stale value back (the fence refuses it), and no thread ever sees a version
 * go back while others write, invalidate and drop. Workers run the built core (packages/core/dist).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { runWatched } from './helpers/watched-worker.js'

const WORKER = new URL('./fixtures/fences-worker.mjs', import.meta.url)

const run = (cache: ScopeCache, data: Record<string, unknown>) => runWatched<{ role: string; bad: string[]; reads?: number; checked?: number }>(cache, WORKER, data).done

describe('version fences across threads', () => {
  it('2 refillers race an invalidator: the stored view is never older than the source after the last invalidate', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const words = new SharedArrayBuffer(16)
    const w = new Int32Array(words)
    const scope = 'view:user:1'
    const reports = await Promise.all([
      run(cache, { role: 'refill', scope, words }),
      run(cache, { role: 'refill', scope, words }),
      run(cache, { role: 'watch', scope, words }),
      run(cache, { role: 'invalidate', scope, words, rounds: 300 }),
    ])
    expect(reports.flatMap((r) => r.bad)).toEqual([])
    const checked = reports.find((r) => r.role === 'invalidate')?.checked ?? 0
    expect(checked, 'the invalidator never saw a refilled view').toBeGreaterThan(50)
    const final = Atomics.load(w, 0)
    const stored = cache.get<{ g: number }>(scope, { id: 'view' })
    // the last write after the last invalidate read the version after it, so the source after it
    if (stored !== undefined) expect(stored.payload.g).toBe(final)
    expect(Atomics.load(w, 2)).toBeGreaterThan(0) // refills did land
    expect(Atomics.load(w, 3)).toBeGreaterThan(0) // and stale ones were refused
    checkInvariants(cache)
    console.log(`fences: ${checked} views checked against the source, ${Atomics.load(w, 2)} refills stored, ${Atomics.load(w, 3)} refused, ${reports.find((r) => r.role === 'watch')?.reads} version reads; final source generation ${final}, stored ${stored?.payload.g ?? 'none'}`)
    cache.close()
  })
})
