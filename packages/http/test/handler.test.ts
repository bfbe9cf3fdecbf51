import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ScopeCache } from '@scopecache/core'
import { describe, expect, it } from 'vitest'
import { createHandler, type HandlerOptions } from '../src/index.js'

async function serve(cache: ScopeCache, opts: HandlerOptions, run: (req: (m: string, p: string, b?: string) => Promise<{ status: number; body: string }>) => Promise<void>): Promise<void> {
  const server = http.createServer(createHandler(cache, opts))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    await run(async (method, path, body) => {
      const r = await fetch(base + path, { method, body })
      return { status: r.status, body: await r.text() }
    })
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
}

describe('createHandler', () => {
  it('logs rejected writes at debug and 5xx at error', async () => {
    const logs: [string, object][] = []
    const logger = { error: (o: object) => logs.push(['error', o]), debug: (o: object) => logs.push(['debug', o]) }
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    await serve(cache, { logger }, async (req) => {
      expect((await req('POST', '/append', '{"scope":"s"}')).status).toBe(400)
      expect(logs).toEqual([['debug', { code: 'invalid_input', status: 400, error: "scopecache: invalid input: the 'payload' field is required" }]])
      expect((await req('GET', '/get?scope=s&seq=0')).status).toBe(400) // a read: not logged
      expect(logs.length).toBe(1)
      cache.close() // the handle is now closed: writes fail with a 500 that is logged
      const r = await req('POST', '/append', '{"scope":"s","payload":1}')
      expect(r.status).toBe(500)
      expect(JSON.parse(r.body)).toEqual({ ok: false, error: 'scopecache: this handle was closed' })
      expect(logs[1][0]).toBe('error')
      expect(logs[1][1]).toMatchObject({ code: 'closed' })
    })
  })

  it('an unexpected error is a logged 500 "internal error", and the handler keeps serving', async () => {
    const logs: string[] = []
    const logger = { error: () => logs.push('error'), debug: () => logs.push('debug') }
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const broken = Object.create(cache) as ScopeCache
    broken.stats = () => {
      throw new TypeError('boom')
    }
    await serve(broken, { logger }, async (req) => {
      const r = await req('GET', '/stats')
      expect(r.status).toBe(500)
      expect(r.body).toBe('{"ok":false,"error":"internal error"}\n')
      expect(logs).toEqual(['error'])
      expect((await req('GET', '/help')).status).toBe(200)
    })
    cache.close()
  })

  it('limits can be overridden', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    await serve(cache, { limits: { singleBodyBytes: 40 } }, async (req) => {
      expect((await req('POST', '/append', '{"scope":"s","payload":1}')).status).toBe(200)
      const r = await req('POST', '/append', '{"scope":"s","payload":"' + 'x'.repeat(40) + '"}')
      expect(r.status).toBe(413)
      expect(JSON.parse(r.body).error).toBe('the request body exceeds the maximum allowed size of 40 bytes')
      expect((await req('GET', '/help')).body).toContain('max_body_bytes_single: 40\n')
    })
    cache.close()
  })
})
