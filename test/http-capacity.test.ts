/**
 * The capacity policy over HTTP, against the handler and the real `scopecache serve --when-full
 * evict`: a full store evicts instead of answering 507, `POST /scope_limit` (a ring or a lower
 * limit; every bad field a clear 400 that creates nothing), its fields in /scopelist rows, and the
 * /metrics counters (evicted scopes, dropped-oldest items, lock waits, loader runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTarget, type Target } from './helpers/http-target.js'

const json = (t: { bodyText: string }): Record<string, unknown> => JSON.parse(t.bodyText) as Record<string, unknown>
const STORE = 64 * 1024

/** The value of a counter in Prometheus text (0 when absent). */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '))
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1))
}

describe.each(['handler', 'cli'] as const)('capacity policy over HTTP (%s)', (via) => {
  let t: Target
  beforeAll(async () => {
    t = await startTarget({ via, cache: { maxStoreBytes: STORE, maxItemBytes: STORE, scopeMaxItems: 50, whenFull: 'evict' } })
  })
  afterAll(async () => {
    await t.close()
  })
  const post = (path: string, body: unknown): ReturnType<Target['request']> => t.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))
  const metrics = async (): Promise<string> => (await t.request('GET', '/metrics')).bodyText
  const rows = async (prefix: string): Promise<Record<string, unknown>[]> =>
    json(await t.request('GET', `/scopelist?prefix=${prefix}`)).scopes as Record<string, unknown>[]

  it('a full store evicts the least recently used scopes: every append answers 200, the store stays under its budget', async () => {
    for (let i = 0; i < 150; i++) {
      const r = await post('/append', { scope: `page:${i}`, payload: 'x'.repeat(1000) })
      expect(r.status, `append ${i}: ${r.bodyText}`).toBe(200)
      if (i % 10 === 0) expect((await t.request('GET', '/get?scope=page:0&seq=1')).status).toBeLessThan(500) // keep page:0 warm
    }
    const st = json(await t.request('GET', '/stats'))
    expect(Number(st.approx_store_mb) * 1024 * 1024).toBeLessThanOrEqual(STORE)
    const m = await metrics()
    expect(metric(m, 'scopecache_evicted_scopes_total')).toBeGreaterThan(50)
    expect((await t.request('GET', '/get?scope=page:0&seq=1')).status, 'a scope read often stays').toBe(200)
    expect((await t.request('GET', '/get?scope=page:1&seq=1')).status, 'an old one went').toBe(404)
    t.cache?.stats() // (handler: the same store)
  })

  it('/scope_limit drop-oldest keeps the newest N; reject answers 507 at N; null removes it', async () => {
    expect(json(await post('/scope_limit', { scope: 'feed', max_items: 3, when_full: 'drop-oldest' }))).toEqual({ ok: true, created: true })
    for (let i = 1; i <= 5; i++) expect((await post('/append', { scope: 'feed', id: `m${i}`, payload: i })).status).toBe(200)
    const tail = json(await t.request('GET', '/tail?scope=feed')).items as { id: string }[]
    expect(tail.map((it) => it.id)).toEqual(['m3', 'm4', 'm5'])
    expect((await rows('feed'))[0]).toMatchObject({ scope: 'feed', item_count: 3, max_items: 3, when_full: 'drop-oldest' })
    expect(metric(await metrics(), 'scopecache_dropped_oldest_total')).toBe(2)
    expect(json(await post('/scope_limit', { scope: 'feed', max_items: 3 }))).toEqual({ ok: true, created: false })
    const r = await post('/append', { scope: 'feed', payload: 6 })
    expect(r.status).toBe(507)
    expect(json(r).error).toMatch(/scope is at capacity/)
    expect(json(await post('/scope_limit', { scope: 'feed', max_items: null }))).toEqual({ ok: true, created: false })
    expect((await post('/append', { scope: 'feed', payload: 6 })).status).toBe(200)
    const row = (await rows('feed'))[0]
    expect(row).not.toHaveProperty('max_items') // a scope without a limit: ScopeCache's row
    expect(row).not.toHaveProperty('when_full')
  })

  it('bad /scope_limit fields are 400 with the rule broken, and create nothing', async () => {
    const cases: [string, RegExp][] = [
      ['{"max_items":3}', /the 'scope' field is required/],
      ['{"scope":"lim"}', /the 'max_items' field is required for the '\/scope_limit' endpoint/],
      ['{"scope":"lim","max_items":0}', /the 'max_items' field must be an integer from 1 to 50/],
      ['{"scope":"lim","max_items":-1}', /'max_items' field must be an integer/],
      ['{"scope":"lim","max_items":1.5}', /'max_items' field must be an integer/],
      ['{"scope":"lim","max_items":"3"}', /'max_items' field must be an integer/],
      ['{"scope":"lim","max_items":51}', /'max_items' field must be an integer from 1 to 50/],
      ['{"scope":"lim","max_items":99999999999999999999}', /'max_items' field must be an integer/],
      ['{"scope":"lim","max_items":3,"when_full":"evict"}', /the 'when_full' field must be "reject" or "drop-oldest"/],
      ['{"scope":"lim","max_items":3,"when_full":1}', /valid JSON|must be/],
    ]
    for (const [body, msg] of cases) {
      const r = await post('/scope_limit', body)
      expect(r.status, body).toBe(400)
      expect(json(r).error, body).toMatch(msg)
    }
    expect(await rows('lim')).toEqual([])
  })

  it('/metrics counts lock calls that found the lock held; /help lists /scope_limit', async () => {
    const before = metric(await metrics(), 'scopecache_lock_waits_total')
    const a = json(await post('/lock', { name: 'job', lease_ms: 60_000 }))
    expect(json(await post('/lock', { name: 'job' })).acquired).toBe(false)
    expect(metric(await metrics(), 'scopecache_lock_waits_total')).toBe(before + 1)
    await post('/unlock', { name: 'job', token: a.token })
    expect(metric(await metrics(), 'scopecache_loader_runs_total')).toBe(0)
    expect((await t.request('GET', '/help')).bodyText).toContain('/scope_limit')
    expect((await t.request('GET', '/scope_limit')).status).toBe(405)
  })
})

describe('/metrics: getOrLoad loader runs, summed over the store', () => {
  it('counts each loader that ran, not the hits', async () => {
    const t = await startTarget({ via: 'handler' })
    try {
      const cache = t.cache!
      await cache.getOrLoad('view', { id: 'a' }, () => ({ v: 1 }))
      await cache.getOrLoad('view', { id: 'a' }, () => ({ v: 2 })) // a hit
      await cache.getOrLoad('view', { id: 'b' }, () => ({ v: 3 }))
      expect(metric((await t.request('GET', '/metrics')).bodyText, 'scopecache_loader_runs_total')).toBe(2)
    } finally {
      await t.close()
    }
  })
})
