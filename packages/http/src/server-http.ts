/**
 * The node:http server every listener (public threads and the private init socket) runs: Node's
 * defaults are tuned for a server behind a proxy that does the hardening, this one may face clients
 * directly (RELIABILITY.md §3.2/3.3). Slowloris is bounded by `headersTimeout` checked every second,
 * a stuck request by `requestTimeout`, idle keep-alive sockets by `keepAliveTimeout`, one greedy
 * client by `maxRequestsPerSocket` (which also lets the kernel re-spread long-lived connections over
 * reusePort threads), and fd exhaustion by `maxConnections`. The lenient parser is never enabled.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from './server-log.js'

export interface HttpLimits {
  /** Time to receive a request's headers. */
  headersTimeoutMs: number
  /** Time to receive a whole request (headers and body). */
  requestTimeoutMs: number
  /** Idle time before a keep-alive socket is closed. */
  keepAliveTimeoutMs: number
  /** How often Node checks the two request timeouts (Node's default, 30 s, makes them loose). */
  connectionsCheckingIntervalMs: number
  /** Requests served on one connection before it is closed (`Connection: close`). */
  maxRequestsPerSocket: number
  /** Open connections per server (per listener thread); more are refused at accept. */
  maxConnections: number
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  maxRequestsPerSocket: 10_000,
  maxConnections: 4_096,
}

/** Client errors that are the client's own hang-up: answering them would write into a closed pipe. */
const SILENT_CLIENT_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'HPE_CLOSED_CONNECTION'])

export function createHardenedServer(listener: http.RequestListener, limits: HttpLimits, log: Logger): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
      insecureHTTPParser: false,
    },
    listener,
  )
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket
  server.maxConnections = limits.maxConnections
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => onClientError(err, socket, log))
  return server
}

function onClientError(err: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  const code = err.code ?? 'unknown'
  // HPE_CLOSED_CONNECTION: bytes after a `Connection: close` request. That request is still being
  // answered and the socket closes after it; a 400 here would tell the client its write failed.
  if (code === 'HPE_CLOSED_CONNECTION') return
  if (SILENT_CLIENT_ERRORS.has(code) || !socket.writable || headersAlreadySent(socket)) {
    socket.destroy()
    return
  }
  const [status, reason, message] =
    code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
    : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request took too long to arrive']
    : [400, 'Bad Request', 'malformed HTTP request']
  log.debug({ code, status }, 'client error')
  const body = JSON.stringify({ ok: false, error: message }) + '\n'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  )
}

/** True when a response on this socket has started: a status line can no longer be written. */
function headersAlreadySent(socket: Socket): boolean {
  const res = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  return res?.headersSent === true
}

/**
 * Stops accepting, lets in-flight requests finish within `graceMs`, then cuts what is left. Idle
 * keep-alive sockets are closed at once and again every 100 ms (a socket that finishes its request
 * during the grace period turns idle and would otherwise wait out its keepAliveTimeout).
 */
export function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections()
      resolve()
      return
    }
    const sweep = setInterval(() => server.closeIdleConnections(), 100)
    const cut = setTimeout(() => server.closeAllConnections(), graceMs)
    server.close(() => {
      clearInterval(sweep)
      clearTimeout(cut)
      resolve()
    })
    server.closeIdleConnections()
  })
}
