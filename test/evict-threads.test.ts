/**
 * whenFull 'evict' across real threads: writers filling a small store from several threads,
 * readers, and a writer that pauses inside its own scope's lock while the others evict. Nothing
 * read is ever another scope's data, charged bytes never pass maxStoreBytes, the scope under its
 * writer is never evicted (same record, still live, after the pause), every write either lands or
 * (all candidates locked) is refused with store_full, and the invariant checker passes.
 * Workers run the built core (packages/core/dist).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { runWatched } from './helpers/watched-worker.js'

const WORKER = new URL('./fixtures/evict-worker.mjs', import.meta.url)
interface Report { role: string; bad: string[]; writes: number; refused: number; reads: number; pauses: number }

const run = (cache: ScopeCache, data: Record<string, unknown>): Promise<Report> => runWatched<Report>(cache, WORKER, data).done

describe("whenFull 'evict' across threads", () => {
  it('3 writers, a reader and a pausing writer on a 48 KiB store: no corruption, under the cap, no eviction under a writer', async () => {
    const maxBytes = 48 * 1024
    const cache = ScopeCache.create({ maxStoreBytes: maxBytes, whenFull: 'evict', maxThreadSlots: 16 })
    const go = new SharedArrayBuffer(8)
    const common = { go, maxBytes, ms: 8000 }
    const workers = [
      run(cache, { ...common, role: 'writer', id: 1, ops: 2500 }),
      run(cache, { ...common, role: 'writer', id: 2, ops: 2500 }),
      run(cache, { ...common, role: 'writer', id: 3, ops: 2500 }),
      run(cache, { ...common, role: 'reader', id: 4, ops: 4000 }),
      run(cache, { ...common, role: 'pinned', id: 5, ops: 400 }),
    ]
    const flag = new Int32Array(go)
    for (let i = 0; i < 10_000 && Atomics.load(flag, 1) < workers.length; i++) await new Promise((r) => setTimeout(r, 1))
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    const reports = await Promise.all(workers)
    expect(reports.flatMap((r) => r.bad)).toEqual([])
    const st = cache.stats()
    const writes = reports.reduce((n, r) => n + r.writes, 0)
    const pinned = reports.find((r) => r.role === 'pinned') as Report
    expect(pinned.pauses, 'the pinned writer paused inside its lock').toBeGreaterThan(10)
    expect(st.evictedScopes, 'the store filled and evicted').toBeGreaterThan(20)
    expect(st.bytes).toBeLessThanOrEqual(maxBytes)
    expect(writes).toBeGreaterThan(1000)
    checkInvariants(cache)
    console.log(`evict threads: ${writes} writes, ${reports.reduce((n, r) => n + r.refused, 0)} refused, ${reports.reduce((n, r) => n + r.reads, 0)} reads, ${st.evictedScopes} scopes evicted, ${pinned.pauses} pauses under a held lock; ${st.scopes} scopes / ${st.bytes} bytes at the end`)
    cache.close()
  })
})
