/**
 * A running HTTP API for black-box tests. `startTarget({ via: 'handler' })` (the default) serves
 * `createHandler` from plain node:http on 127.0.0.1, port 0, in this process, over a store it
 * creates (exposed as `cache` so tests can check invariants). Other `via`s (the real
 * `scopecache serve` CLI, a Unix socket) plug in by adding a case to `startTarget` that returns
 * the same Target shape; tests then run unchanged against them.
 */
import http, { type IncomingHttpHeaders } from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { ScopeCache, type ScopeCacheOptions } from '../../packages/core/dist/index.js'
import { clientErrorHandler, createHandler, type HandlerOptions } from '../../packages/http/src/index.js'
import { startCliTarget } from '../fixtures/cli-target.js'

export interface TargetResponse {
  status: number
  headers: IncomingHttpHeaders
  bodyText: string
  bodyBytes: Buffer
}

export interface Target {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string
  host: string
  port: number
  /** Where to connect: spread into `http.request` / `net.connect` options (TCP or a Unix socket). */
  endpoint: Endpoint
  request(method: string, path: string, body?: string | Uint8Array, headers?: Record<string, string>): Promise<TargetResponse>
  /** Writes raw bytes on a fresh connection; resolves with everything the server sent until it closed (or `timeoutMs`). */
  raw(bytes: string | Uint8Array, opts?: { endAfterWrite?: boolean; destroyAfterWrite?: boolean; timeoutMs?: number }): Promise<string>
  /** The store, when the target runs in this process. */
  cache?: ScopeCache
  close(): Promise<void>
}

export interface TargetOptions {
  /** 'cli' / 'cli-socket': the built `scopecache serve` over TCP / a Unix socket (test/fixtures/cli-target.ts). */
  via?: 'handler' | 'cli' | 'cli-socket'
  /** Options of the store the target creates. */
  cache?: ScopeCacheOptions
  handler?: HandlerOptions
}

export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  // SCOPECACHE_TEST_TARGET=cli|cli-socket runs the same suites against the built `scopecache serve`.
  const via = opts.via ?? (process.env['SCOPECACHE_TEST_TARGET'] as TargetOptions['via']) ?? 'handler'
  if (via === 'cli' || via === 'cli-socket') return startCliTarget(via, opts, clientFor)
  if (via !== 'handler') throw new Error(`unknown target ${String(via)}`)
  const cache = ScopeCache.create(opts.cache)
  const handler = createHandler(cache, opts.handler)
  const server = http.createServer(handler)
  server.on('checkContinue', handler) // as the README says: no `100 Continue` for a body it will refuse
  server.on('clientError', clientErrorHandler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    ...clientFor('127.0.0.1', port),
    cache,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      cache.close()
    },
  }
}

export type Endpoint = { host: string; port: number } | { socketPath: string }

/** The request/raw functions of a Target for a TCP address or a Unix socket path. */
export function clientFor(host: string, port: number): Omit<Target, 'close' | 'cache'>
export function clientFor(endpoint: Endpoint): Omit<Target, 'close' | 'cache'>
export function clientFor(a: string | Endpoint, b?: number): Omit<Target, 'close' | 'cache'> {
  const endpoint: Endpoint = typeof a === 'string' ? { host: a, port: b as number } : a
  const tcp = 'host' in endpoint
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  return {
    url: tcp ? `http://${endpoint.host}:${endpoint.port}` : 'http://localhost',
    host: tcp ? endpoint.host : 'localhost',
    port: tcp ? endpoint.port : 0,
    endpoint,
    request(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        // always frame a body: Node's client sends a DELETE body with neither Content-Length nor
        // chunking, which a server rightly reads as the start of the next (malformed) request
        const framed = body === undefined || Object.keys(headers).some((h) => ['content-length', 'transfer-encoding'].includes(h.toLowerCase()))
          ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }
        const req = http.request({ ...endpoint, method, path, agent, headers: framed }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const bodyBytes = Buffer.concat(chunks)
            resolve({ status: res.statusCode ?? 0, headers: res.headers, bodyText: bodyBytes.toString('utf8'), bodyBytes })
          })
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end(body)
      })
    },
    raw(bytes, { endAfterWrite = false, destroyAfterWrite = false, timeoutMs = 2000 } = {}) {
      return new Promise((resolve) => {
        const chunks: Buffer[] = []
        const socket = tcp ? net.connect(endpoint.port, endpoint.host) : net.connect({ path: endpoint.socketPath })
        const finish = (): void => {
          clearTimeout(timer)
          socket.destroy()
          resolve(Buffer.concat(chunks).toString('latin1'))
        }
        const timer = setTimeout(finish, timeoutMs)
        socket.on('data', (c: Buffer) => chunks.push(c))
        socket.on('error', finish)
        socket.on('close', finish)
        socket.write(bytes, () => {
          if (destroyAfterWrite) finish()
          else if (endAfterWrite) socket.end()
        })
      })
    },
  }
}

/** Parses a JSON body, failing the test with the text when it is not JSON. */
export function json(r: TargetResponse): any {
  try {
    return JSON.parse(r.bodyText)
  } catch {
    throw new Error(`not JSON (status ${r.status}): ${JSON.stringify(r.bodyText)}`)
  }
}
