/** Public value types of the store. Names are camelCase; the HTTP layer maps them to snake_case. */

export interface ScopeCacheOptions {
  /** Byte budget for everything the store keeps (items, indexes, scope records). Default 100 MiB. */
  maxStoreBytes?: number
  /** Items per scope. Default 100 000. */
  scopeMaxItems?: number
  /** Bytes per item (`itemBytes()` of the item). Default 1 MiB. */
  maxItemBytes?: number
  /** Scope table capacity. Default: enough for the byte budget (maxStoreBytes / 1 KiB), at least 64. */
  maxScopes?: number
  /** Thread slots: how many threads may be attached at once. Default 256. */
  maxThreads?: number
  /**
   * How long a thread waits for a lock before giving up with `lock_timeout`, in ms. Default 1000.
   * Locks are held for microseconds; a longer wait means the holder died and has not been reaped
   * yet (see `watch`), or a bulk write of millions of items is committing.
   */
  lockLeaseMs?: number
  /** Named locks (`tryLock`/`lock`) that may be held at once. Default 1024. */
  maxLocks?: number
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

export interface ItemMeta {
  scope: string
  /** `null` when the item has no id. */
  id: string | null
  seq: number
  /** Microseconds since the Unix epoch when the current content was written. */
  ts: number
}

export interface Item<P = unknown> extends ItemMeta {
  payload: P
}

export interface Page<P = unknown> {
  items: Item<P>[]
  /** head: more items exist after this page; tail: older items exist before this window. */
  truncated: boolean
}

export type GetTarget = { scope: string } & ItemRef

export interface WarmItem {
  scope: string
  id?: string | null
  payload: unknown
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
}

export interface StoreStats {
  scopes: number
  items: number
  /** Bytes charged against `maxStoreBytes`: every live allocation plus scope records. */
  bytes: number
  maxStoreBytes: number
  lastWriteTs: number
}

/** What a thread needs to attach: structured-cloneable, send it in `workerData` or `postMessage`. */
export interface ScopeCacheHandle {
  readonly kind: 'scopecache/v1'
  readonly buffer: SharedArrayBuffer
}
