/**
 * What follows a refused body (413): the answer leaves at once, then the connection lingers, reading
 * and discarding the rest of the body, so that closing it cannot reset the answer away; bounded in
 * time (`lingerMs`) and bytes (`lingerBytes`). And `Expect: 100-continue` is answered without
 * `100 Continue` when the declared body is over its cap. Raw sockets throughout: an http client
 * hides what happens on the wire.
 */
import http from 'node:http'
import net, { type AddressInfo, type Socket } from 'node:net'
import { ScopeCache } from '@scopecache/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandler, type Limits } from '../src/index.js'

const CAP = 8192 // maxItemBytes 4096 + 4096

interface Conn {
  socket: Socket
  /** Everything received so far. */
  text(): string
  /** Resolves when the server's answer (a FIN from it) has arrived, with the time since connect. */
  ended: Promise<number>
  /** Resolves when the server has closed its end of the connection, with the time since connect. */
  closed: Promise<number>
  /** The server's socket of this connection (once the server has accepted it). */
  peer(): Socket
}

let server: http.Server
let port = 0
let cache: ScopeCache
/** Server sockets by the client's local port. */
const accepted = new Map<number, Socket>()
const onAccept = new Map<number, (s: Socket) => void>()

function connect(): Conn {
  const t0 = performance.now()
  // allowHalfOpen: the client keeps sending after the server's FIN, as a client writing a body does
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  let got = ''
  socket.on('data', (d: Buffer) => (got += d.toString('latin1')))
  socket.on('error', () => {}) // a reset while writing is what a cut looks like
  const closed = new Promise<number>((r) => {
    socket.once('connect', () => {
      const watch = (s: Socket): void => void s.once('close', () => r(performance.now() - t0))
      const s = accepted.get(socket.localPort as number)
      if (s) watch(s)
      else onAccept.set(socket.localPort as number, watch)
    })
  })
  return {
    socket,
    text: () => got,
    ended: new Promise((r) => socket.once('end', () => r(performance.now() - t0))),
    closed,
    peer: () => accepted.get(socket.localPort as number) as Socket,
  }
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

const limits: Partial<Limits> = { lingerMs: 400, lingerBytes: 1024 * 1024 }

beforeAll(async () => {
  cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxItemBytes: 4096 })
  const handler = createHandler(cache, { limits })
  server = http.createServer(handler)
  server.on('checkContinue', handler)
  server.on('connection', (s: Socket) => {
    accepted.set(s.remotePort as number, s)
    onAccept.get(s.remotePort as number)?.(s)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  expect(cache.stats().items).toBe(0)
  cache.close()
})

const head = (declared: number, extra = ''): string => `POST /append HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${declared}\r\n\r\n`

describe('after a 413 the connection lingers, bounded', () => {
  it('answers at once, half-closes, and closes when the client has sent the rest (not before)', async () => {
    const c = connect()
    c.socket.write(head(CAP + 50_000) + 'x'.repeat(1000))
    await until(() => c.text().includes('\r\n\r\n{'))
    expect(c.text().split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    await c.ended // the answer is complete: FIN
    // the server is still reading: the rest of the body is taken without a reset
    await new Promise((r) => setTimeout(r, 100))
    expect(c.peer().destroyed).toBe(false)
    const sentAt = performance.now()
    await new Promise<void>((r, j) => c.socket.write('y'.repeat(CAP + 50_000 - 1000), (e) => (e ? j(e) : r())))
    await c.closed
    expect(performance.now() - sentAt).toBeLessThan(300) // the body ended: closed then, not at the time bound (400 ms)
    expect(c.text()).toMatch(/\{"ok":false,"error":"the request body exceeds the maximum allowed size of 8192 bytes"\}\n$/)
  })

  it('a client that stalls mid-body is closed after lingerMs', async () => {
    const c = connect()
    c.socket.write(head(100 * 1024 * 1024) + 'x'.repeat(10_000))
    const ended = await c.ended
    const closed = await c.closed
    expect(c.text().split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    expect(ended).toBeLessThan(300)
    expect(closed - ended).toBeGreaterThanOrEqual(300) // lingerMs 400, timer slack aside
    expect(closed).toBeLessThan(2000)
  })

  it('a client that keeps sending is cut after lingerBytes', async () => {
    const c = connect()
    c.socket.write(head(100 * 1024 * 1024))
    const mb = Buffer.alloc(256 * 1024, 0x61)
    let stop = false
    void c.closed.then(() => (stop = true))
    // keep writing, ~256 KiB per tick, until the server cuts the connection (at most 16 MiB)
    for (let i = 0; i < 64 && !stop; i++) {
      c.socket.write(mb)
      await new Promise((r) => setTimeout(r, 2))
    }
    const closed = await c.closed
    expect(closed).toBeLessThan(2000)
    expect(c.text().split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    const s = c.peer()
    expect(s.destroyed).toBe(true)
    expect(s.bytesRead).toBeGreaterThan(1024 * 1024)
    expect(s.bytesRead).toBeLessThan(8 * 1024 * 1024)
  })
})

describe('Expect: 100-continue', () => {
  it('a declared body over the cap gets the 413 without 100 Continue', async () => {
    const c = connect()
    c.socket.write(head(CAP + 1, 'Expect: 100-continue\r\n'))
    await until(() => c.text().includes('}\n'))
    expect(c.text().startsWith('HTTP/1.1 413 Payload Too Large\r\n')).toBe(true)
    expect(c.text()).not.toContain('100 Continue')
    c.socket.end() // the client gives up on the body: the server closes at once
    expect(await c.closed).toBeLessThan(300)
  })

  it('a body within the cap is invited, then answered', async () => {
    const c = connect()
    const body = '{"scope":"e","payload":1}'
    c.socket.write(head(body.length, 'Expect: 100-continue\r\nConnection: close\r\n'))
    await until(() => c.text().includes('\r\n\r\n'))
    expect(c.text()).toBe('HTTP/1.1 100 Continue\r\n\r\n')
    c.socket.write(body)
    await c.ended
    expect(c.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*"created":true/)
    c.socket.end()
    const f = connect()
    f.socket.end(`POST /flush HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    await f.ended
  })

  it('a read or an unknown path gets its answer without 100 Continue, and the connection closes', async () => {
    for (const req of ['GET /stats HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n',
      'POST /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n']) {
      const c = connect()
      c.socket.write(req)
      await c.ended
      expect(c.text()).not.toContain('100 Continue')
      expect(c.text()).toMatch(/^HTTP\/1\.1 (200|404) /)
      c.socket.end()
    }
  })
})
