/**
 * `cache.scope<P>(name)`: one scope of a store as an object whose writes and reads share one
 * payload type `P`. It is a thin view: each method is one call of the same ScopeCache method with
 * the scope name filled in, so it costs one extra call and nothing else — no copy, no cache of
 * its own, no state but the name (the scope itself may not exist yet, or be dropped and written
 * again: the view just names it). Types are a promise, not a check: the store keeps JSON, and a
 * reader of a scope written elsewhere gets what was written there.
 */
import type { ScopeCache } from './cache.js'
import type { RawJson } from './payload.js'
import type { GetOrLoadOptions } from './read-through.js'
import type {
  AppendOptions, FenceOptions, HeadOptions, Item, ItemMeta, ItemRef, JsonPayload, Page, PayloadOf, RawReadOptions, ReadOptions, ScopeLimitOptions,
  TailOptions, TrimOptions, WriteOptions,
} from './types.js'

export class ScopeView<P = JsonPayload> {
  constructor(
    readonly cache: ScopeCache,
    /** The scope's name (checked when the view was made). */
    readonly name: string,
  ) {}

  append(payload: (P & PayloadOf<P>) | RawJson, opts?: AppendOptions | null): ItemMeta {
    return this.cache.append(this.name, payload as JsonPayload, opts)
  }

  upsert(id: string, payload: (P & PayloadOf<P>) | RawJson, opts?: WriteOptions | null): { created: boolean; item: ItemMeta } {
    return this.cache.upsert(this.name, id, payload as JsonPayload, opts)
  }

  update(ref: ItemRef, payload: (P & PayloadOf<P>) | RawJson, opts?: WriteOptions | null): 0 | 1 {
    return this.cache.update(this.name, ref, payload as JsonPayload, opts)
  }

  /** A new expiry `ttlMs` from now for a live item (`cache.touch`). */
  touch(ref: ItemRef, opts: { ttlMs: number }): 0 | 1 {
    return this.cache.touch(this.name, ref, opts)
  }

  get(ref: ItemRef, opts: RawReadOptions): Item<string> | undefined
  get(ref: ItemRef, opts?: ReadOptions & { raw?: false } | null): Item<P> | undefined
  get(ref: ItemRef, opts?: ReadOptions | null): Item<P> | Item<string> | undefined
  get(ref: ItemRef, opts?: ReadOptions | null): Item<P> | Item<string> | undefined {
    return this.cache.get<P>(this.name, ref, opts)
  }

  /** The payload's JSON text, exactly as stored. */
  getRaw(ref: ItemRef): string | undefined {
    return this.cache.getRaw(this.name, ref)
  }

  getBytes(ref: ItemRef): Uint8Array | undefined {
    return this.cache.getBytes(this.name, ref)
  }

  /** Items with seq > `afterSeq`, oldest first. */
  head(opts: HeadOptions & RawReadOptions): Page<string>
  head(opts?: HeadOptions & { raw?: false } | null): Page<P>
  head(opts?: HeadOptions | null): Page<P> | Page<string>
  head(opts?: HeadOptions | null): Page<P> | Page<string> {
    return this.cache.head<P>(this.name, opts)
  }

  /** The newest `limit` items (after skipping `offset` newest), oldest first. */
  tail(opts: TailOptions & RawReadOptions): Page<string>
  tail(opts?: TailOptions & { raw?: false } | null): Page<P>
  tail(opts?: TailOptions | null): Page<P> | Page<string>
  tail(opts?: TailOptions | null): Page<P> | Page<string> {
    return this.cache.tail<P>(this.name, opts)
  }

  /** `head({ afterSeq, limit })`: what a cursor reads next. */
  since(afterSeq: number, limit?: number): Page<P> {
    return this.cache.head<P>(this.name, limit === undefined ? { afterSeq } : { afterSeq, limit })
  }

  delete(ref: ItemRef, opts?: FenceOptions | null): 0 | 1 {
    return this.cache.delete(this.name, ref, opts)
  }

  trim(opts: TrimOptions): number {
    return this.cache.trim(this.name, opts)
  }

  /** Drops the whole scope (`dropScope`); writing to the view again starts a new scope at seq 1. */
  drop(): { found: boolean; items: number } {
    return this.cache.dropScope(this.name)
  }

  // ---- beyond ScopeCache, for this scope ----

  /** The scope's version (`cache.version`). */
  version(): number {
    return this.cache.version(this.name)
  }

  /** Deletes the item (or, without `ref`, drops the scope) and moves the version (`cache.invalidate`). */
  invalidate(ref?: ItemRef | null): number {
    return this.cache.invalidate(this.name, ref)
  }

  /** Read-through for one id of this scope (`cache.getOrLoad`). */
  getOrLoad(ref: { id: string }, loader: () => P | Promise<P>, opts?: GetOrLoadOptions | null): Promise<Item<P>> {
    return this.cache.getOrLoad<P>(this.name, ref, loader, opts)
  }

  /** The scope's default TTL for items written without ttlMs; null removes it (`cache.setScopeTtl`). */
  setTtl(ttlMs: number | null): void {
    this.cache.setScopeTtl(this.name, ttlMs)
  }

  /** The scope's item limit and what an append at it does; `maxItems: null` removes it (`cache.setScopeLimit`). */
  setLimit(opts: ScopeLimitOptions): { created: boolean } {
    return this.cache.setScopeLimit(this.name, opts)
  }
}
