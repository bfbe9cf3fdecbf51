/**
 * @scopecache/http: the ScopeCache-compatible HTTP API over a shared scopecache store. The fastify
 * plugin is `@scopecache/http/fastify` and the multi-threaded server `@scopecache/http/server`, so this
 * entry needs neither fastify nor the server's threads.
 */
export { clientErrorHandler, createHandler, HttpApi } from './handler.js'
export type { Handler, HandlerLogger, HandlerOptions } from './handler.js'
export { ENDPOINT_NAMES, PATHS } from './endpoints.js'
export { ERROR_CODES, HTTP_STATUS, HttpError, httpStatusOf } from './errors.js'
export type { HttpErrorCode } from './errors.js'
export { resolveLimits } from './limits.js'
export { HTTP_OPTION_KEYS } from './options.js'
export type { Limits } from './limits.js'
export { BUCKETS, createMetricsBuffer, Metrics } from './metrics.js'
