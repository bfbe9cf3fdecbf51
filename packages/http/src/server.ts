/**
 * `startServer`: the multi-threaded ScopeCache HTTP server. The main thread owns the store and
 * supervises; N listener threads each attach to it and run their own node:http server on one port
 * (SO_REUSEPORT, Node ≥ 22.12), so every thread answers reads straight from shared memory and no
 * request crosses a thread boundary. Where Node lacks reusePort (Node 20) it serves from ONE
 * listener thread rather than use the deprecated fd-sharing trick (`process.binding('tcp_wrap')`),
 * and says so in the log. A Unix socket is always one listener thread (no SO_REUSEPORT for
 * AF_UNIX). A listener thread that dies is reaped (`cache.watch`) and restarted, rate-limited.
 */
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { runInitCommand, type InitOutcome } from './init-command.js'
import { clearStaleSocket, formatAddress, isLoopbackHost, ListenError, removeSocketFile, reusePortSupported } from './listen.js'
import { createMetricsBuffer, createRequestListener } from './server-handler.js'
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './server-http.js'
import { optionsProblem } from './options.js'
import { createLogger, isLogLevel, type Logger, type LogLevel } from './server-log.js'
import type { ListenTarget } from './server-protocol.js'
import { ListenerSupervisor } from './server-supervisor.js'
import { createCoherenceBuffer } from './coherence-metrics.js'
import { startCoherentNode, type CoherentServerOptions } from './coherent-node.js'

export { DEFAULT_HTTP_LIMITS, type HttpLimits } from './server-http.js'
export { isLoopbackHost, reusePortSupported } from './listen.js'
export { LOG_LEVELS, isLogLevel, createLogger, type Logger, type LogLevel } from './server-log.js'
export type { InitOutcome } from './init-command.js'

export interface ServerOptions {
  /**
   * Serve this existing store (created in this thread) instead of creating one. The server does
   * not close it: `close()` leaves it open for its owner. The store options below must then be unset.
   */
  cache?: ScopeCache
  /** TCP port; 0 picks a free one. Default 8080. Ignored with `socket`. */
  port?: number
  /** Default 127.0.0.1. A non-loopback host needs `allowRemote: true`. */
  host?: string
  allowRemote?: boolean
  /** Listen on this Unix socket (mode 0660) instead of TCP. */
  socket?: string
  /** Listener threads wanted; 'auto' = one per core where reusePort works, else 1. Default 1. */
  threads?: number | 'auto'
  /**
   * Serve the store of this name in shared memory (`ScopeCache.open`, needs @scopecache/shm),
   * created or attached: several server processes (or a node:cluster app) share it, and it outlives
   * them. The port is bound with reusePort (Node ≥ 22.12), so several such servers can share it too.
   * The store options below are used when this server creates the store. Not with `cache`.
   */
  shm?: string
  /** Store options (see @scopecache/core), for the store the server creates (not with `cache`). */
  scopeMaxItems?: number
  maxStoreBytes?: number
  maxItemBytes?: number
  /** A full store: 'reject' (default, 507 store_full) or 'evict' (whole scopes, least recently used first). */
  whenFull?: 'reject' | 'evict'
  /** Executable run against a private socket before the public listener opens. */
  initCommand?: string
  /** Kill the init command after this long; 0 = no limit. Default 60 000. */
  initTimeoutMs?: number
  /** Per-listener-thread HTTP limits; unset fields keep DEFAULT_HTTP_LIMITS. */
  limits?: Partial<HttpLimits>
  /** Time in-flight requests get at shutdown before their connections are cut. Default 5 000. */
  shutdownGraceMs?: number
  logLevel?: LogLevel
  /** Main-thread logger; default a pino logger at `logLevel` on stdout. Threads log with their own. */
  logger?: Logger
  /** Aborting it during boot (a signal) kills the init command and makes startServer reject. */
  signal?: AbortSignal
  /** Called when no listener thread is left and none can be restarted. */
  onFatal?: (err: Error) => void
  /** The listener-thread module; default ./server-worker.js next to this file (bundlers: see the cli). */
  workerUrl?: URL
  /** Make the server a node of a coherent group (@scopecache/redis): its writes go through Redis, its store is kept coherent. */
  redis?: CoherentServerOptions
}

