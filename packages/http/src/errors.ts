/**
 * Every error answer of the HTTP API: a status, a stable code (the core's codes plus the HTTP
 * layer's own), the message and, for the 507 variants, extra JSON fields. The status of each core
 * code is this package's (`HTTP_STATUS`): the store knows no HTTP. Core errors are
 * recognised by their `code` (duck-typed: the core may be loaded twice, from src and dist, and
 * `instanceof` would then lie) and their messages pass through unchanged, except where the
 * reference's wording differs: the handler checks those rules itself before calling the core.
 */
import { MESSAGES, type ErrorCode, type ErrorDetails } from '@scopecache/core'
import { errorJson, mb, quote } from './wire.js'

export type HttpErrorCode =
  | 'invalid_input' | 'too_large' | 'conflict' | 'scope_full' | 'store_full' | 'response_too_large'
  | 'too_many_threads' | 'lock_timeout' | 'closed' | 'unavailable'
  | 'body_too_large' | 'method_not_allowed' | 'not_found' | 'internal'

/** Rejection codes in a fixed order (metrics index them). */
export const ERROR_CODES: readonly HttpErrorCode[] = [
  'invalid_input', 'too_large', 'conflict', 'scope_full', 'store_full', 'response_too_large',
  'too_many_threads', 'lock_timeout', 'closed', 'unavailable', 'body_too_large', 'method_not_allowed', 'not_found', 'internal',
]

/** The HTTP status of each error code of the store (`ScopeCacheError.code`). */
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

const STATUS: Readonly<Record<HttpErrorCode, number>> = {
  ...HTTP_STATUS,
  body_too_large: 413,
  method_not_allowed: 405,
  not_found: 404,
  internal: 500,
}

// Messages the HTTP layer produces itself (the reference's exact strings where it has one).
export const MSG = {
  invalidJson: 'the request body must contain valid JSON',
  oneValue: 'the request body must contain exactly one JSON value',
  badUtf8Body: 'the request body must be valid UTF-8',
  bodyTooLarge: (cap: number) => `the request body exceeds the maximum allowed size of ${cap} bytes`,
  methodNotAllowed: 'the HTTP method is not allowed for this endpoint',
  notFound: 'the requested endpoint does not exist',
  responseTooLarge: 'the response would exceed the maximum allowed size',
  internal: 'internal error',
} as const

/** The prefix the reference puts on field-rule messages (the core's). */
export const INVALID = MESSAGES.invalidPrefix

export class HttpError extends Error {
  override readonly name = 'HttpError'
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    /** Extra JSON members after `error`, starting with a comma (507 bodies). */
    readonly extra = '',
  ) {
    super(message)
  }

  get status(): number {
    return STATUS[this.code]
  }

  /** The response body, with its trailing newline. */
  body(): string {
    return this.extra === '' ? errorJson(this.message) + '\n' : errorJson(this.message).slice(0, -1) + this.extra + '}\n'
  }
}

export const badRequest = (message: string): HttpError => new HttpError('invalid_input', message)
/** A field rule broken: the reference's prefixed message. */
export const badField = (reason: string): HttpError => new HttpError('invalid_input', INVALID + reason)
export const badJson = (): HttpError => new HttpError('invalid_input', MSG.invalidJson)

export const responseTooLarge = (bodyBytes: number, maxBytes: number): HttpError =>
  new HttpError('response_too_large', MSG.responseTooLarge, `,"approx_response_mb":${mb(bodyBytes + 30)},"max_response_mb":${mb(maxBytes)}`)

interface CoreErrorLike {
  code: string
  message: string
  details?: ErrorDetails
}

const isCoreError = (e: unknown): e is CoreErrorLike => {
  const code = (e as { code?: unknown } | null)?.code
  return e instanceof Error && e.name === 'ScopeCacheError' && typeof code === 'string' && code in STATUS
}

/**
 * The HTTP status a thrown value answers with: an HttpError's own, a store error's by its code
 * (a ScopeCacheError from any copy of the core, or one re-created from its wire form), else 500.
 */
export const httpStatusOf = (e: unknown): number => (e instanceof HttpError ? e.status : isCoreError(e) ? STATUS[e.code as HttpErrorCode] : 500)

/** Any thrown value as an HttpError; unknown errors become 500 `internal` (the caller logs them). */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e
  if (!isCoreError(e)) return new HttpError('internal', MSG.internal)
  const code = e.code as HttpErrorCode
  const d = e.details
  let extra = ''
  if (code === 'scope_full' && d?.scopes) {
    extra = ',"scopes":[' + d.scopes.map((s) => `{"scope":${quote(s.scope)},"count":${s.count},"cap":${s.cap}}`).join(',') + ']'
  } else if (code === 'store_full' && d?.maxStoreBytes !== undefined) {
    extra = `,"approx_store_mb":${mb(d.storeBytes ?? 0)},"added_mb":${mb(d.addedBytes ?? 0)},"max_store_mb":${mb(d.maxStoreBytes)}`
  } else if (code === 'conflict' && d?.version !== undefined) {
    extra = `,"version":${d.version}` // an if_version write: the scope's version now
  } else if (code === 'response_too_large' && d?.maxResponseBytes !== undefined) {
    extra = `,"approx_response_mb":${mb(d.responseBytes ?? 0)},"max_response_mb":${mb(d.maxResponseBytes)}`
  }
  return new HttpError(code, e.message, extra)
}
