/**
 * The node:http server every listener (public threads and the private init socket) runs: Node's
 * defaults are tuned for a server behind a proxy that does the hardening, this one may face clients
 * directly. Slowloris is bounded by `headersTimeout` checked every second,
 * a stuck request by `requestTimeout`, idle keep-alive sockets by `keepAliveTimeout`, one greedy
 * client by `maxRequestsPerSocket` (which also lets the kernel re-spread long-lived connections over
 * reusePort threads), and fd exhaustion by `maxConnections`. The lenient parser is never enabled.
 * The listener also answers 'checkContinue' (it invites only a body it will read: an over-cap
 * `Expect: 100-continue` request gets its 413 without `100 Continue`).
 * Requests the parser refuses are answered by the handler package's `clientErrorHandler` (JSON 400 /
 * 408 / 431; an in-flight request followed by garbage keeps its own answer, then the socket closes).
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { clientErrorHandler } from './handler.js'
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
  // `Expect: 100-continue`: the handler sends `100 Continue` only for a body it will read (413 otherwise)
  server.on('checkContinue', listener)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ code: err.code }, 'client error')
    clientErrorHandler(err, socket) // (test/cli-server-api.test.ts covers bytes after Connection: close)
  })
  return server
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
