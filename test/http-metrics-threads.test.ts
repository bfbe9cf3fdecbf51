/**
 * /metrics on any thread shows the whole server: two worker threads, each serving its own handler
 * over the same store with one shared metrics buffer, answer /metrics with the sum of both.
 */
import { Worker } from 'node:worker_threads'
import { expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createMetricsBuffer } from '../packages/http/dist/index.js'
import { clientFor } from './helpers/http-target.js'

const FIXTURE = new URL('./fixtures/http-metrics-worker.mjs', import.meta.url)

it('counts of every thread appear on every thread', async () => {
  const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
  const metricsBuffer = createMetricsBuffer()
  const workers = [0, 1].map(() => new Worker(FIXTURE, { workerData: { handle: cache.handle, metricsBuffer } }))
  workers.forEach((w) => cache.watch(w))
  try {
    const ports = await Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: { port: number }) => resolve(m.port))
      w.once('error', reject)
    })))
    const [a, b] = ports.map((p) => clientFor('127.0.0.1', p))
    for (let i = 0; i < 5; i++) expect((await a.request('POST', '/append', `{"scope":"t","payload":${i}}`)).status).toBe(200)
    for (let i = 1; i <= 7; i++) await b.request('GET', `/get?scope=t&seq=${i}`) // 5 hits, 2 misses
    await a.request('GET', '/nope')
    await b.request('GET', '/append')
    for (const c of [a, b]) {
      const text = (await c.request('GET', '/metrics')).bodyText
      expect(text).toMatch(/^scopecache_writes_total 5$/m)
      expect(text).toMatch(/^scopecache_hits_total 5$/m)
      expect(text).toMatch(/^scopecache_misses_total 2$/m)
      expect(text).toMatch(/^scopecache_rejections_total\{code="not_found"\} 1$/m)
      expect(text).toMatch(/^scopecache_rejections_total\{code="method_not_allowed"\} 1$/m)
      expect(text).toMatch(/^scopecache_request_duration_seconds_count\{endpoint="\/append"\} 6$/m)
      expect(text).toMatch(/^scopecache_request_duration_seconds_count\{endpoint="\/get"\} 7$/m)
      expect(text).toMatch(/^scopecache_items 5$/m)
    }
  } finally {
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once('exit', resolve)
      w.postMessage('stop')
    })))
    cache.close()
  }
})
