/**
 * The request listener every server thread runs: the package's `createHandler` over this thread's
 * attachment to the store, plus the `x-scopecache-thread` response header naming the listener
 * thread that answered (1..N; 0 is the private init socket served by the main thread), so a client
 * or a test can see how connections spread over threads.
 */
import type { RequestListener } from 'node:http'
import type { ScopeCache } from '@scopecache/core'
import * as api from './index.js'
import type { Logger } from './server-log.js'

type HandlerFactory = (cache: ScopeCache, opts: { metricsBuffer?: SharedArrayBuffer; logger?: Logger }) => RequestListener

// STAND-IN until `createHandler` is exported from ./index.js: enough of the API (/help, /append,
// /get) for the server's own tests. Replaced by the real handler as soon as it exists.
const standIn: HandlerFactory = (cache) => (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  const send = (status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
  if (url.pathname === '/help') return send(200, 'scopecache (stand-in handler)\n', 'text/plain; charset=utf-8')
  if (url.pathname === '/get') {
    const raw = cache.getRaw(url.searchParams.get('scope') ?? '', { id: url.searchParams.get('id') ?? '' })
    return raw === undefined ? send(404, '') : send(200, raw, 'application/octet-stream')
  }
  if (url.pathname === '/append' && req.method === 'POST') {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const b = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        const m = cache.append(b.scope, b.payload, { id: b.id })
        send(200, JSON.stringify({ ok: true, item: m }) + '\n')
      } catch (err) {
        send(400, JSON.stringify({ ok: false, error: String(err) }) + '\n')
      }
    })
    return
  }
  send(404, '{"ok":false,"error":"not found"}\n')
}

function handlerFactory(): HandlerFactory {
  const real = (api as Record<string, unknown>)['createHandler']
  return typeof real === 'function' ? (real as HandlerFactory) : standIn
}

export function createMetricsBufferIfAvailable(): SharedArrayBuffer | undefined {
  const make = (api as Record<string, unknown>)['createMetricsBuffer']
  return typeof make === 'function' ? (make as () => SharedArrayBuffer)() : undefined
}

export function createRequestListener(
  cache: ScopeCache,
  opts: { threadIndex: number; metricsBuffer: SharedArrayBuffer | undefined; logger: Logger },
): RequestListener {
  const handler = handlerFactory()(cache, { metricsBuffer: opts.metricsBuffer, logger: opts.logger })
  const thread = String(opts.threadIndex)
  return (req, res) => {
    res.setHeader('x-scopecache-thread', thread)
    handler(req, res)
  }
}
