/**
 * Errors of the pool layer, and the one place errors are turned into wire records and back.
 * Structured clone keeps only an error's message and stack (not its class, not `code`), so
 * every error that crosses a thread here goes through `encodeError`/`decodeError`: store
 * errors come back as `ScopeCacheError` with their `code` and `details`, pool errors as
 * `PoolError`, and any other error as an `Error` with its original `name`, `code` and stack.
 */
import { ScopeCacheError } from '@scopecache/core'
import type { WireAnyError } from './protocol.js'

export type PoolErrorCode =
  /** `workerCache()`/`ownerControl()` called outside a worker of a cache pool. */
  | 'not_in_pool'
  /** `warm`/`rebuild` asked of a pool created without a `source`. */
  | 'no_source'
  /** The pool is closing or closed: no new tasks or control calls. */
  | 'pool_closed'
  /** The worker running the task exited (killed, crashed, `process.exit`) before it answered. */
  | 'worker_exited'
  /** Bad options to `createCachePool` or a bad control call argument. */
  | 'invalid_input'

/** Every `PoolErrorCode` (a Record's keys, so the compiler keeps the list and the union in step). */
export const POOL_ERROR_CODES = Object.keys({
  not_in_pool: 1, no_source: 1, pool_closed: 1, worker_exited: 1, invalid_input: 1,
} satisfies Record<PoolErrorCode, 1>) as readonly PoolErrorCode[]

export class PoolError extends Error {
  override readonly name = 'PoolError'
  readonly code: PoolErrorCode

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function encodeError(err: unknown): WireAnyError {
  if (isScopeCacheError(err)) return { kind: 'scopecache', error: err.toWire() }
  if (err instanceof PoolError) return { kind: 'pool', code: err.code, message: err.message }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return {
      kind: 'error',
      name: err.name,
      message: err.message,
      code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
      stack: err.stack,
    }
  }
  return { kind: 'error', name: 'Error', message: `non-error thrown: ${describe(err)}`, code: undefined, stack: undefined }
}

export function decodeError(w: WireAnyError): Error {
  switch (w.kind) {
    case 'scopecache':
      return ScopeCacheError.fromWire(w.error)
    case 'pool':
      return new PoolError(w.code as PoolErrorCode, w.message)
    case 'error': {
      const Ctor = STANDARD[w.name] ?? Error
      const e = new Ctor(w.message)
      if (e.name !== w.name) Object.defineProperty(e, 'name', { value: w.name, configurable: true, writable: true })
      if (w.code !== undefined) (e as Error & { code?: unknown }).code = w.code
      if (w.stack !== undefined) e.stack = w.stack
      return e
    }
  }
}

// By shape as well as class: a task module may load its own copy of @scopecache/core.
function isScopeCacheError(err: unknown): err is ScopeCacheError {
  return err instanceof ScopeCacheError ||
    (err instanceof Error && err.name === 'ScopeCacheError' && typeof (err as ScopeCacheError).toWire === 'function')
}

const STANDARD: Record<string, ErrorConstructor> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
}

function describe(v: unknown): string {
  try {
    return String(typeof v === 'object' ? JSON.stringify(v) : v).slice(0, 200)
  } catch {
    return typeof v
  }
}
