/**
 * The HTTP API as one `(req, res)` function for node:http (and, through `serve`, for fastify).
 * No framework routing: the path before `?` goes through one switch (`route`), the method is
 * compared with the endpoint's one method, and reads answer synchronously from shared memory.
 * Writes wait for their whole body (capped while it streams), validate it completely, and only
 * then touch the store. Every failure becomes the JSON error body with its status; nothing a
 * client sends can throw out of the handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ScopeCache } from '@scopecache/core'
import { lingerAfterAnswer, readBody } from './body.js'
import { HELP, METRICS, PATHS, route, UNKNOWN_INDEX, type BodyKind, type Ctx, type Endpoint } from './endpoints.js'
import { HttpError, MSG, toHttpError } from './errors.js'
import { getString, parseBody, type JsonObject } from './json-body.js'
import { limitLines, resolveLimits, type Limits } from './limits.js'
import { Metrics } from './metrics.js'
import { checkHttpOptions } from './options.js'
import { gated, runGated, type WriteGate } from './coherent-writes.js'
import { readCoherence, registerCoherence } from './coherence-metrics.js'
import { endRequestSpan, spanRecording, spanScope, startRequestSpan } from './trace.js'

/** The subset of a pino logger the handler uses. */
export interface HandlerLogger {
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

export interface HandlerOptions {
  /** pino (or compatible) logger: 5xx answers at error, rejected writes at debug. */
  logger?: HandlerLogger
  /** Shared counts (`createMetricsBuffer()`), one per server, given to every thread's handler. Default: a private one. */
  metricsBuffer?: SharedArrayBuffer
  /** Overrides of the limits derived from the store's caps. */
  limits?: Partial<Limits>
  /** Headers sent with every answer (the server's `x-scopecache-thread`), before the handler's own. */
  headers?: Readonly<Record<string, string>>
  /** OpenTelemetry spans per request (trace.ts; a no-op unless an SDK is registered). Default true. */
  tracing?: boolean
  /** A node of a coherent group (@scopecache/redis): writes go through it (coherent-writes.ts). */
  writes?: WriteGate
  /** The node's figures for /metrics (`createCoherenceBuffer`, kept current by the server's main thread). */
  coherenceBuffer?: SharedArrayBuffer
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

const JSON_TYPE = 'application/json; charset=utf-8'
const RAW_TYPE = 'application/octet-stream'
const TEXT_TYPE = 'text/plain; charset=utf-8'

/**
 * The header list of one kind of answer, for `res.writeHead(status, list)`: the extra headers, then
 * content-type, then content-length (its value, the last slot, is written per answer; writeHead
 * reads the list at once and keeps nothing of it).
 */
function headList(extra: readonly string[], type: string): (string | number)[] {
  return [...extra, 'content-type', type, 'content-length', 0]
}

export class HttpApi {
  readonly limits: Limits
  readonly metrics: Metrics
  private readonly ctx: Ctx
  private readonly logger: HandlerLogger | undefined
  private readonly helpText: string
  /** The extra headers as [name, value, …]. */
  private readonly tracing: boolean
  private readonly extra: readonly string[]
  private readonly jsonHead: (string | number)[]
  private readonly rawHead: (string | number)[]
  private readonly gate: WriteGate | undefined

  constructor(readonly cache: ScopeCache, opts: HandlerOptions = {}) {
    this.limits = resolveLimits(cache, opts.limits)
    this.metrics = new Metrics(cache, opts.metricsBuffer)
    this.gate = opts.writes
    const cb = opts.coherenceBuffer
    if (cb !== undefined) registerCoherence(this.metrics.registry, () => readCoherence(cb))
    this.logger = opts.logger
    this.tracing = opts.tracing !== false
    this.ctx = { cache, limits: this.limits, tally: this.metrics, raw: false }
    this.extra = Object.entries(opts.headers ?? {}).flat()
    this.jsonHead = headList(this.extra, JSON_TYPE)
    this.rawHead = headList(this.extra, RAW_TYPE)
    const width = Math.max(...PATHS.map(([p]) => p.length))
    this.helpText = PATHS.map(([p, m, what]) => `${m.padEnd(4)} ${p.padEnd(width)}  ${what}`).join('\n') + '\n' + limitLines(this.limits) + '\n'
  }

