/**
 * OpenTelemetry spans for HTTP requests, through `@opentelemetry/api` only: a no-op unless the
 * application registers an SDK. The tracer is taken once (a ProxyTracer, so an SDK registered
 * later is still used). With no SDK, `startSpan` returns a non-recording span; the handler then
 * keeps nothing and sets nothing, so a request pays one `startSpan` call and one `isRecording()`.
 *
 * One span per request, kind SERVER, named `GET /get` (method and the endpoint's canonical path;
 * the method alone for an unknown path), a child of whatever context is active (fastify's, say):
 *   http.request.method, url.path, http.route, http.response.status_code
 *   scopecache.endpoint   canonical endpoint name (`get`, `append`, …; aliases map to it)
 *   scopecache.scope      the request's scope (query or body), when it has one
 *   scopecache.outcome    'ok', 'miss' (a raw /get miss), or the error code (X-Scopecache-Code)
 * 5xx answers also set the span status to ERROR (4xx are the client's: status left unset).
 */
import type { ServerResponse } from 'node:http'
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'

const tracer = trace.getTracer('@scopecache/http')

/** The recording span of a request in flight, on its response object. */
const SPAN = Symbol('scopecache.span')
type Traced = ServerResponse & { [SPAN]?: Span }

/** Starts the request's span; keeps it on `res` only if it records (an SDK is registered). */
export function startRequestSpan(res: ServerResponse, method: string, path: string, route: string | undefined, url: string, qs: number): void {
  const span = tracer.startSpan(route === undefined ? method : `${method} ${route}`, { kind: SpanKind.SERVER })
  if (!span.isRecording()) return
  span.setAttribute('http.request.method', method)
  span.setAttribute('url.path', path)
  if (route !== undefined) {
    span.setAttribute('http.route', route)
    span.setAttribute('scopecache.endpoint', route.slice(1))
  }
  if (qs < url.length) {
    const scope = new URLSearchParams(url.slice(qs)).get('scope')
    if (scope !== null && scope !== '') span.setAttribute('scopecache.scope', scope)
  }
  ;(res as Traced)[SPAN] = span
}

/** The scope of a request whose body names one (writes). */
export function spanScope(res: ServerResponse, scope: unknown): void {
  const span = (res as Traced)[SPAN]
  if (span !== undefined && typeof scope === 'string' && scope !== '') span.setAttribute('scopecache.scope', scope)
}

/** Whether the request's span records (so the caller may skip work for it). */
export const spanRecording = (res: ServerResponse): boolean => (res as Traced)[SPAN] !== undefined

export function endRequestSpan(res: ServerResponse, status: number, outcome: string): void {
  const span = (res as Traced)[SPAN]
  if (span === undefined) return
  ;(res as Traced)[SPAN] = undefined
  span.setAttribute('http.response.status_code', status)
  span.setAttribute('scopecache.outcome', outcome)
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome })
  span.end()
}
