/**
 * OpenTelemetry spans for pool tasks, through `@opentelemetry/api` only: with no SDK registered
 * (the default) the API hands out non-recording spans and nothing is exported. The tracer is
 * taken once (a ProxyTracer: an SDK registered later is still used), and attributes are set only
 * on a span that records, so a pool without an SDK pays one `startSpan` and one `end` per task.
 *
 * Span `scopecache.pool.task` (kind INTERNAL), in the thread that calls `pool.run`:
 *   scopecache.pool.task      the task module's export called
 *   scopecache.scope          `options.scope`, or the task's own `scope` field when it is a string
 *   scopecache.outcome        'ok', or the error's `code` ('worker_exited', 'conflict', …), or 'error'
 * A failed task also records the exception and sets the span's status to ERROR.
 */
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'

const tracer = trace.getTracer('@scopecache/pool')

export function startTaskSpan(name: string, task: unknown, scope: string | undefined): Span {
  const span = tracer.startSpan('scopecache.pool.task', { kind: SpanKind.INTERNAL })
  if (span.isRecording()) {
    span.setAttribute('scopecache.pool.task', name)
    const s = scope ?? (typeof task === 'object' && task !== null ? (task as { scope?: unknown }).scope : undefined)
    if (typeof s === 'string') span.setAttribute('scopecache.scope', s)
  }
  return span
}

export function endTaskSpan(span: Span, err: unknown, failed: boolean): void {
  if (span.isRecording()) {
    if (!failed) span.setAttribute('scopecache.outcome', 'ok')
    else {
      const code = (err as { code?: unknown } | null)?.code
      span.setAttribute('scopecache.outcome', typeof code === 'string' ? code : 'error')
      if (err instanceof Error) span.recordException(err)
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
    }
  }
  span.end()
}