export interface RunningServer {
  /** Where it listens: `http://127.0.0.1:8080` or `unix:/path`. */
  readonly address: string
  readonly port: number | undefined
  /** Listener threads serving now. */
  readonly threads: number
  readonly init: InitOutcome | undefined
  /** The store served: `options.cache`, or the one the server created (and closes on `close()`). */
  readonly cache: ScopeCache
  /** Graceful stop: stop accepting, drain within the grace period, end the threads, remove the socket file,
   * close the store if the server created it. */
  close(): Promise<void>
  /** @internal for tests: the live listener threads. */
  readonly workers: readonly Worker[]
}

/**
 * Why `startServer` failed. The listen errors keep their errno name for the common cases;
 * any other listen failure is `listen_failed` (its errno in `errno`).
 */
export type ServerStartErrorCode =
  /** An option is invalid, unknown, or conflicts with another (`cache` with store options, say). */
  | 'invalid_option'
  /** A non-loopback `host` without `allowRemote: true`. */
  | 'remote_refused'
  /** `signal` was aborted during boot. */
  | 'aborted'
  /** The address (or the socket path) is in use by another server. */
  | 'EADDRINUSE'
  /** No permission to listen there (a port < 1024, a socket directory). */
  | 'EACCES'
  /** The host is not an address of this machine. */
  | 'EADDRNOTAVAIL'
  /** The socket path exists and is not a socket. */
  | 'EEXIST'
  /** Any other listen failure. */
  | 'listen_failed'

const LISTEN_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'EEXIST'])

export class ServerStartError extends Error {
  override readonly name = 'ServerStartError'
  readonly code: ServerStartErrorCode
  /** The system error code behind a listen failure (`ENOENT`, …), when there was one. */
  readonly errno: string | undefined
  constructor(code: ServerStartErrorCode | string, message: string) {
    super(message)
    const known = code === 'invalid_option' || code === 'remote_refused' || code === 'aborted' || code === 'listen_failed' || LISTEN_CODES.has(code)
    this.code = known ? (code as ServerStartErrorCode) : 'listen_failed'
    this.errno = known ? (LISTEN_CODES.has(code) ? code : undefined) : code
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const problem = optionsProblem(options, 'startServer') ?? optionsProblem(options.limits, 'startServer limits') ?? optionsProblem(options.redis, 'startServer redis')
  if (problem !== null) throw new ServerStartError('invalid_option', problem)
  const given = options.cache
  if (given !== undefined && (options.scopeMaxItems !== undefined || options.maxStoreBytes !== undefined || options.maxItemBytes !== undefined || options.whenFull !== undefined)) {
    throw new ServerStartError('invalid_option', 'give either `cache` or the store options (scopeMaxItems, maxStoreBytes, maxItemBytes, whenFull), not both')
  }
  if (options.whenFull !== undefined && options.whenFull !== 'reject' && options.whenFull !== 'evict') {
    throw new ServerStartError('invalid_option', `whenFull must be 'reject' or 'evict', got ${String(options.whenFull)}`)
  }
  if (given !== undefined && options.shm !== undefined) throw new ServerStartError('invalid_option', 'give either `cache` or `shm`, not both')
  const logLevel = options.logLevel ?? 'info'
  if (!isLogLevel(logLevel)) throw new ServerStartError('invalid_option', `unknown log level ${String(logLevel)}`)
  const log = options.logger ?? createLogger(logLevel)
  const host = options.host ?? '127.0.0.1'
  const wanted: number =
    options.threads !== 'auto' ? (options.threads ?? 1) : options.socket === undefined && reusePortSupported() ? Math.min(availableParallelism(), 128) : 1
  if (!Number.isInteger(wanted) || wanted < 1) throw new ServerStartError('invalid_option', `threads must be an integer ≥ 1, got ${wanted}`)
  if (options.socket === undefined && !isLoopbackHost(host) && options.allowRemote !== true) {
    throw new ServerStartError('remote_refused', `refusing to listen on non-loopback host ${host} without allowRemote`)
  }
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits }
  const graceMs = options.shutdownGraceMs ?? 5_000
  const workerUrl = options.workerUrl ?? new URL('./server-worker.js', import.meta.url)

  // Before the init command runs: a socket path that cannot be used fails the boot at once.
  if (options.socket !== undefined) {
    await clearStaleSocket(options.socket).catch((err: ListenError) => {
      throw new ServerStartError(err.code ?? 'listen_failed', err.message)
    })
  }

