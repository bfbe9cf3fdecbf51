/**
 * What the HTTP API offers beyond ScopeCache, against the handler and the real `scopecache serve`
 * over TCP: named locks (/lock, /renew, /unlock: answers, fencing tokens, every bad field a clear
 * 400 that takes nothing, a full lock table 507) and version fences (/version, /invalidate,
 * if_version on the single-item writes: 409 with the version now when it moved).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTarget, type Target } from './helpers/http-target.js'

const json = (t: { bodyText: string }): Record<string, unknown> => JSON.parse(t.bodyText) as Record<string, unknown>

/** A target started before the describe's tests and closed after them; `post` sends JSON to it. */
function serve(via: 'handler' | 'cli'): { target: () => Target; post: (path: string, body: unknown) => ReturnType<Target['request']> } {
  let t: Target
  beforeAll(async () => {
    t = await startTarget({ via })
  })
  afterAll(async () => {
    await t.close()
  })
  return { target: () => t, post: (path, body) => t.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body)) }
}

describe.each(['handler', 'cli'] as const)('named locks over HTTP (%s)', (via) => {
  const { target, post } = serve(via)

  it('lock, a second lock, renew, unlock: tokens rise', async () => {
    const a = await post('/lock', { name: 'refill:user:1', lease_ms: 60_000 })
    expect(a.status).toBe(200)
    const ja = json(a)
    expect(ja).toMatchObject({ ok: true, acquired: true })
    expect(Number.isSafeInteger(ja.token) && (ja.token as number) > 0).toBe(true)
    expect(json(await post('/lock', { name: 'refill:user:1' }))).toEqual({ ok: true, acquired: false })
    expect(json(await post('/renew', { name: 'refill:user:1', token: ja.token, lease_ms: 1000 }))).toEqual({ ok: true, renewed: true })
    expect(json(await post('/renew', { name: 'refill:user:1', token: (ja.token as number) + 1000 }))).toEqual({ ok: true, renewed: false })
    expect(json(await post('/unlock', { name: 'refill:user:1', token: (ja.token as number) + 1000 }))).toEqual({ ok: true, released: false })
    expect(json(await post('/unlock', { name: 'refill:user:1', token: ja.token }))).toEqual({ ok: true, released: true })
    const b = json(await post('/lock', { name: 'refill:user:1' }))
    expect(b.acquired).toBe(true)
    expect(b.token as number).toBeGreaterThan(ja.token as number)
    await post('/unlock', { name: 'refill:user:1', token: b.token })
  })

  it('bad fields are 400 with the rule broken, and take no lock', async () => {
    const cases: [string, string, RegExp][] = [
      ['/lock', '{}', /the 'name' field is required for the '\/lock' endpoint/],
      ['/lock', '{"name":""}', /the 'name' field is required/],
      ['/lock', '{"name":" x"}', /the 'name' field must not have leading or trailing whitespace/],
      ['/lock', '{"name":"a\\u0001"}', /the 'name' field must not contain control characters/],
      ['/lock', JSON.stringify({ name: 'x'.repeat(257) }), /the 'name' field must not exceed 256 bytes/],
      ['/lock', '{"name":"n","lease_ms":0}', /the 'lease_ms' field must be an integer from 1 to 86400000/],
      ['/lock', '{"name":"n","lease_ms":-5}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":"n","lease_ms":1.5}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":"n","lease_ms":"5"}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":"n","lease_ms":1e3}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":"n","lease_ms":86400001}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":"n","lease_ms":99999999999999999999}', /'lease_ms' field must be an integer/],
      ['/lock', '{"name":1}', /valid JSON/],
      ['/renew', '{"name":"n"}', /the 'token' field is required for the '\/renew' endpoint/],
      ['/renew', '{"name":"n","token":0}', /the 'token' field must be a positive integer/],
      ['/unlock', '{"name":"n","token":"7"}', /the 'token' field must be a positive integer/],
      ['/unlock', '{"token":7}', /the 'name' field is required for the '\/unlock' endpoint/],
      ['/lock', '{"name":"n"', /valid JSON/],
    ]
    for (const [path, body, msg] of cases) {
      const r = await post(path, body)
      expect(r.status, `${path} ${body}`).toBe(400)
      expect(json(r).error, `${path} ${body}`).toMatch(msg)
    }
    // a name that is not UTF-8 (here 0xFF before 'n'): decoded, it would alias another name (found by http-fuzz)
    for (const path of ['/lock', '/renew', '/unlock']) {
      const bytes = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff]), Buffer.from('n","token":1}')])
      const r = await target().request('POST', path, bytes)
      expect(r.status, path).toBe(400)
      expect(json(r).error, path).toMatch(/the 'name' field must be valid UTF-8$/)
    }
    // none of them took 'n'
    const g = json(await post('/lock', { name: 'n', lease_ms: 10 }))
    expect(g.acquired).toBe(true)
    await post('/unlock', { name: 'n', token: g.token })
  })

  it('GET is 405; /help lists the endpoints', async () => {
    expect((await target().request('GET', '/lock')).status).toBe(405)
    const help = (await target().request('GET', '/help')).bodyText
    for (const p of ['/lock', '/renew', '/unlock', '/version', '/invalidate']) expect(help).toContain(p)
  })
})

