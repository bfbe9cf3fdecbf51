/**
 * The fastify plugin mounts the same API as createHandler: the same answers byte for byte, the
 * API's own 405s and body caps (fastify's body parsing stays out of its routes, and only of its
 * routes), under a prefix when registered with one.
 */
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '@scopecache/core'
import { checkInvariants } from '../../core/dist/internals.js' // not a package export: tests reach it by path
import { scopecachePlugin } from '../src/fastify.js'

interface Answer { status: number; headers: Headers; bodyText: string }

/** fetch with an explicit content type (fetch would send text/plain for a string body). */
function clientFor(host: string, port: number) {
  return {
    async request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
      const r = await fetch(`http://${host}:${port}${path}`, { method, body, headers })
      return { status: r.status, headers: r.headers, bodyText: await r.text() }
    },
  }
}
const json = (r: Answer): any => JSON.parse(r.bodyText)

const cache = ScopeCache.create({ maxStoreBytes: 8 << 20, maxItemBytes: 4096 })
const app = Fastify()
let c: ReturnType<typeof clientFor>

beforeAll(async () => {
  await app.register(scopecachePlugin, { cache })
  await app.register(scopecachePlugin, { cache, prefix: '/cache' })
  app.post('/echo', async (request) => ({ echoed: request.body }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  c = clientFor('127.0.0.1', (app.server.address() as AddressInfo).port)
})
afterAll(async () => {
  await app.close()
  checkInvariants(cache)
  cache.close()
})

describe('fastify plugin', () => {
  it('serves the API at the root and under a prefix, byte-exact', async () => {
    const payload = '{ "b" : 12345678901234567890 }'
    const r = await c.request('POST', '/append', `{"scope":"f","id":"a","payload":${payload}}`, { 'content-type': 'application/json' })
    expect(r.status).toBe(200)
    const { ts } = json(r).item
    expect(r.bodyText).toBe(`{"ok":true,"created":true,"item":{"scope":"f","id":"a","seq":1,"ts":${ts}}}\n`)
    for (const base of ['', '/cache']) {
      const raw = await c.request('GET', `${base}/get?scope=f&id=a`)
      expect(raw.headers.get('content-type')).toBe('application/octet-stream')
      expect(raw.bodyText).toBe(payload)
      expect((await c.request('GET', `${base}/head?scope=f`)).bodyText).toContain(`"payload":${payload}}`)
    }
    const p = await c.request('POST', '/cache/append', '{"scope":"f","payload":2}')
    expect(json(p).item.seq).toBe(2)
  })

  it('answers 405 with Allow and its own 413, whatever the content type', async () => {
    const r = await c.request('GET', '/append')
    expect(r.status).toBe(405)
    expect(r.headers.get('allow')).toBe('POST')
    expect(r.bodyText).toBe('{"ok":false,"error":"the HTTP method is not allowed for this endpoint"}\n')
    expect((await c.request('DELETE', '/cache/stats')).status).toBe(405)
    const big = `{"scope":"f","payload":"${'x'.repeat(9000)}"}`
    for (const type of ['application/json', 'text/plain', 'application/x-whatever']) {
      const t = await c.request('POST', '/append', big, { 'content-type': type })
      expect(t.status).toBe(413)
      expect(json(t).error).toBe('the request body exceeds the maximum allowed size of 8192 bytes')
    }
    const bad = await c.request('POST', '/append', '{"scope":', { 'content-type': 'application/json' })
    expect(bad.bodyText).toBe('{"ok":false,"error":"the request body must contain valid JSON"}\n')
  })

  it('bulk bodies over fastify\'s own 1 MiB bodyLimit, with or without a content type, reach the API', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ scope: 'bulk', payload: 'p'.repeat(400) + i }))
    const body = JSON.stringify({ items })
    expect(body.length).toBeGreaterThan(1024 * 1024)
    for (const headers of [{ 'content-type': 'application/json' }, {}] as Record<string, string>[]) {
      const r = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/warm`, { method: 'POST', body: Buffer.from(body), headers })
      expect(r.status).toBe(200)
      expect(await r.text()).toBe('{"ok":true,"scopes":1}\n')
    }
    expect(JSON.parse((await c.request('GET', '/stats')).bodyText).items).toBeGreaterThanOrEqual(3000)
    await c.request('POST', '/drop_scope', '{"scope":"bulk"}')
  })

  it('leaves the rest of the app alone', async () => {
    const r = await c.request('POST', '/echo', '{"x":1}', { 'content-type': 'application/json' })
    expect(json(r)).toEqual({ echoed: { x: 1 } })
    expect((await c.request('GET', '/nope')).status).toBe(404)
  })

  it('is a fastify-plugin plugin that decorates the app with the store it serves', () => {
    expect(app.hasPlugin('@scopecache/http')).toBe(true)
    expect(app.scopecache).toBe(cache)
  })

  it('closes on onClose only a store it created, and refuses a second store on one instance', async () => {
    const own = Fastify()
    await own.register(scopecachePlugin, { store: { maxStoreBytes: 1 << 20 }, prefix: '/c' })
    const r = await own.inject({ method: 'POST', url: '/c/append', payload: '{"scope":"s","payload":1}' })
    expect(r.json().item.seq).toBe(1)
    const created = own.scopecache
    await own.close()
    expect(() => created.stats()).toThrow(expect.objectContaining({ code: 'closed' }))

    const other = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const two = Fastify()
    await two.register(scopecachePlugin, { cache })
    await expect(two.register(scopecachePlugin, { cache: other })).rejects.toThrow(/already serves another store/)
    await two.close()
    expect(cache.stats().items).toBeGreaterThan(0) // a given store stays open
    other.close()
  })

  it('serves /metrics through the plugin', async () => {
    const text = (await c.request('GET', '/metrics')).bodyText
    expect(text).toMatch(/^scopecache_items 2$/m)
  })
})
