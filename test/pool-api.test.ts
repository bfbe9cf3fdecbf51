/**
 * Issue 15 for the pool: a pool larger than the store's free thread slots is refused up front
 * (naming both numbers), createCachePool/run/close check their option keys, and every task is an OpenTelemetry span
 * (scope, task, outcome) when an SDK is registered — shown with the SDK's in-memory exporter.
 */
import { once } from 'node:events'
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createCachePool, type CachePool } from '../packages/pool/dist/index.js'
import { poolsClosedAfterEach, TASKS } from './helpers/pools.js'

const pool = poolsClosedAfterEach()
const caches: ScopeCache[] = []
const store = (maxThreadSlots?: number): ScopeCache => {
  const c = ScopeCache.create({ maxStoreBytes: 1 << 20, ...(maxThreadSlots === undefined ? {} : { maxThreadSlots }) })
  caches.push(c)
  return c
}
afterAll(() => {
  for (const c of caches) c.close()
})

describe('pool size against the store', () => {
  it('refuses a pool that could outgrow the free thread slots, naming both numbers', () => {
    const cache = store(3) // the owner holds one: 2 free
    expect(() => createCachePool({ cache, filename: TASKS, maxThreads: 3 })).toThrow(
      expect.objectContaining({ code: 'invalid_input', message: expect.stringMatching(/up to 3 workers .* 2 free \(of maxThreadSlots 3\)/) }),
    )
    // piscina's own sizing rules: a minThreads above the default maximum raises it
    expect(() => createCachePool({ cache, filename: TASKS, minThreads: 200 })).toThrow(expect.objectContaining({ code: 'invalid_input' }))
    const p = pool(cache, 2) // exactly the free slots: fine
    expect(p.piscina.options.maxThreads).toBe(2)
  })

  it('the default maxThreadSlots leaves room for the default pool size', async () => {
    const p = pool.track(createCachePool({ cache: store(), filename: TASKS, minThreads: 1 }))
    expect(await p.run('x')).toMatchObject({ task: 'x' })
  })

  it('createCachePool, run and close refuse unknown option keys, naming them', async () => {
    const cache = store()
    expect(() => createCachePool({ cache, filename: TASKS, maxThread: 2 } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining("'maxThread'") }),
    )
    const p = pool(cache, 1)
    await expect(p.run('x', { nam: 'write' } as never)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining("'nam'") })
    await expect(p.close({ forced: true } as never)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining("'forced'") })
    expect(await p.run('still open')).toMatchObject({ task: 'still open' })
  })

  it('emits workerAttached with the thread id (the event types: packages/pool/test/types.ts)', async () => {
    const p = pool.track(createCachePool({ cache: store(), filename: TASKS, minThreads: 1, maxThreads: 1 }))
    const [threadId] = await once(p, 'workerAttached')
    expect(typeof threadId).toBe('number')
  })
})

describe('traces', () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  beforeAll(() => {
    trace.setGlobalTracerProvider(provider)
  })
  afterAll(async () => {
    trace.disable()
    await provider.shutdown()
  })

  it('a span per task: scope, task and outcome; a failed task records its code', async () => {
    exporter.reset()
    const cache = store()
    const p: CachePool = pool(cache, 1)
    await p.run({ scope: 'room:a', id: 'x', payload: 1 }, { name: 'write' })
    await p.run({ scope: 'room:a', id: 'x' }, { name: 'appendDuplicate' }).catch(() => undefined)
    await p.run('plain', { scope: 'named' })
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'scopecache.pool.task')
    expect(spans.map((s) => [s.attributes['scopecache.pool.task'], s.attributes['scopecache.scope'], s.attributes['scopecache.outcome']])).toEqual([
      ['write', 'room:a', 'ok'],
      ['appendDuplicate', 'room:a', 'conflict'],
      ['default', 'named', 'ok'],
    ])
    expect(spans[1].status.code).toBe(2) // SpanStatusCode.ERROR
    expect(spans[1].events.map((e) => e.name)).toContain('exception')
  })
})
