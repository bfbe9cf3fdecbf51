/**
 * What the HTTP API offers beyond ScopeCache, against the handler and the real `scopecache serve`
 * over TCP: named locks (/lock, /renew, /unlock: answers, fencing tokens, every bad field a clear
 * 400 that takes nothing, a full lock table 507) and version fences (/version, /invalidate,
 * if_version on the single-item writes: 409 with the version now when it moved).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTarget, type Target } from './helpers/http-target.js'

const json = (t: { bodyText: string }): Record<string, unknown> => JSON.parse(t.bodyText) as Record<string, unknown>

describe.each(['handler', 'cli'] as const)('named locks over HTTP (%s)', (via) => {
  let t: Target
  beforeAll(async () => {
    t = await startTarget({ via })
  })
  afterAll(async () => {
    await t.close()
  })
  const post = (path: string, body: unknown) => t.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))

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
    // none of them took 'n'
    const g = json(await post('/lock', { name: 'n', lease_ms: 10 }))
    expect(g.acquired).toBe(true)
    await post('/unlock', { name: 'n', token: g.token })
  })

  it('GET is 405; /help lists the endpoints', async () => {
    expect((await t.request('GET', '/lock')).status).toBe(405)
    const help = (await t.request('GET', '/help')).bodyText
    for (const p of ['/lock', '/renew', '/unlock', '/version', '/invalidate']) expect(help).toContain(p)
  })
})

describe.each(['handler', 'cli'] as const)('version fences over HTTP (%s)', (via) => {
  let t: Target
  beforeAll(async () => {
    t = await startTarget({ via })
  })
  afterAll(async () => {
    await t.close()
  })
  const post = (path: string, body: unknown) => t.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))
  const version = async (scope: string): Promise<number> => {
    const r = await t.request('GET', `/version?scope=${encodeURIComponent(scope)}`)
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
    expect((await t.request('GET', `/get?scope=${s}&id=a`)).bodyText).toBe('2')
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
    expect((await t.request('GET', `/get?scope=${s}&id=c`)).status).toBe(404)
    expect(r5.version as number).toBeGreaterThan(r4.version as number)
    expect((await post('/invalidate', {})).status).toBe(400)
    expect((await post('/invalidate', { scope: s, id: 'a', seq: 1 })).status).toBe(400)
    expect((await t.request('GET', '/version')).status).toBe(400)
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
