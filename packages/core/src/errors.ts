/**
 * Every error the store throws is a ScopeCacheError with a stable `code`.
 * Match on `code`, never on the message or the class: the code survives a
 * trip across threads (see `toWire`/`fromWire`), the class does not.
 * The store knows no HTTP: each code's HTTP status is @scopecache/http's
 * (`HTTP_STATUS`, `httpStatusOf`); the statuses noted below are that table's.
 */
import { MESSAGES } from './limits.js'

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

const INVALID = MESSAGES.invalidPrefix

export const invalid = (reason: string): ScopeCacheError =>
  new ScopeCacheError('invalid_input', INVALID + reason)

export const tooLarge = (size: number, max: number): ScopeCacheError =>
  new ScopeCacheError(
    'too_large',
    INVALID + MESSAGES.itemTooLarge(size, max),
  )

export const duplicateId = (): ScopeCacheError =>
  new ScopeCacheError('conflict', MESSAGES.duplicateId)

export const scopeFull = (offenders: { scope: string; count: number; cap: number }[]): ScopeCacheError =>
  new ScopeCacheError(
    'scope_full',
    offenders.length > 1 ? 'multiple scopes are at capacity' : 'scope is at capacity',
    { scopes: offenders },
  )

export const storeFull = (storeBytes: number, addedBytes: number, maxStoreBytes: number): ScopeCacheError =>
  new ScopeCacheError('store_full', 'store is at byte capacity', { storeBytes, addedBytes, maxStoreBytes })
