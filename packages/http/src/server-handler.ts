/**
 * The request listener every server thread runs: the package's `createHandler` over this thread's
 * attachment to the store, plus the `x-scopecache-thread` response header naming the listener
 * thread that answered (1..N; 0 is the private init socket served by the main thread), so a client
 * or a test can see how connections spread over threads. All threads count into one shared
 * metrics buffer, so /metrics is the same whichever thread answers it.
 */
import type { RequestListener } from 'node:http'
import type { ScopeCache } from '@scopecache/core'
import { createHandler } from './handler.js'
import type { Logger } from './server-log.js'
import type { WriteGate } from './coherent-writes.js'

export { createMetricsBuffer } from './metrics.js'

export function createRequestListener(
  cache: ScopeCache,
  opts: { threadIndex: number; metricsBuffer: SharedArrayBuffer; logger: Logger; writes?: WriteGate; coherenceBuffer?: SharedArrayBuffer },
): RequestListener {
  const coherent = opts.writes === undefined ? {} : { writes: opts.writes, coherenceBuffer: opts.coherenceBuffer }
  return createHandler(cache, { metricsBuffer: opts.metricsBuffer, logger: opts.logger, headers: { 'x-scopecache-thread': String(opts.threadIndex) }, ...coherent })
}
