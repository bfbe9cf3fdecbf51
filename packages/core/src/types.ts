/** Public value types of the store. Names are camelCase; the HTTP layer maps them to snake_case. */
import type { RawJson } from './payload.js'

// ============================================================================ payload types ====

export type JsonPrimitive = string | number | boolean | null

/** Any JSON value, as a type: what a parsed payload is (never `null` at the top: see `JsonPayload`). */
export type JsonValue = JsonPrimitive | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined }

/** A JSON value that can be a payload: anything but `null` at the top level. */
export type JsonPayload = Exclude<JsonValue, null>

type NotJson = undefined | bigint | symbol | ((...args: never[]) => unknown)

/**
 * `T` checked, member by member, to survive `JSON.stringify` unchanged: bigints, symbols and
 * functions anywhere become `never` (so the call does not compile); an object with `toJSON` (a
 * `Date`) passes; `undefined` passes only as an optional member (JSON drops it). It exists so that
 * interfaces, which TypeScript does not let match `JsonValue`'s index signature, can be written too.
 */
export type JsonChecked<T> =
  [T] extends [JsonValue] ? T // (also ends the recursion when T is JsonValue itself)
  : T extends JsonPrimitive ? T
  : T extends NotJson ? never
  : T extends { toJSON(): unknown } ? T
  : T extends RawJson ? never
  : { [K in keyof T]: T[K] extends undefined ? T[K] : JsonChecked<T[K]> }

/** What a write takes as its payload, given the argument's type `T`: `T` if it is one, else `never`. */
export type PayloadOf<T> =
  [T] extends [JsonPayload] ? T
  : T extends RawJson ? T
  : T extends null | undefined ? never
  : JsonChecked<T>

/**
 * A write's payload parameter: a JSON value (not `null`), `rawJson(text)`, or a value of a type
 * (an interface, say) whose every member is JSON. `undefined`, functions, bigints, symbols, `Map`s
 * and class instances with methods do not compile. A value typed `unknown` needs a cast.
 */
export type PayloadInput<P> = JsonPayload | RawJson | (P & PayloadOf<P>)

// ================================================================================ options ====

export interface ScopeCacheOptions {
  /** Byte budget for everything the store keeps (items, indexes, scope records). Default 100 MiB. */
  maxStoreBytes?: number
  /** Items per scope. Default 100 000. */
  scopeMaxItems?: number
  /** Bytes per item (`itemBytes()` of the item). Default 1 MiB. */
  maxItemBytes?: number
  /** Scope table capacity. Default: enough for the byte budget (maxStoreBytes / 1 KiB), at least 64. */
  maxScopes?: number
  /** Thread slots: how many threads (handles) may be attached at once. Default 256. */
  maxThreadSlots?: number
  /** @deprecated the old name of `maxThreadSlots` (a pool's `maxThreads` is its pool size). */
  maxThreads?: number
  /**
   * How long a thread waits for a lock before giving up with `lock_timeout`, in ms. Default 1000.
   * Locks are held for microseconds; a longer wait means the holder died and has not been reaped
   * yet (see `watch`), or a bulk write of millions of items is committing.
   */
  lockLeaseMs?: number
  /** Named locks (`tryLock`/`lock`) that may be held at once. Default 1024. */
  maxLocks?: number
  /**
   * How often (ms) the creating handle reclaims expired items on an unref'd timer; 0: never (writes
   * and `sweepExpired()` still do). Default 1000.
   */
  expirySweepMs?: number
  /**
   * What a write does when the store is full (`maxStoreBytes` or `maxScopes`): `'reject'` (default)
   * throws `store_full`; `'evict'` evicts whole scopes, least recently read or written first
   * (CLOCK), never one a writer holds, and retries.
   */
  whenFull?: 'reject' | 'evict'
}

/** `setScopeLimit`'s options: at most `maxItems` items (≤ scopeMaxItems); `null` removes the limit. */
export interface ScopeLimitOptions {
  maxItems: number | null
  /** At the limit, an append is refused (`scope_full`, default) or drops the oldest items (a ring). */
  whenFull?: 'reject' | 'drop-oldest'
}

