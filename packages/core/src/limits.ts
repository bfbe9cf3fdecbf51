/**
 * The store's fixed limits and the wording of the rules every layer enforces, in one table (as
 * piscina keeps every error message in one table of functions). The HTTP layer checks some of these
 * rules itself — on query strings, on bytes before a payload reaches the store — and answers with
 * these same numbers and words; change one here and every layer follows. This module imports
 * nothing, so any module of any package may import it.
 *
 * Messages are the reason only; the core's `invalid()` and the HTTP layer's `badField()` put the
 * `scopecache: invalid input: ` prefix (`MESSAGES.invalidPrefix`) in front where the rule calls for it.
 */

export const LIMITS = {
  /** A read page's `limit` when none is given (head, tail, scopeList; `/head`, `/tail`, `/scopelist`). */
  defaultLimit: 1000,
  /** The largest page: a bigger `limit` is clamped to it. */
  maxLimit: 10_000,
  /** Targets of one `getMany` / `/get_many`. */
  maxGetManyTargets: 1000,
  /** A scope, id, prefix or lock name: UTF-8 bytes. */
  maxKeyBytes: 256,
  /** Nesting of a payload's JSON (arrays and objects); the HTTP body parser allows the same. */
  maxJsonDepth: 10_000,
  /** A TTL (`ttlMs`, `ttl_ms`): ten years. */
  maxTtlMs: 10 * 365 * 24 * 3600 * 1000,
  /** A lease or lock wait (`leaseMs`, `waitMs`, `lease_ms`): a day. */
  maxLeaseMs: 86_400_000,
} as const

type Field = string

const INVALID = 'scopecache: invalid input: '
const badUtf8 = (field: Field): string => `the '${field}' field must be valid UTF-8`

export const MESSAGES = {
  invalidPrefix: INVALID,
  scopeRequired: "the 'scope' field is required",
  oneOfIdOrSeq: "exactly one of 'id' or 'seq' must be provided",
  seqPositive: "the 'seq' parameter must be a positive integer",
  limitPositive: "the 'limit' parameter must be a positive integer",
  offsetNonNegative: "the 'offset' parameter must be a non-negative integer",
  afterSeqUnsigned: "the 'after_seq' parameter must be a valid unsigned integer",
  byNonZero: "the 'by' field must be a non-zero integer within ±(2^53−1)",
  tokenPositive: "the 'token' field must be a positive integer",
  payloadRequired: "the 'payload' field is required",
  payloadNotJson: "the 'payload' field must be a valid JSON value",
  payloadBadUtf8: badUtf8('payload'),
  itemTooLarge: (size: number, max: number): string => `the item's approximate size (${size} bytes) exceeds the maximum of ${max} bytes`,
  duplicateId: "an item with this 'id' already exists in the scope",
  scopeTableFull: (maxScopes: number): string => `store is at capacity: ${maxScopes} scopes`,
  payloadTooDeep: `the 'payload' field exceeds the maximum nesting depth of ${LIMITS.maxJsonDepth}`,
  /** The key rules (scope, id, prefix, after, name), in the order they are checked. */
  keyTooLong: (field: Field): string => `the '${field}' field must not exceed ${LIMITS.maxKeyBytes} bytes`,
  keySpace: (field: Field): string => `the '${field}' field must not have leading or trailing whitespace`,
  keyControl: (field: Field): string => `the '${field}' field must not contain control characters`,
  badUtf8,
  ttlRange: (field: Field): string => `the '${field}' field must be an integer number of milliseconds from 1 to ${LIMITS.maxTtlMs}`,
  /**
   * A bulk item's broken rule as the reference words it: `scope 's', item at index k: scopecache:
   * invalid input: …`, k counted within the item's scope.
   */
  bulkItem: (scope: string, index: number, reason: string): string =>
    `scope '${scope}', item at index ${index}: ${INVALID}${reason}`,
} as const