  /** Answers one request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = originForm(req.url ?? '/')
    const q = url.indexOf('?')
    if (q < 0) this.serveAt(req, res, url, url, url.length)
    else this.serveAt(req, res, url.slice(0, q), url, q + 1)
  }

  /** Answers one request whose path (without prefix or query) and query string are known. */
  serve(req: IncomingMessage, res: ServerResponse, path: string, search: string): void {
    this.serveAt(req, res, path, search, 0)
  }

  /** The same with the query string `url[qs…]` (the query string is not sliced out of the target). */
  private serveAt(req: IncomingMessage, res: ServerResponse, path: string, url: string, qs: number): void {
    const t0 = performance.now()
    const ep = route(path)
    if (this.tracing) startRequestSpan(res, req.method ?? '', path, ep?.name, url, qs)
    try {
      if (ep === undefined) return this.fail(res, new HttpError('not_found', MSG.notFound), UNKNOWN_INDEX, t0, false)
      if (req.method !== ep.method) {
        this.setExtra(res)
        res.setHeader('allow', ep.method)
        return this.fail(res, new HttpError('method_not_allowed', MSG.methodNotAllowed), ep.index, t0, false)
      }
      if (ep === HELP) return this.send(res, 200, TEXT_TYPE, this.helpText, ep.index, t0)
      if (ep === METRICS) return this.sendMetrics(res, t0)
      if (ep.body === 'none') return this.answer(res, ep, path, url, qs, null, t0)
      const cap = this.cap(ep.body)
      // an ignored body (`/flush`) is dropped as it arrives; past its bound the answer leaves at once
      const ignored = ep.body === 'ignored'
      if (awaitsContinue(res) && !(Number(req.headers['content-length']) > cap)) res.writeContinue()
      readBody(
        req,
        cap,
        (bytes) => {
          try {
            this.answer(res, ep, path, url, qs, ignored ? null : parseBody(bytes), t0)
          } catch (e) {
            this.fail(res, e, ep.index, t0, true)
          }
        },
        (e) => {
          this.setExtra(res)
          res.setHeader('connection', 'close')
          lingerAfterAnswer(req, this.limits.lingerMs, this.limits.lingerBytes) // the rest of the body may still be arriving: no reset under the answer
          if (ignored) this.answer(res, ep, path, url, qs, null, t0)
          else this.fail(res, e, ep.index, t0, true)
        },
        !ignored,
      )
    } catch (e) {
      this.fail(res, e, ep?.index ?? UNKNOWN_INDEX, t0, ep?.method === 'POST')
    }
  }

  private cap(kind: BodyKind): number {
    const l = this.limits
    return kind === 'single' ? l.singleBodyBytes : kind === 'bulk' ? l.bulkBodyBytes : kind === 'get_many' ? l.getManyBodyBytes : l.flushBodyBytes
  }

  private answer(res: ServerResponse, ep: Endpoint, path: string, url: string, qs: number, body: ReturnType<typeof parseBody> | null, t0: number): void {
    let out: string | null
    if (body !== null && spanRecording(res)) spanScope(res, bodyScope(body))
    if (this.gate !== undefined && gated(ep.name)) {
      let pending: Promise<string>
      try {
        pending = runGated(ep.name, this.gate, this.ctx, path, url, qs, body)
      } catch (e) {
        return this.fail(res, e, ep.index, t0, true)
      }
      pending.then((o) => this.reply(res, 200, this.jsonHead, o, ep.index, t0), (e) => this.fail(res, e, ep.index, t0, true))
      return
    }
    try {
      out = ep.run(this.ctx, path, url, qs, body)
    } catch (e) {
      return this.fail(res, e, ep.index, t0, ep.method === 'POST')
    }
    if (out === null) this.reply(res, 404, this.rawHead, '', ep.index, t0)
    else this.reply(res, 200, ep.answers === 'payload' && this.ctx.raw ? this.rawHead : this.jsonHead, out, ep.index, t0)
  }

