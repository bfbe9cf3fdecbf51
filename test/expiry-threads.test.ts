/**
 * Expiry across real threads: writers give items TTLs of a few ms (and touch, delete and set scope
 * defaults) while readers check that nothing they are handed had expired before their read began,
 * a worker sweeps and the creating thread's timer sweeps too; at the end every invariant holds and
 * a last sweep leaves only live items. Workers run the built core (packages/core/dist).
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { runWatched } from './helpers/watched-worker.js'

const WORKER = new URL('./fixtures/expiry-worker.mjs', import.meta.url)
const SCOPES = ['e0', 'e1', 'e2', 'e3']

interface Report { role: string; bad: string[]; badCount: number; checked: number; ops: number }

const run = (cache: ScopeCache, data: Record<string, unknown>): Promise<Report> =>
  runWatched<Report>(cache, WORKER, { scopes: SCOPES, ms: 1500, ops: 200_000, ...data }).done

describe('expiry across threads', () => {
  it('2 writers with TTLs, 2 readers, a sweeping worker and the creator\'s sweep timer: no read returns an expired item', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, scopeMaxItems: 400, expirySweepMs: 3 })
    const reports = await Promise.all([
      run(cache, { role: 'writer', seed: 1 }),
      run(cache, { role: 'writer', seed: 2 }),
      run(cache, { role: 'reader', seed: 3 }),
      run(cache, { role: 'reader', seed: 4 }),
      run(cache, { role: 'sweeper', seed: 5, ops: 2000 }),
    ])
    expect(reports.flatMap((r) => r.bad)).toEqual([])
    const checkedItems = reports.filter((r) => r.role === 'reader').reduce((a, r) => a + r.checked, 0)
    expect(checkedItems, 'the readers saw no item with an expiry').toBeGreaterThan(100)
    checkInvariants(cache)
    const swept = cache.sweepExpired()
    const st = cache.stats()
    expect(st.expiredItems).toBeGreaterThan(0)
    // after a sweep, what is stored is what the reads see (until the next item expires: count at one instant)
    const counted = cache.scopeList().scopes.reduce((a, s) => a + s.itemCount, 0)
    expect(st.items).toBe(counted)
    checkInvariants(cache)
    console.log(`expiry threads: ${reports.map((r) => `${r.role} ${r.ops} ops`).join(', ')}; ${checkedItems} items with an expiry checked by readers; ${st.expiredItems} reclaimed (${swept} by the last sweep), ${st.items} left`)
    cache.close()
  })
})
