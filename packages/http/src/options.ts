/**
 * The keys each options object of this package's public API may hold, one row per call (the
 * core's rows are `OPTION_KEYS` in @scopecache/core). An unknown key — a typo — is refused with a
 * message naming it, instead of being silently ignored. Checked once per handler or server,
 * never per request.
 */
import { MESSAGES, ScopeCacheError } from '@scopecache/core'

export const HTTP_OPTION_KEYS = {
  createHandler: ['logger', 'metricsBuffer', 'limits', 'headers', 'tracing', 'writes', 'coherenceBuffer'],
  limits: [
    'maxStoreBytes', 'scopeMaxItems', 'maxItemBytes', 'singleBodyBytes', 'bulkBodyBytes', 'getManyBodyBytes', 'flushBodyBytes',
    'responseBytes', 'lingerMs', 'lingerBytes',
  ],
  startServer: [
    'cache', 'port', 'host', 'allowRemote', 'socket', 'threads', 'scopeMaxItems', 'maxStoreBytes', 'maxItemBytes', 'whenFull', 'initCommand',
    'initTimeoutMs', 'limits', 'shutdownGraceMs', 'logLevel', 'logger', 'signal', 'onFatal', 'workerUrl', 'shm', 'redis',
  ],
  'startServer redis': ['url', 'group', 'mode', 'maxStaleMs', 'shards'],
  'startServer limits': ['headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'connectionsCheckingIntervalMs', 'maxRequestsPerSocket', 'maxConnections'],
} as const satisfies Record<string, readonly string[]>

/** The problem with `opts` for `call` (not an object, or an unknown key), or null. */
export function optionsProblem(opts: unknown, call: keyof typeof HTTP_OPTION_KEYS): string | null {
  if (opts === undefined || opts === null) return null
  const allowed: readonly string[] = HTTP_OPTION_KEYS[call]
  if (typeof opts !== 'object' || Array.isArray(opts)) return `${call}'s options must be an object`
  for (const k in opts) if (!allowed.includes(k)) return `${call} has no option '${k}' (it takes ${allowed.join(', ')})`
  return null
}

/** Throws ScopeCacheError `invalid_input` for what `optionsProblem` finds. */
export function checkHttpOptions(opts: unknown, call: keyof typeof HTTP_OPTION_KEYS): void {
  const problem = optionsProblem(opts, call)
  if (problem !== null) throw new ScopeCacheError('invalid_input', MESSAGES.invalidPrefix + problem)
}