  /**
   * An endpoint's answer (never to a HEAD: no endpoint takes one): status, headers and body in one
   * writeHead + end, the header list precomputed.
   */
  private reply(res: ServerResponse, status: number, head: (string | number)[], body: string, index: number, t0: number): void {
    if (res.headersSent || res.writableEnded) return
    // counted before the answer leaves, so a scrape that follows an answer (on any thread) includes it
    this.metrics.observe(index, performance.now() - t0)
    endRequestSpan(res, status, status === 200 ? 'ok' : 'miss')
    head[head.length - 1] = body.length === 0 ? 0 : Buffer.byteLength(body)
    res.writeHead(status, head)
    res.end(body)
  }

  /** Any other answer (errors, /help, /metrics): Node frames it (and drops the body of a HEAD). */
  private send(res: ServerResponse, status: number, type: string, body: string, index: number, t0: number, code?: string): void {
    if (res.headersSent || res.writableEnded) return
    this.metrics.observe(index, performance.now() - t0)
    endRequestSpan(res, status, code ?? 'ok')
    this.setExtra(res)
    if (code !== undefined) res.setHeader('x-scopecache-code', code)
    res.statusCode = status
    res.setHeader('content-type', type)
    res.end(body)
  }

  private setExtra(res: ServerResponse): void {
    const extra = this.extra
    if (extra.length === 0 || res.hasHeader(extra[0])) return
    for (let i = 0; i < extra.length; i += 2) res.setHeader(extra[i], extra[i + 1])
  }

  private fail(res: ServerResponse, e: unknown, index: number, t0: number, isWrite: boolean): void {
    const he = toHttpError(e)
    this.metrics.reject(he.code)
    if (he.status >= 500 && he.code !== 'scope_full' && he.code !== 'store_full' && he.code !== 'response_too_large') {
      this.logger?.error({ err: e, code: he.code }, 'scopecache request failed')
    } else if (isWrite) {
      this.logger?.debug({ code: he.code, status: he.status, error: he.message }, 'scopecache write rejected')
    }
    this.send(res, he.status, JSON_TYPE, he.body(), index, t0, he.code)
  }

