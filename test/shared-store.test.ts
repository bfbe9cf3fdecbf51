import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/src/index.js'
import { checkInvariants } from '../packages/core/src/internals.js'

const FIXTURE = new URL('./fixtures/mixed-worker.mjs', import.meta.url)

interface WriterReport { role: 'writer'; live: [string, string, number][]; counter: number }
interface ReaderReport { role: 'reader'; checked: number; bad: string[] }

function run(cache: ScopeCache, data: Record<string, unknown>): Promise<WriterReport | ReaderReport> {
  const worker = new Worker(FIXTURE, { workerData: { handle: cache.handle, ...data } })
  cache.watch(worker)
  return new Promise((resolve, reject) => {
    let report: WriterReport | ReaderReport | undefined
    worker.on('message', (m) => (report = m))
    worker.on('error', reject)
    worker.on('exit', (code) => (code === 0 && report ? resolve(report) : reject(new Error(`worker exited ${code} without a report`))))
  })
}

describe('one store, several threads', () => {
  it('writers and readers on shared hot scopes: no torn reads, no lost writes, invariants hold', async () => {
    // An 8 MiB store forces reuse of freed memory while the threads run.
    const cache = ScopeCache.create({ maxStoreBytes: 8 << 20, scopeMaxItems: 1_000_000 })
    const scopes = ['hot:a', 'hot:b', 'hot:c']
    const seed = (Date.now() & 0xffff) + 1
    const roles = ['writer', 'writer', 'writer', 'reader', 'reader']
    const barrier = new SharedArrayBuffer(4)
    const reports = await Promise.all(
      roles.map((role, w) => run(cache, { role, w, ops: role === 'writer' ? 4000 : 1500, seed: seed * 31 + w, scopes, barrier, threads: roles.length })),
    )
    const failure = `seed ${seed}`
    let expectedItems = 0
    let counter = 0
    for (const r of reports) {
      if (r.role === 'reader') {
        expect(r.bad, failure).toEqual([])
        expect(r.checked, failure).toBeGreaterThan(0)
        continue
      }
      counter += r.counter
      for (const [id, scope, v] of r.live) {
        expectedItems++
        const item = cache.get<{ v: number }>(scope, { id })
        expect(item?.payload.v, `${failure}: ${scope}/${id}`).toBe(v)
      }
    }
    // every surviving item exactly once, walking each scope in order
    const found = new Set<string>()
    for (const scope of scopes) {
      let after = 0
      for (;;) {
        const page = cache.head<{ w: number; n: number }>(scope, { afterSeq: after, limit: 500 })
        for (const it of page.items) {
          expect(found.has(it.id as string), `${failure}: ${it.id} twice`).toBe(false)
          found.add(it.id as string)
          after = it.seq
        }
        if (!page.truncated) break
      }
    }
    expect(found.size, failure).toBe(expectedItems)
    expect(cache.get<number>('counters', { id: 'shared' })?.payload ?? 0, failure).toBe(counter)
    expect(cache.stats().items, failure).toBe(expectedItems + (counter > 0 ? 1 : 0))
    checkInvariants(cache)
    cache.close()
  })
})