/** What the reaper recovered from one dead thread (see `ScopeCache.watch`). */
export interface ReapReport {
  threadId: number
  /** Locks the dead thread held, now released. */
  locks: number
  /** Scopes it left half-written, emptied with their seq counter kept: re-warm them. */
  scopesLost: string[]
  /** Heap blocks it had allocated or unpublished but not yet freed, now freed. */
  blocksFreed: number
  bytesFreed: number
}

/** Address of one item: by id or by seq, exactly one. */
export type ItemRef = { id: string; seq?: undefined } | { seq: number; id?: undefined }

/** Options of `get` and `getMany` (`raw: true`: payloads as JSON text, not parsed). */
export interface ReadOptions {
  raw?: boolean
}

/** `raw: true`: the payloads of a read as their JSON text. */
export interface RawReadOptions {
  raw: true
}

export interface HeadOptions {
  /** Items with seq > afterSeq. Default 0. */
  afterSeq?: number
  /** Default 1000, clamped to 10 000. */
  limit?: number
  raw?: boolean
}

export interface TailOptions {
  /** Default 1000, clamped to 10 000. */
  limit?: number
  /** Newest items to skip. Default 0. */
  offset?: number
  raw?: boolean
}

/** `ifVersion`: refuse the write (`conflict`) if the scope's version moved since it was read (`version()`). */
export interface FenceOptions {
  ifVersion?: number
}

export interface WriteOptions extends FenceOptions {
  /** The item expires this many ms after the write (1 … 10 years); default: the scope's `setScopeTtl`, else never. */
  ttlMs?: number
}

export interface AppendOptions extends WriteOptions {
  id?: string | null
}

export type TrimOptions = { maxSeq: number; keep?: undefined } | { keep: number; maxSeq?: undefined }

export interface ScopeListOptions {
  prefix?: string
  after?: string
  limit?: number
}

export interface ItemMeta {
  scope: string
  /** `null` when the item has no id. */
  id: string | null
  seq: number
  /** Microseconds since the Unix epoch when the current content was written. */
  ts: number
}

export interface Item<P = unknown> extends ItemMeta {
  /** Microseconds since the Unix epoch when the item expires (no read returns it from then on); null: never. */
  expiresTs: number | null
  payload: P
}

export interface Page<P = unknown> {
  items: Item<P>[]
  /** head: more items exist after this page; tail: older items exist before this window. */
  truncated: boolean
}

export type GetTarget = { scope: string } & ItemRef

/** One item of `warm`/`rebuild`; `payload` as for `append` (`WarmItem<Message>`: of an interface type). */
export interface WarmItem<P = JsonPayload> {
  scope: string
  id?: string | null
  payload: (P & PayloadOf<P>) | RawJson
  /** The item expires this many ms after the warm/rebuild; default: the scope's `setScopeTtl`, else never. */
  ttlMs?: number
}

export interface ScopeInfo {
  scope: string
  itemCount: number
  lastSeq: number
  /** Bytes this scope holds in shared memory (its record, name, indexes and items). */
  bytes: number
  createdTs: number
  lastWriteTs: number
  lastAccessTs: number
  readCountTotal: number
  /** The scope's default TTL (ms) for items written without ttlMs (`setScopeTtl`); null: none. */
  itemTtlMs: number | null
  /** The scope's item limit (`setScopeLimit`), null when it has none (the store's `scopeMaxItems`). */
  maxItems: number | null
  /** What an append at `maxItems` does; null when the scope has no limit. */
  whenFull: 'reject' | 'drop-oldest' | null
}

export interface StoreStats {
  scopes: number
  items: number
  /** Bytes charged against `maxStoreBytes`: every live allocation plus scope records. */
  bytes: number
  maxStoreBytes: number
  lastWriteTs: number
  /** Items reclaimed because they expired (by writes to their scope and the sweep), since the store was created. */
  expiredItems: number
  /** Scopes evicted by `whenFull: 'evict'` since the store was created. */
  evictedScopes: number
  /** Items dropped by drop-oldest scope limits since the store was created. */
  droppedOldest: number
  /** `tryLock`/`lock` calls that found the lock held (and waited, or failed), every thread's. */
  lockWaits: number
  /** `getOrLoad` loaders run, every thread's. */
  loaderRuns: number
}

/** What a thread needs to attach: structured-cloneable, send it in `workerData` or `postMessage`. */
export interface ScopeCacheHandle {
  readonly kind: 'scopecache/v1'
  readonly buffer: SharedArrayBuffer
}
