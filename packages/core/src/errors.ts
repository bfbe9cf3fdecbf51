/**
 * Every error the store throws is a ScopeCacheError with a stable `code`.
 * Match on `code`, never on the message or the class: the code survives a
 * trip across threads (see `toWire`/`fromWire`), the class does not.
 */

export type ErrorCode =
  /** Malformed call or input that breaks a validation rule. HTTP 400. */
  | 'invalid_input'
  /** One item over `maxItemBytes`. HTTP 400. */
  | 'too_large'
  /** Duplicate id on append, or a counter over a non-integer payload. HTTP 409. */
  | 'conflict'
  /** The scope is at `scopeMaxItems`. HTTP 507. */
  | 'scope_full'
  /** The write would take the store over `maxStoreBytes` (or its scope table is full). HTTP 507. */
  | 'store_full'
  /** A read page would exceed the response cap (`maxStoreBytes`). HTTP 507. */
  | 'response_too_large'
  /** Every thread slot of the store is taken: too many threads attached. HTTP 503. */
  | 'too_many_threads'
  /** A lock could not be taken within its bound (a live holder kept it too long). HTTP 503. */
  | 'lock_timeout'
  /** The handle was closed in this thread. HTTP 500. */
  | 'closed'
  /** A coherent node (@scopecache/redis) cannot publish a write: Redis unreachable or resyncing. HTTP 503. */
  | 'unavailable'

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_input: 400,
  too_large: 400,
  conflict: 409,
  scope_full: 507,
  store_full: 507,
  response_too_large: 507,
  too_many_threads: 503,
  lock_timeout: 503,
  closed: 500,
  unavailable: 503,
}

/** Extra facts for capacity errors, mirroring ScopeCache's 507 bodies. */
export interface ErrorDetails {
  /** scope_full: the offending scopes (bulk writes may name several). */
  scopes?: { scope: string; count: number; cap: number }[]
  /** store_full: bytes in use when checked, bytes the write tried to add, the cap. */
  storeBytes?: number
  addedBytes?: number
  maxStoreBytes?: number
  /** response_too_large */
  responseBytes?: number
  maxResponseBytes?: number
  /** lock_timeout: the thread holding the lock, and whether its slot still counts as alive. */
  holderThreadId?: number
  holderAlive?: boolean
  /** conflict on an `ifVersion` write: the scope's version now. */
  version?: number
}

export class ScopeCacheError extends Error {
  override readonly name = 'ScopeCacheError'
  readonly code: ErrorCode
  readonly details: ErrorDetails | undefined

  constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
    super(message)
    this.code = code
    this.details = details
  }

  get status(): number {
    return HTTP_STATUS[this.code]
  }

  /** A structured-clone-safe form; `fromWire` re-creates the typed error. */
  toWire(): WireError {
    return { __scopecacheError: true, code: this.code, message: this.message, details: this.details }
  }

  static fromWire(w: WireError): ScopeCacheError {
    return new ScopeCacheError(w.code, w.message, w.details)
  }

  static isWire(v: unknown): v is WireError {
    return typeof v === 'object' && v !== null && (v as WireError).__scopecacheError === true
  }
}

export interface WireError {
  __scopecacheError: true
  code: ErrorCode
  message: string
  details: ErrorDetails | undefined
}

const INVALID = 'scopecache: invalid input: '

export const invalid = (reason: string): ScopeCacheError =>
  new ScopeCacheError('invalid_input', INVALID + reason)

export const tooLarge = (size: number, max: number): ScopeCacheError =>
  new ScopeCacheError(
    'too_large',
    `${INVALID}the item's approximate size (${size} bytes) exceeds the maximum of ${max} bytes`,
  )

export const duplicateId = (): ScopeCacheError =>
  new ScopeCacheError('conflict', "an item with this 'id' already exists in the scope")

export const scopeFull = (offenders: { scope: string; count: number; cap: number }[]): ScopeCacheError =>
  new ScopeCacheError(
    'scope_full',
    offenders.length > 1 ? 'multiple scopes are at capacity' : 'scope is at capacity',
    { scopes: offenders },
  )

export const storeFull = (storeBytes: number, addedBytes: number, maxStoreBytes: number): ScopeCacheError =>
  new ScopeCacheError('store_full', 'store is at byte capacity', { storeBytes, addedBytes, maxStoreBytes })
