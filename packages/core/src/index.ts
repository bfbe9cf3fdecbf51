export { ScopeCache } from './cache.js'
export { HTTP_STATUS, ScopeCacheError } from './errors.js'
export type { ErrorCode, ErrorDetails, WireError } from './errors.js'
export { RawJson, rawJson } from './payload.js'
export { itemBytes, SCOPE_RECORD_BYTES } from './layout.js'
export { keyProblem, MAX_KEY_BYTES, type KeyField } from './validate.js'
export type { LeaseGrant } from './leases.js'
export type { GetOrLoadOptions } from './read-through.js'
export type {
  GetTarget, Item, ItemMeta, ItemRef, Page, ReapReport, ScopeCacheHandle, ScopeCacheOptions, ScopeInfo, StoreStats, WarmItem,
} from './types.js'
