/**
 * The limits the HTTP layer enforces, derived from the store's own caps as the reference derives
 * them (ScopeCache v0.8.32's, listed in packages/http/README.md): request-body caps per endpoint kind and the response cap.
 * The caps are read from the ScopeCache instance; `overrides` replaces any of them (a server
 * that fronts a store created elsewhere, or a test that wants tiny caps).
 */
import { LIMITS, type ScopeCache } from '@scopecache/core'

const MIB = 1024 * 1024

export interface Limits {
  maxStoreBytes: number
  scopeMaxItems: number
  maxItemBytes: number
  /** Body cap of the single-item endpoints: maxItemBytes + 4096. */
  singleBodyBytes: number
  /** Body cap of /warm and /rebuild: maxStoreBytes × 1.1 + 16 MiB. */
  bulkBodyBytes: number
  /** Body cap of /get_many: 1 MiB. */
  getManyBodyBytes: number
  /**
   * /flush ignores its body: up to this many bytes (256 KiB, what Go's server drains after a handler)
   * are read and dropped before the answer; past it the answer leaves at once and the rest is drained
   * (lingerMs, lingerBytes) before the connection closes.
   */
  flushBodyBytes: number
  /** Largest /head, /tail, /scopelist, /get_many answer: maxStoreBytes. */
  responseBytes: number
  /** After a body refused by its size (413), how long the rest is read and discarded before the close: 5 s. */
  lingerMs: number
  /** …and how many more bytes at most: 64 MiB. */
  lingerBytes: number
}

export function resolveLimits(cache: ScopeCache, overrides: Partial<Limits> = {}): Limits {
  const maxStoreBytes = overrides.maxStoreBytes ?? cache.maxStoreBytes
  const maxItemBytes = overrides.maxItemBytes ?? cache.maxItemBytes
  return {
    maxStoreBytes,
    scopeMaxItems: overrides.scopeMaxItems ?? cache.scopeMaxItems,
    maxItemBytes,
    singleBodyBytes: overrides.singleBodyBytes ?? maxItemBytes + 4096,
    bulkBodyBytes: overrides.bulkBodyBytes ?? Math.floor(maxStoreBytes * 1.1) + 16 * MIB,
    getManyBodyBytes: overrides.getManyBodyBytes ?? MIB,
    flushBodyBytes: overrides.flushBodyBytes ?? 256 * 1024,
    responseBytes: overrides.responseBytes ?? maxStoreBytes,
    lingerMs: overrides.lingerMs ?? 5_000,
    lingerBytes: overrides.lingerBytes ?? 64 * MIB,
  }
}

/** `name: value` lines for /help, in a fixed order. */
export const limitLines = (l: Limits): string =>
  [
    `max_store_bytes: ${l.maxStoreBytes}`,
    `scope_max_items: ${l.scopeMaxItems}`,
    `max_item_bytes: ${l.maxItemBytes}`,
    `max_key_bytes: ${LIMITS.maxKeyBytes}`,
    `default_limit: ${LIMITS.defaultLimit}`,
    `max_limit: ${LIMITS.maxLimit}`,
    `max_get_many_targets: ${LIMITS.maxGetManyTargets}`,
    `max_body_bytes_single: ${l.singleBodyBytes}`,
    `max_body_bytes_bulk: ${l.bulkBodyBytes}`,
    `max_body_bytes_get_many: ${l.getManyBodyBytes}`,
    `flush_body_read_bytes: ${l.flushBodyBytes}`,
    `max_response_bytes: ${l.responseBytes}`,
    `max_json_depth: ${LIMITS.maxJsonDepth}`,
  ].join('\n')
