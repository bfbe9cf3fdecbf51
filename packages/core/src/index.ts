export { ScopeCache } from './cache.js'
export { ScopeView } from './scope-view.js'
export { OPTION_KEYS } from './args.js'
export { ScopeCacheError } from './errors.js'
export { LIMITS, MESSAGES } from './limits.js'
export type { ErrorCode, ErrorDetails, WireError } from './errors.js'
export { RawJson, rawJson } from './payload.js'
export { itemBytes, MAX_TTL_MS, SCOPE_RECORD_BYTES } from './layout.js'
export { keyProblem, MAX_KEY_BYTES, type KeyField } from './validate.js'
export type { LeaseGrant } from './leases.js'
export type { GetOrLoadOptions } from './read-through.js'
export type {
  AppendOptions, FenceOptions, GetTarget, WriteOptions, HeadOptions, Item, ItemMeta, ItemRef, JsonChecked, JsonPayload, JsonPrimitive, JsonValue, Page, PayloadInput,
  PayloadOf, RawReadOptions, ReadOptions, ReapReport, ScopeCacheHandle, ScopeCacheOptions, ScopeInfo, ScopeLimitOptions, ScopeListOptions, StoreStats,
  TailOptions, TrimOptions, WarmItem,
} from './types.js'