describe.each(['handler', 'cli'] as const)('version fences over HTTP (%s)', (via) => {
  const { target, post } = serve(via)
  const version = async (scope: string): Promise<number> => {
    const r = await target().request('GET', `/version?scope=${encodeURIComponent(scope)}`)
    expect(r.status).toBe(200)
    const j = json(r)
    expect(Object.keys(j)).toEqual(['ok', 'version'])
    return j.version as number
  }

  it('a write fenced on a version that moved is 409 with the version now, and writes nothing', async () => {
    const s = `fence-${via}`
    const v0 = await version(s)
    expect((await post('/append', { scope: s, id: 'a', payload: 1, if_version: v0 })).status).toBe(200)
    const v1 = await version(s)
    expect(v1).toBeGreaterThan(v0)
    expect((await post('/upsert', { scope: s, id: 'a', payload: 2, if_version: v1 })).status).toBe(200)
    const v2 = await version(s)
    for (const [path, body] of [
      ['/upsert', { scope: s, id: 'a', payload: 'stale', if_version: v1 }],
      ['/append', { scope: s, id: 'b', payload: 'stale', if_version: v1 }],
      ['/update', { scope: s, id: 'a', payload: 'stale', if_version: v1 }],
      ['/delete', { scope: s, id: 'a', if_version: v1 }],
    ] as const) {
      const r = await post(path, body)
      expect(r.status, path).toBe(409)
      expect(json(r), path).toEqual({ ok: false, error: `scopecache: the scope's version moved (expected ${v1}, now ${v2}): it changed since it was read`, version: v2 })
    }
    expect((await target().request('GET', `/get?scope=${s}&id=a`)).bodyText).toBe('2')
    expect(await version(s)).toBe(v2)
    for (const bad of [-1, 1.5, '"3"', 'true', '1e3']) {
      const r = await post('/upsert', `{"scope":"${s}","id":"a","payload":3,"if_version":${bad}}`)
      expect(r.status, String(bad)).toBe(400)
      expect(json(r).error).toMatch(/the 'if_version' field must be a non-negative integer/)
    }
  })

  it('/invalidate deletes (or drops) and moves the version, even with nothing to delete', async () => {
    const s = `inv-${via}`
    await post('/append', { scope: s, id: 'a', payload: 1 })
    await post('/append', { scope: s, id: 'b', payload: 2 })
    const v1 = await version(s)
    const r = json(await post('/invalidate', { scope: s, id: 'a' }))
    expect(r).toMatchObject({ ok: true, count: 1 })
    expect(r.version as number).toBeGreaterThan(v1)
    expect(await version(s)).toBe(r.version)
    const r2 = json(await post('/invalidate', { scope: s, id: 'nothing' }))
    expect(r2.count).toBe(0)
    expect(r2.version as number).toBeGreaterThan(r.version as number)
    const r3 = json(await post('/invalidate', { scope: s, seq: 2 }))
    expect(r3.count).toBe(1)
    const r4 = json(await post('/invalidate', `{"scope":"${s}","seq":18446744073709551615}`)) // a u64 seq: no item has it
    expect(r4.count).toBe(0)
    await post('/append', { scope: s, id: 'c', payload: 3 })
    const r5 = json(await post('/invalidate', { scope: s }))
    expect(r5.count).toBe(1)
    expect((await target().request('GET', `/get?scope=${s}&id=c`)).status).toBe(404)
    expect(r5.version as number).toBeGreaterThan(r4.version as number)
    expect((await post('/invalidate', {})).status).toBe(400)
    expect((await post('/invalidate', { scope: s, id: 'a', seq: 1 })).status).toBe(400)
    expect((await target().request('GET', '/version')).status).toBe(400)
  })
})