  private sendMetrics(res: ServerResponse, t0: number): void {
    this.metrics.render().then(
      (text) => this.send(res, 200, this.metrics.contentType, text, METRICS.index, t0),
      (e) => this.fail(res, e, METRICS.index, t0, false),
    )
  }
}

/**
 * Whether the client sent `Expect: 100-continue` and waits for a `100 Continue` that nobody sent yet:
 * the handler runs as the server's 'checkContinue' listener (`server.on('checkContinue', handler)`).
 * It then invites only a body it will read: one declared over its cap gets the 413 straight away, any
 * other refusal (404, 405) its answer, and Node closes such a connection after the answer. Without
 * that listener Node sends `100 Continue` itself before the handler runs. (`_expect_continue` and
 * `_sent100` are node:http's own fields for this, unchanged since Node 0.x.)
 */
function awaitsContinue(res: ServerResponse): boolean {
  const r = res as ServerResponse & { _expect_continue?: boolean; _sent100?: boolean }
  return r._expect_continue === true && r._sent100 !== true
}

/** A body's `scope`, for its trace span only (a malformed one is the endpoint's to refuse). */
function bodyScope(body: JsonObject): string | undefined {
  try {
    return getString(body, 'scope')
  } catch {
    return undefined
  }
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

/**
 * The path-and-query of a request target. An absolute-form target (`GET http://host/get?… HTTP/1.1`,
 * what a client talking to a proxy sends; every HTTP/1.1 server must accept it) is served like its
 * origin form, as Go's server does; Node hands it over unchanged in `req.url`.
 */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 0x2f) return url
  const m = ABSOLUTE_FORM.exec(url)
  if (m === null) return url
  const rest = url.slice(m[0].length)
  return rest.charCodeAt(0) === 0x2f ? rest : '/' + rest
}

/**
 * The HTTP API over `cache` as a node:http request listener: `http.createServer(createHandler(cache))`.
 * Register it as the 'checkContinue' listener too (`server.on('checkContinue', handler)`) so that a
 * request with `Expect: 100-continue` and a body over its cap gets its 413 without `100 Continue`.
 */
export function createHandler(cache: ScopeCache, opts?: HandlerOptions): Handler {
  checkHttpOptions(opts, 'createHandler')
  checkHttpOptions(opts?.limits, 'limits')
  const api = new HttpApi(cache, opts)
  return (req, res) => api.handle(req, res)
}

/** A raw error answer: [with its JSON body, head only (for a HEAD request)]. */
const rawAnswer = (status: string, message: string): [Buffer, Buffer] => {
  const body = '{"ok":false,"error":' + JSON.stringify(message) + '}\n'
  const head = `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  return [Buffer.from(head + body), Buffer.from(head)]
}
const BAD_REQUEST = rawAnswer('400 Bad Request', 'the request could not be parsed as HTTP')
const TIMEOUT = rawAnswer('408 Request Timeout', 'the request took too long to arrive')
const HEADERS_TOO_LARGE = rawAnswer('431 Request Header Fields Too Large', 'the request headers are too large')

const HEAD_LINE = Buffer.from('HEAD ')
const END_OF_HEADERS = Buffer.from('\r\n\r\n')

/**
 * Whether the request the parser refused is known to be a HEAD: its start (after the last complete
 * header block before the failure, in the bytes of the failing read) is `HEAD `. When that read began
 * mid-request the method is unknown, and the answer keeps its body.
 */
function failedHead(err: Error & { rawPacket?: unknown; bytesParsed?: unknown }): boolean {
  const raw = err.rawPacket
  if (!Buffer.isBuffer(raw)) return false
  const at = typeof err.bytesParsed === 'number' ? Math.min(err.bytesParsed, raw.length) : raw.length
  const prev = at < 4 ? -1 : raw.lastIndexOf(END_OF_HEADERS, at - 4)
  let i = prev < 0 ? 0 : prev + 4
  while (raw[i] === 0x0d || raw[i] === 0x0a) i++ // blank lines before a request line are allowed
  return raw.compare(HEAD_LINE, 0, HEAD_LINE.length, i, i + HEAD_LINE.length) === 0
}

/**
 * A `clientError` listener for the server: a request Node's parser refuses (bad request line or
 * headers, a timeout) gets a JSON error instead of Node's bare one (status and headers only when
 * the refused request is known to be a HEAD); a connection the client already
 * closed, or bytes after a `Connection: close` request, are left alone. When the garbage follows a
 * request that is still being answered (a body
 * longer than its Content-Length), that request keeps its own answer and the connection closes
 * after it: a raw 400 there would hide the outcome of a write that did happen. A request whose
 * body can no longer arrive is dropped unanswered.
 * `server.on('clientError', clientErrorHandler)`.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // Bytes after a `Connection: close` request: that request is still being answered and Node closes
  // the socket after it; destroying it here would drop the answer to a write that did happen.
  if (err.code === 'HPE_CLOSED_CONNECTION') return
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight && !inFlight.writableEnded) {
    if (!inFlight.req.complete) {
      // its body can no longer arrive (the client half-closed mid-body): no answer, nothing written
      socket.destroy()
      return
    }
    inFlight.shouldKeepAlive = false
    inFlight.once('close', () => socket.destroy())
    return
  }
  const answer = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? TIMEOUT : err.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : BAD_REQUEST
  socket.end(answer[failedHead(err) ? 1 : 0]) // a HEAD answer has no body, even an error
}
