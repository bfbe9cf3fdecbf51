import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/src/index.js'
import { checkInvariants } from '../packages/core/src/internals.js'

const FIXTURE = new URL('./fixtures/bulk-worker.mjs', import.meta.url)

describe('bulk writes while other threads write and read', () => {
  it('warm/dropPrefix/dropScope are atomic to readers and do not disturb writers of other scopes', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20 })
    const roles = ['own', 'own', 'bulk', 'reader', 'reader']
    const barrier = new SharedArrayBuffer(4)
    const reports = await Promise.all(
      roles.map((role, w) => {
        const worker = new Worker(FIXTURE, { workerData: { handle: cache.handle, role, w, rounds: role === 'reader' ? 1500 : 400, barrier, threads: roles.length } })
        cache.watch(worker)
        return new Promise<{ role: string; done: number; bad: string[] }>((resolve, reject) => {
          worker.once('message', resolve)
          worker.once('error', reject)
        })
      }),
    )
    for (const r of reports) {
      expect(r.bad, r.role).toEqual([])
      expect(r.done).toBeGreaterThan(0)
    }
    // own scopes: exactly the last 10 appends survive the trims, plus whatever came after the last trim
    for (const w of [0, 1]) expect(cache.tail(`own:${w}`).items.length).toBe(10 + (400 % 25))
    checkInvariants(cache)
    // and rebuild, with the store otherwise idle, leaves only what it was given
    expect(cache.rebuild([{ scope: 'only', payload: 1 }])).toEqual({ scopes: 1, items: 1 })
    expect(cache.scopeList().scopes.map((s) => s.scope)).toEqual(['only'])
    checkInvariants(cache)
    cache.close()
  })
})