describe('named locks over HTTP: a full table', () => {
  it('is 507 with the reason, and a freed lock makes room', async () => {
    const t = await startTarget({ cache: { maxLocks: 2 } })
    try {
      const post = (path: string, body: unknown) => t.request('POST', path, JSON.stringify(body))
      const a = json(await post('/lock', { name: 'a' }))
      expect(json(await post('/lock', { name: 'b' })).acquired).toBe(true)
      const r = await post('/lock', { name: 'c' })
      expect(r.status).toBe(507)
      expect(json(r)).toEqual({ ok: false, error: 'scopecache: the lock table is full: 2 locks are held (option maxLocks)' })
      await post('/unlock', { name: 'a', token: a.token })
      expect(json(await post('/lock', { name: 'c' })).acquired).toBe(true)
    } finally {
      await t.close()
    }
  })
})

describe.each(['handler', 'cli'] as const)('expiry over HTTP (%s)', (via) => {
  const { target, post } = serve(via)
  const get = (path: string): ReturnType<Target['request']> => target().request('GET', path)
  let n = 0
  const fresh = (): string => `ttl-${via}-${++n}`
  const MAX = 10 * 365 * 24 * 3600 * 1000

  it('ttl_ms on append/upsert/update/warm: expires_ts = ts + ttl_ms × 1000 in every read, absent when the item has none', async () => {
    const s = fresh()
    const a = json(await post('/append', { scope: s, id: 'a', payload: 1, ttl_ms: 60_000 }))
    expect(a).toMatchObject({ ok: true, created: true }) // the acknowledgement is ScopeCache's (no expires_ts)
    await post('/append', { scope: s, id: 'b', payload: 2 })
    const ts = (a.item as { ts: number }).ts
    const env = json(await get(`/get?scope=${s}&id=a&envelope=true`))
    expect(env.item).toEqual({ scope: s, id: 'a', seq: 1, ts, expires_ts: ts + 60_000_000, payload: 1 })
    const tail = json(await get(`/tail?scope=${s}`)).items as Record<string, unknown>[]
    expect(tail.map((i) => 'expires_ts' in i)).toEqual([true, false])
    expect((await get(`/head?scope=${s}`)).bodyText).toContain(`"ts":${ts},"expires_ts":${ts + 60_000_000},"payload":1`)
    const many = json(await post('/get_many?envelope=true', { targets: [{ scope: s, id: 'a' }, { scope: s, id: 'b' }] }))
    expect((many.results as { item: Record<string, unknown> }[]).map((r) => r.item.expires_ts)).toEqual([ts + 60_000_000, undefined])
    expect(json(await post('/upsert', { scope: s, id: 'b', payload: 3, ttl_ms: 1000 })).created).toBe(false)
    expect(json(await post('/update', { scope: s, seq: 1, payload: 4, ttl_ms: 2000 })).count).toBe(1)
    const after = json(await get(`/tail?scope=${s}`)).items as { ts: number; expires_ts: number }[]
    expect(after.map((i) => i.expires_ts - i.ts)).toEqual([2_000_000, 1_000_000])
    expect(json(await post('/warm', { items: [{ scope: s, id: 'w', payload: 5, ttl_ms: 3000 }, { scope: s, payload: 6 }] }))).toEqual({ ok: true, scopes: 1 })
    const warmed = json(await get(`/tail?scope=${s}`)).items as { ts: number; expires_ts?: number }[]
    expect(warmed.map((i) => (i.expires_ts === undefined ? null : i.expires_ts - i.ts))).toEqual([3_000_000, null])
  })

  it('an expired item is gone from every read; /metrics counts it once a write reclaims it', async () => {
    const s = fresh()
    await post('/append', { scope: s, id: 'short', payload: 1, ttl_ms: 30 })
    await post('/append', { scope: s, id: 'long', payload: 2 })
    const deadline = Date.now() + 5000
    while ((await get(`/get?scope=${s}&id=short`)).status === 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect((await get(`/get?scope=${s}&id=short`)).status).toBe(404)
    expect((await get(`/render?scope=${s}&seq=1`)).status).toBe(404)
    expect((json(await get(`/head?scope=${s}`)).items as { id: string }[]).map((i) => i.id)).toEqual(['long'])
    const metric = async (): Promise<number> => Number(/^scopecache_expired_items_total (\d+)$/m.exec((await get('/metrics')).bodyText)?.[1] ?? NaN)
    const before = await metric()
    expect(Number.isInteger(before)).toBe(true)
    await post('/append', { scope: s, id: 'short', payload: 3 }) // the id is free again; the write reclaims the expired item first
    expect(await metric()).toBe(before + 1)
  })

  it('/touch moves a live item\'s expiry to ttl_ms from now: {"touched":1}, 0 for a missing one', async () => {
    const s = fresh()
    await post('/append', { scope: s, id: 'a', payload: 1, ttl_ms: 1000 })
    await post('/append', { scope: s, id: 'b', payload: 2 })
    expect(json(await post('/touch', { scope: s, id: 'a', ttl_ms: 600_000 }))).toEqual({ ok: true, touched: 1 })
    expect(json(await post('/touch', { scope: s, seq: 2, ttl_ms: 600_000 }))).toEqual({ ok: true, touched: 1 })
    expect(json(await post('/touch', { scope: s, id: 'none', ttl_ms: 600_000 }))).toEqual({ ok: true, touched: 0 })
    expect(json(await post('/touch', { scope: 'no-such-scope', seq: 1, ttl_ms: 1 }))).toEqual({ ok: true, touched: 0 })
    const items = json(await get(`/tail?scope=${s}`)).items as { expires_ts: number }[]
    for (const it of items) expect(it.expires_ts).toBeGreaterThan(Date.now() * 1000 + 500_000_000)
  })

  it('/scope_ttl sets the default TTL (item_ttl_ms in /scopelist), null clears it', async () => {
    const s = fresh()
    expect(json(await post('/scope_ttl', { scope: s, ttl_ms: 60_000 }))).toEqual({ ok: true, item_ttl_ms: 60_000 })
    const row = (): Promise<Record<string, unknown>> => get(`/scopelist?prefix=${s}`).then((r) => (json(r).scopes as Record<string, unknown>[])[0])
    expect((await row()).item_ttl_ms).toBe(60_000)
    await post('/append', { scope: s, id: 'd', payload: 1 })
    const it = json(await get(`/get?scope=${s}&id=d&envelope=true`)).item as { ts: number; expires_ts: number }
    expect(it.expires_ts - it.ts).toBe(60_000_000)
    expect(json(await post('/scope_ttl', { scope: s, ttl_ms: null }))).toEqual({ ok: true, item_ttl_ms: null })
    expect('item_ttl_ms' in (await row())).toBe(false)
  })

  it('a bad ttl_ms is a 400 naming the rule, after the reference\'s fields, and stores nothing', async () => {
    const s = fresh()
    await post('/append', { scope: s, id: 'a', payload: 1 })
    const bad = ['0', '-5', '1.5', '"5"', '1e3', String(MAX + 1), '99999999999999999999', 'true', '{}']
    const rule = /the 'ttl_ms' field must be an integer number of milliseconds from 1 to 315360000000/
    for (const v of bad) {
      const cases: [string, string][] = [
        ['/append', `{"scope":"${s}","id":"b","payload":1,"ttl_ms":${v}}`],
        ['/upsert', `{"scope":"${s}","id":"b","payload":1,"ttl_ms":${v}}`],
        ['/update', `{"scope":"${s}","id":"a","payload":9,"ttl_ms":${v}}`],
        ['/touch', `{"scope":"${s}","id":"a","ttl_ms":${v}}`],
        ['/warm', `{"items":[{"scope":"${s}","id":"w","payload":1,"ttl_ms":${v}}]}`],
        ['/rebuild', `{"items":[{"scope":"${s}","id":"w","payload":1,"ttl_ms":${v}}]}`],
      ]
      cases.push(['/scope_ttl', `{"scope":"${s}","ttl_ms":${v}}`])
      for (const [path, body] of cases) {
        const r = await post(path, body)
        expect(r.status, `${path} ${v}`).toBe(400)
        expect(json(r).error, `${path} ${v}`).toMatch(rule)
      }
    }
    // null is absent, as for every optional field; the reference's own fields are checked first
    expect(json(await post('/update', `{"scope":"${s}","id":"a","payload":1,"ttl_ms":null}`)).count).toBe(1)
    expect(json(await post('/append', `{"scope":"","payload":1,"ttl_ms":-1}`)).error).toMatch(/the 'scope' field is required/)
    expect(json(await post('/append', `{"scope":"${s}","ttl_ms":-1}`)).error).toMatch(/the 'payload' field is required/)
    expect(json(await post('/touch', `{"scope":"${s}","id":"a"}`)).error).toMatch(/the 'ttl_ms' field is required for the '\/touch' endpoint/)
    expect(json(await post('/scope_ttl', `{"scope":"${s}"}`)).error).toMatch(/the 'ttl_ms' field is required/)
    expect(json(await get(`/tail?scope=${s}`)).items).toEqual([{ scope: s, id: 'a', seq: 1, ts: expect.any(Number), payload: 1 }])
    expect((json(await get(`/scopelist?prefix=${s}`)).scopes as Record<string, unknown>[])[0]).toMatchObject({ item_count: 1, last_seq: 1 })
    expect((await get('/help')).bodyText).toMatch(/^POST +\/touch /m)
  })
})
