/**
 * Issue 15 for the HTTP layer: every error answer names its stable code in `X-Scopecache-Code`
 * (bodies unchanged), options objects are checked, `startServer({ cache })` serves an existing
 * store, `ServerStartError.code` is one of a closed set, and every request is an OpenTelemetry
 * span (endpoint, scope, outcome) when an SDK is registered — shown with the in-memory exporter.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createHandler } from '../packages/http/dist/index.js'
import { ServerStartError, startServer } from '../packages/http/dist/server.js'

interface Answer {
  status: number
  code: string | undefined
  body: string
}

function call(port: number, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-scopecache-code'] as string | undefined, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

let cache: ScopeCache
let server: http.Server
let port: number
beforeAll(async () => {
  cache = ScopeCache.create({ maxStoreBytes: 64 * 1024, maxItemBytes: 4096 })
  const handler = createHandler(cache)
  server = http.createServer(handler)
  server.on('checkContinue', handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise((r) => server.close(r))
  cache.close()
})

describe('X-Scopecache-Code', () => {
  it('names the stable code of every error answer; bodies are unchanged; successes and raw misses carry none', async () => {
    const ok = await call(port, 'POST', '/append', '{"scope":"s","id":"a","payload":1}')
    expect([ok.status, ok.code]).toEqual([200, undefined])
    const cases: [string, string, string | undefined, number, string, string][] = [
      ['POST', '/append', '{"scope":"s","id":"a","payload":2}', 409, 'conflict', '{"ok":false,"error":"an item with this \'id\' already exists in the scope"}\n'],
      ['POST', '/append', '{"scope":"s"}', 400, 'invalid_input', ''],
      ['POST', '/append', '{', 400, 'invalid_input', '{"ok":false,"error":"the request body must contain valid JSON"}\n'],
      ['GET', '/nope', undefined, 404, 'not_found', '{"ok":false,"error":"the requested endpoint does not exist"}\n'],
      ['POST', '/get', undefined, 405, 'method_not_allowed', '{"ok":false,"error":"the HTTP method is not allowed for this endpoint"}\n'],
      ['POST', '/append', JSON.stringify({ scope: 's', payload: 'x'.repeat(9000) }), 413, 'body_too_large', ''],
      ['POST', '/append', JSON.stringify({ scope: 's', payload: 'x'.repeat(4100) }), 400, 'too_large', ''],
      ['GET', '/head?scope=s&limit=0', undefined, 400, 'invalid_input', ''],
    ]
    for (const [method, path, body, status, code, exact] of cases) {
      const a = await call(port, method, path, body)
      expect([a.status, a.code], `${method} ${path}`).toEqual([status, code])
      expect(a.body.startsWith('{"ok":false,"error":')).toBe(true)
      if (exact !== '') expect(a.body).toBe(exact)
    }
    for (let i = 0; i < 40; i++) await call(port, 'POST', '/append', JSON.stringify({ scope: `f${i}`, payload: 'y'.repeat(2000) }))
    const full = await call(port, 'POST', '/append', JSON.stringify({ scope: 'full', payload: 'z'.repeat(2000) }))
    expect([full.status, full.code]).toEqual([507, 'store_full'])
    expect(full.body).toMatch(/^\{"ok":false,"error":"store is at byte capacity","approx_store_mb":/)
    const miss = await call(port, 'GET', '/get?scope=s&id=zz')
    expect([miss.status, miss.code, miss.body]).toEqual([404, undefined, ''])
  })
})

describe('options objects', () => {
  it('createHandler refuses unknown option keys, naming them', () => {
    expect(() => createHandler(cache, { loger: console } as never)).toThrow(expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining("'loger'") }))
    expect(() => createHandler(cache, { limits: { responseByte: 1 } } as never)).toThrow(expect.objectContaining({ message: expect.stringContaining("'responseByte'") }))
  })

  it('startServer refuses unknown keys, and a cache together with store options', async () => {
    await expect(startServer({ prot: 0 } as never)).rejects.toMatchObject({ name: 'ServerStartError', code: 'invalid_option', message: expect.stringContaining("'prot'") })
    await expect(startServer({ limits: { maxConnection: 1 } } as never)).rejects.toMatchObject({ code: 'invalid_option' })
    await expect(startServer({ cache, maxStoreBytes: 1 << 20 })).rejects.toMatchObject({ code: 'invalid_option' })
  })

  it('ServerStartError codes: errno names for the usual listen failures, listen_failed (errno kept) for the rest', () => {
    expect(new ServerStartError('EADDRINUSE', 'x')).toMatchObject({ code: 'EADDRINUSE', errno: 'EADDRINUSE' })
    expect(new ServerStartError('ENOTSOCK', 'x')).toMatchObject({ code: 'listen_failed', errno: 'ENOTSOCK' })
    expect(new ServerStartError('aborted', 'x')).toMatchObject({ code: 'aborted', errno: undefined })
  })
})

describe('startServer({ cache })', () => {
  it('serves the existing store, and leaves it open on close()', async () => {
    const mine = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    mine.append('owned', { by: 'owner' }, { id: 'k' })
    const s = await startServer({ cache: mine, port: 0, threads: 1, logLevel: 'silent' })
    try {
      expect(s.cache).toBe(mine)
      const a = await call(s.port!, 'GET', '/get?scope=owned&id=k')
      expect([a.status, a.body]).toEqual([200, '{"by":"owner"}'])
      expect((await call(s.port!, 'POST', '/upsert', '{"scope":"owned","id":"w","payload":2}')).status).toBe(200)
      expect(mine.get('owned', { id: 'w' })?.payload).toBe(2)
    } finally {
      await s.close()
    }
    expect(mine.get('owned', { id: 'k' })?.payload).toEqual({ by: 'owner' }) // still open
    mine.close()
  })

  it('refuses more listener threads than the store has free slots', async () => {
    const small = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreadSlots: 1 }) // the owner holds the only slot
    await expect(startServer({ cache: small, port: 0, threads: 1, logLevel: 'silent' })).rejects.toMatchObject({
      code: 'invalid_option', message: expect.stringContaining('has 0 (of maxThreadSlots 1)'),
    })
    small.close()
  })
})

describe('traces', () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  beforeAll(() => void trace.setGlobalTracerProvider(provider))
  afterAll(async () => {
    trace.disable()
    await provider.shutdown()
  })

  it('one SERVER span per request: endpoint, scope, outcome, status', async () => {
    exporter.reset()
    await call(port, 'POST', '/upsert', '{"scope":"traced","id":"a","payload":1}')
    await call(port, 'GET', '/get?scope=traced&id=a')
    await call(port, 'GET', '/render?scope=traced&id=missing')
    await call(port, 'POST', '/append', '{"scope":"traced","id":"a","payload":1}')
    await call(port, 'GET', '/nowhere')
    const rows = exporter.getFinishedSpans().map((s) => [
      s.name, s.kind, s.attributes['scopecache.endpoint'], s.attributes['scopecache.scope'], s.attributes['scopecache.outcome'], s.attributes['http.response.status_code'],
    ])
    expect(rows).toEqual([
      ['POST /upsert', 1, 'upsert', 'traced', 'ok', 200],
      ['GET /get', 1, 'get', 'traced', 'ok', 200],
      ['GET /get', 1, 'get', 'traced', 'miss', 404], // /render is an alias of /get
      ['POST /append', 1, 'append', 'traced', 'conflict', 409],
      ['GET', 1, undefined, undefined, 'not_found', 404],
    ])
  })

  it('a handler made with tracing: false starts no span, even with an SDK registered', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const server = http.createServer(createHandler(cache, { tracing: false }))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      exporter.reset()
      const quiet = (server.address() as AddressInfo).port
      await call(quiet, 'POST', '/upsert', '{"scope":"untraced","id":"a","payload":1}')
      expect((await call(quiet, 'GET', '/get?scope=untraced&id=a')).status).toBe(200)
      expect(exporter.getFinishedSpans()).toEqual([])
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      cache.close()
    }
  })
})
