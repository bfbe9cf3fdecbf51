/**
 * startServer (the engine behind `scopecache serve`), driven in-process from the built package:
 * listener-thread restart after a crash, and the HTTP hardening knobs (client errors answered as
 * JSON, the Connection: close + trailing bytes case, slow headers, connection and per-socket caps).
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../packages/http/dist/server.js'
import { request } from './fixtures/cli-harness.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const start = (opts: Parameters<typeof startServer>[0] = {}) =>
  startServer({ port: 0, threads: 1, logLevel: 'silent', ...opts }).then((s) => (server = s))

/** Writes raw bytes on a fresh connection and collects everything until the server closes it. */
function raw(port: number, bytes: string, ms = 5_000, end = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let got = ''
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no close within ${ms} ms; got ${JSON.stringify(got)}`)) }, ms)
    sock.setEncoding('utf8').on('data', (d: string) => (got += d))
    sock.on('close', () => { clearTimeout(timer); resolve(got) })
    sock.on('error', () => {})
    if (end) sock.end(bytes) // half-close: the server closes once it has answered
    else sock.write(bytes)
  })
}

describe('listener threads', () => {
  it('a crashed listener thread is restarted and the store (with its data) keeps serving', async () => {
    const s = await start()
    const base = s.address
    expect((await request({ base }, 'POST', '/append', { scope: 'r', id: 'k', payload: { a: 1 } })).status).toBe(200)
    const [w] = s.workers
    const old = w!.threadId
    await w!.terminate()
    const end = Date.now() + 5_000
    while (!(s.workers.length === 1 && s.workers[0]!.threadId !== old) && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    expect(s.threads).toBe(1)
    expect(s.workers[0]!.threadId).not.toBe(old)
    const r = await request({ base }, 'GET', '/get?scope=r&id=k')
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ a: 1 })
  })

  it('stops restarting after 5 restarts within a minute and reports the server dead', async () => {
    let fatal: Error | undefined
    const s = await start({ onFatal: (err) => (fatal = err) })
    for (let round = 0; round <= 5; round++) {
      const w = s.workers[0]!
      await w.terminate()
      if (round === 5) break
      const end = Date.now() + 5_000
      while (!(s.workers.length === 1 && s.workers[0] !== w) && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      expect(s.workers[0]).not.toBe(w)
    }
    await new Promise((r) => setTimeout(r, 400))
    expect(s.threads).toBe(0)
    expect(fatal?.message).toMatch(/no listener thread left/)
  })
})

describe('HTTP hardening', () => {
  it('answers a malformed request with 400 JSON and closes', async () => {
    const s = await start()
    const reply = await raw(s.port!, 'GARBAGE\r\n\r\n')
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(reply).toMatch(/Content-Type: application\/json/)
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ ok: false })
  })

  it('bytes after a Connection: close request do not turn its success into a 400', async () => {
    const s = await start()
    const body = JSON.stringify({ scope: 'cc', id: 'one', payload: 1 })
    const reply = await raw(
      s.port!,
      `POST /append HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /help HTTP/1.1\r\nHost: x\r\n\r\n',
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).not.toMatch(/HTTP\/1\.1 400/)
  })

  it('a client that never finishes its headers gets 408 after headersTimeout', async () => {
    const s = await start({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, connectionsCheckingIntervalMs: 100 } })
    const t0 = Date.now()
    const reply = await raw(s.port!, 'GET /help HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    expect(reply).toMatch(/^HTTP\/1\.1 408 /)
    expect(Date.now() - t0).toBeLessThan(3_000)
  })

  it('caps open connections per thread (maxConnections)', async () => {
    const s = await start({ limits: { maxConnections: 2 } })
    const open = await Promise.all([0, 1].map(() => new Promise<net.Socket>((resolve) => {
      const c = net.connect(s.port!, '127.0.0.1', () => resolve(c))
    })))
    await new Promise((r) => setTimeout(r, 100))
    const third = await raw(s.port!, 'GET /help HTTP/1.1\r\nHost: x\r\n\r\n', 3_000)
    expect(third).toBe('') // accepted by the kernel, closed by Node at once
    for (const c of open) c.destroy()
    await new Promise((r) => setTimeout(r, 100))
    expect((await request({ base: s.address }, 'GET', '/help')).status).toBe(200)
  })

  it('closes a keep-alive connection after maxRequestsPerSocket requests', async () => {
    const s = await start({ limits: { maxRequestsPerSocket: 2 } })
    const req = 'GET /help HTTP/1.1\r\nHost: x\r\n\r\n'
    const reply = await raw(s.port!, req + req + req, 5_000, true)
    expect(reply.match(/HTTP\/1\.1 200 /g)?.length).toBe(2)
    expect(reply).toMatch(/Connection: close/i)
  })

  it('refuses a non-loopback host unless allowRemote', async () => {
    await expect(startServer({ port: 0, host: '0.0.0.0', logLevel: 'silent' })).rejects.toMatchObject({ code: 'remote_refused' })
  })
})