  // Every listener thread attaches to the store: it needs that many free thread slots.
  const slots = given?.threadSlots()
  if (slots !== undefined && slots.free < (wanted > 1 && options.socket === undefined && reusePortSupported() ? wanted : 1)) {
    throw new ServerStartError('invalid_option', `${wanted} listener thread(s) need as many free thread slots; the store has ${slots.free} (of maxThreadSlots ${slots.total})`)
  }
  const storeOptions = { scopeMaxItems: options.scopeMaxItems, maxStoreBytes: options.maxStoreBytes, maxItemBytes: options.maxItemBytes, whenFull: options.whenFull }
  const cache = given ?? (options.shm === undefined ? ScopeCache.create(storeOptions) : openShared(options.shm, storeOptions))
  const release = (): void => {
    if (given === undefined) cache.close() // a store the caller gave stays the caller's
  }
  const metricsBuffer = createMetricsBuffer()

  // A coherent node: one per process, here in the main thread; listener threads send it their writes.
  let coherent: Awaited<ReturnType<typeof startCoherentNode>> | undefined
  if (options.redis !== undefined) {
    try {
      coherent = await startCoherentNode(cache, options.redis, createCoherenceBuffer(), log)
    } catch (err) {
      release()
      throw new ServerStartError('invalid_option', `cannot join the coherent group: ${(err as Error).message}`)
    }
  }
  const releaseAll = async (): Promise<void> => {
    await coherent?.close()
    release()
  }

  let init: InitOutcome | undefined
  if (options.initCommand !== undefined && options.initCommand !== '') {
    init = await runInitCommand({
      command: options.initCommand,
      timeoutMs: options.initTimeoutMs ?? 60_000,
      listener: createRequestListener(cache, { threadIndex: 0, metricsBuffer, logger: log, writes: coherent?.gate, coherenceBuffer: coherent?.buffer }),
      limits,
      log,
      signal: options.signal,
    })
  }
  if (options.signal?.aborted) {
    await releaseAll()
    throw new ServerStartError('aborted', 'startup aborted')
  }

  // A shared store may be served by several processes on one port: bind it with reusePort.
  const reuse = options.socket === undefined && (wanted > 1 || options.shm !== undefined) && reusePortSupported()
  if (options.socket === undefined && wanted > 1 && !reuse) {
    log.warn({ node: process.versions.node, wanted }, `listen({ reusePort }) needs Node ≥ 22.12 on Linux/BSD: serving from 1 thread, not ${wanted}`)
  } else if (options.socket !== undefined && wanted > 1) {
    log.warn({ wanted }, `a Unix socket is served by 1 thread, not ${wanted}`)
  }

  const listeners = new ListenerSupervisor({ workerUrl, cache, metricsBuffer, limits, logLevel, log, onFatal: options.onFatal, coherent })
  const first: ListenTarget =
    options.socket !== undefined ? { kind: 'unix', path: options.socket, mode: 0o660 } : { kind: 'tcp', host, port: options.port ?? 8080, reusePort: reuse }
  let target: ListenTarget
  try {
    target = await listeners.start(first, reuse ? wanted : 1)
  } catch (err) {
    await releaseAll()
    const where = first.kind === 'unix' ? first.path : `${first.host}:${first.port}`
    throw new ServerStartError((err as ListenError).code ?? 'listen_failed', `cannot listen on ${where}: ${(err as Error).message}`)
  }
  const address = formatAddress(target.kind === 'unix' ? target : { kind: 'tcp', host, port: target.port })
  log.info({ address, threads: listeners.threads, reusePort: reuse, node: process.versions.node }, 'listening')

  let closing: Promise<void> | undefined
  return {
    address,
    port: target.kind === 'tcp' ? target.port : undefined,
    get threads() {
      return listeners.threads
    },
    init,
    cache,
    get workers() {
      return listeners.workers
    },
    close() {
      closing ??= (async () => {
        await listeners.stop(graceMs)
        if (target.kind === 'unix') removeSocketFile(target.path)
        await releaseAll()
        log.info({}, 'stopped')
      })()
      return closing
    },
  }
}

/** The shared-memory store of `startServer({ shm })`; a refusal (bad name, no @scopecache/shm, not a store) fails the boot. */
function openShared(name: string, o: { scopeMaxItems?: number | undefined; maxStoreBytes?: number | undefined; maxItemBytes?: number | undefined }): ScopeCache {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  try {
    return ScopeCache.open({ name, ...defined })
  } catch (e) {
    throw new ServerStartError('invalid_option', `shm store ${JSON.stringify(name)}: ${(e as Error).message}`)
  }
}
