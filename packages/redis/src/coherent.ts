/**
 * A node of a group: a local store (reads stay local, at shared-memory speed) whose writes go
 * through Redis first. Order of a write, and why:
 *
 *   1. checked here (scope, id, payload, size): what every node would refuse is never published;
 *   2. published — one script (scripts.ts) checks `ifVersion` against the scope's Redis-held fence,
 *      moves the fence and appends the entry, atomically — and only then
 *   3. applied locally, in stream order: at once when every earlier entry of its shard has been
 *      applied here (the usual case), else by the consumer when it reaches the entry.
 *
 * Publish first: a write Redis did not acknowledge (down, paused, fence moved) changed nothing
 * anywhere, so the call can reject cleanly (`unavailable`, `conflict`). Apply in stream order: a
 * later write of another node, applied here before this one, is not overwritten by it. If the
 * local store refuses an acknowledged write (full, a duplicate id), the scope is dropped here
 * instead (counted in `applyErrors`) and the call resolves with seq 0: the group has the write,
 * this node holds nothing of the scope rather than something stale. Seq 0 likewise means the
 * node resynchronised (flushed) before it could apply its own write.
 */
import {
  keyProblem, MESSAGES, RawJson, rawJson, ScopeCache, ScopeCacheError, type AppendOptions, type GetOrLoadOptions, type Item,
  type ItemMeta, type ItemRef, type PayloadInput, type StoreStats, type TrimOptions,
} from '@scopecache/core'
import { compareIds, shardKeys, shardOf } from './keys.js'
import { Lost } from './link.js'
import { resolveOptions, type CoherentCacheOptions, type ResolvedOptions } from './options.js'
import { evalScript, SCRIPTS } from './scripts.js'
import type { CoherenceStats } from './stats.js'
import { Sync, unavailable, type Pending } from './sync.js'
import type { Op } from './entry.js'

/** Starts a node: connects, flushes the store (it cannot vouch for what it held) and follows the group's streams. */
export async function createCoherentCache(options: CoherentCacheOptions): Promise<CoherentCache> {
  const node = new CoherentCache(resolveOptions(options))
  await node.sync.start()
  return node
}

const invalid = (msg: string): ScopeCacheError => new ScopeCacheError('invalid_input', MESSAGES.invalidPrefix + msg)

function checkKey(v: unknown, field: 'scope' | 'id'): string {
  if (typeof v !== 'string' || v === '') throw invalid(`the '${field}' field is required`)
  const p = keyProblem(v, field)
  if (p !== null) throw invalid(p)
  return v
}

function checkRef(ref: ItemRef | null | undefined): { id: string } | { seq: number } {
  const r = ref as { id?: unknown; seq?: unknown } | null | undefined
  if (r == null || typeof r !== 'object' || (r.id === undefined) === (r.seq === undefined)) throw invalid(MESSAGES.oneOfIdOrSeq)
  if (r.id !== undefined) return { id: checkKey(r.id, 'id') }
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) throw invalid("the 'seq' field must be a positive integer")
  return { seq: r.seq }
}

export class CoherentCache {
  /** The local store (reads of it are the node's reads; write only through the node). */
  readonly cache: ScopeCache
  /** @internal */
  readonly sync: Sync
  private readonly o: ResolvedOptions
  private tokens = 0

  // reads: the local store's own calls
  readonly get: ScopeCache['get']
  readonly getRaw: ScopeCache['getRaw']
  readonly getBytes: ScopeCache['getBytes']
  readonly getMany: ScopeCache['getMany']
  readonly head: ScopeCache['head']
  readonly tail: ScopeCache['tail']
  readonly scopeList: ScopeCache['scopeList']

  /** @internal use createCoherentCache */
  constructor(o: ResolvedOptions) {
    this.o = o
    const c = (this.cache = o.cache)
    this.sync = new Sync(o, shardKeys(o.group, o.shards))
    this.get = c.get.bind(c)
    this.getRaw = c.getRaw.bind(c)
    this.getBytes = c.getBytes.bind(c)
    this.getMany = c.getMany.bind(c)
    this.head = c.head.bind(c)
    this.tail = c.tail.bind(c)
    this.scopeList = c.scopeList.bind(c)
  }

  get mode(): 'invalidate' | 'replicate' { return this.o.mode } // prettier-ignore

  /** The local store's stats, and the node's coherence (state, counts, propagation delays). */
  stats(): StoreStats & { coherence: CoherenceStats } {
    return { ...this.cache.stats(), coherence: this.sync.stats() }
  }

  /**
   * The id of the last entry of `scope`'s stream applied here (or skipped by a resync): everything
   * the group wrote to that stream up to it is reflected in this store. Compare with the `entry`
   * an append or upsert returns (stream ids, `ms-seq`) to know whether this node has seen a write.
   */
  position(scope: string): string {
    return this.sync.pos[shardOf(scope, this.o.shards)].chain
  }

  /** The scope's Redis-held fence: what `ifVersion` is checked against. */
  async version(scope: string): Promise<number> {
    checkKey(scope, 'scope')
    const k = this.sync.keys[shardOf(scope, this.o.shards)]
    return Number(await this.command(() => evalScript((key, a) => this.sync.send(key, a), SCRIPTS.version, [k.stream, k.meta], [scope])))
  }

  // ---- writes ---------------------------------------------------------------------------------

  async append<P>(scope: string, payload: PayloadInput<P>, opts?: AppendOptions | null): Promise<ItemMeta & { version: number; entry: string }> {
    checkKey(scope, 'scope')
    const id = opts?.id == null ? null : checkKey(opts.id, 'id')
    const text = this.text(payload, id)
    const none: ItemMeta = { scope, id, seq: 0, ts: 0 }
    const { r, version, entry } = await this.write(scope, opts?.ifVersion, 'append', id, text, () => this.cache.append(scope, rawJson(text), id === null ? undefined : { id }), none)
    return { ...r, version, entry }
  }

  async upsert<P>(scope: string, id: string, payload: PayloadInput<P>, opts?: { ifVersion?: number } | null): Promise<{ created: boolean; item: ItemMeta; version: number; entry: string }> {
    checkKey(scope, 'scope')
    checkKey(id, 'id')
    const text = this.text(payload, id)
    const none = { created: false, item: { scope, id, seq: 0, ts: 0 } }
    const { r, version, entry } = await this.write(scope, opts?.ifVersion, 'upsert', id, text, () => this.cache.upsert(scope, id, rawJson(text)), none)
    return { ...r, version, entry }
  }

  /** 0 | 1 here (an item this node does not hold is updated on the nodes that do). */
  async update<P>(scope: string, ref: ItemRef, payload: PayloadInput<P>, opts?: { ifVersion?: number } | null): Promise<0 | 1> {
    checkKey(scope, 'scope')
    const by = checkRef(ref)
    const id = 'id' in by ? by.id : null
    const text = this.text(payload, id)
    // by seq: seqs are local to each store, so other nodes drop the scope instead
    return (await this.write(scope, opts?.ifVersion, 'update', id, id === null ? null : text, () => this.cache.update(scope, by, rawJson(text)), 0 as const)).r
  }

  async delete(scope: string, ref: ItemRef, opts?: { ifVersion?: number } | null): Promise<0 | 1> {
    checkKey(scope, 'scope')
    const by = checkRef(ref)
    return (await this.write(scope, opts?.ifVersion, 'delete', 'id' in by ? by.id : null, null, () => this.cache.delete(scope, by), 0 as const)).r
  }

  /** Deletes the item (or drops the scope) on every node and moves the fence; returns items removed here. */
  async invalidate(scope: string, ref?: ItemRef | null): Promise<number> {
    checkKey(scope, 'scope')
    const by = ref == null ? null : checkRef(ref)
    const id = by !== null && 'id' in by ? by.id : null
    return (await this.write(scope, undefined, 'invalidate', id, null, () => (by === null ? this.cache.invalidate(scope) : this.cache.invalidate(scope, by)), 0)).r
  }

  async dropScope(scope: string): Promise<{ found: boolean; items: number }> {
    checkKey(scope, 'scope')
    return (await this.write(scope, undefined, 'drop', null, null, () => this.cache.dropScope(scope), { found: false, items: 0 })).r
  }

  /** Trims here; the other nodes drop the scope (their seqs are their own). */
  async trim(scope: string, opts: TrimOptions): Promise<number> {
    checkKey(scope, 'scope')
    return (await this.write(scope, undefined, 'trim', null, null, () => this.cache.trim(scope, opts), 0)).r
  }

  // ---- read-through ---------------------------------------------------------------------------

  /**
   * The store's getOrLoad, with one more fence: the scope's Redis-held fence is read before the
   * loader runs and after it; if it moved (a write or invalidate anywhere in the group), or the
   * node is not in sync, the value is returned but not stored (seq 0) — the local invalidate
   * below makes the store's own fenced store refuse it.
   */
  getOrLoad<P = unknown>(scope: string, ref: { id: string }, loader: () => P | Promise<P>, opts?: GetOrLoadOptions | null): Promise<Item<P>> {
    if (typeof loader !== 'function') return this.cache.getOrLoad(scope, ref, loader, opts)
    const fenced = async (): Promise<P> => {
      const before = await this.fenceOrNull(scope)
      const value = await loader()
      const after = before === null ? null : await this.fenceOrNull(scope)
      if (after === null || after !== before || this.sync.state !== 'in-sync') this.cache.invalidate(scope, { id: ref.id })
      return value
    }
    return this.cache.getOrLoad(scope, ref, fenced, opts)
  }

  /** Stops following the group (the store stays open: it is the caller's). */
  async close(): Promise<void> {
    await this.sync.close()
  }

  // ---- machinery ------------------------------------------------------------------------------

  private async fenceOrNull(scope: string): Promise<number | null> {
    if (this.sync.state !== 'in-sync') return null
    try {
      return await this.version(scope)
    } catch {
      return null
    }
  }

  /** The payload as the JSON text every node will store (checked here: what all would refuse is not published). */
  private text(payload: unknown, id: string | null): string {
    let text: string | undefined
    if (payload instanceof RawJson) {
      text = typeof payload.json === 'string' ? payload.json : Buffer.from(payload.json).toString('utf8')
      try {
        JSON.parse(text)
      } catch {
        throw invalid(MESSAGES.payloadNotJson)
      }
    } else if (payload !== null && payload !== undefined) {
      try {
        text = JSON.stringify(payload)
      } catch {
        text = undefined
      }
    }
    if (text === undefined || text.trim() === 'null') throw invalid(payload == null ? MESSAGES.payloadRequired : MESSAGES.payloadNotJson)
    const bytes = Buffer.byteLength(text) + (id === null ? 0 : Buffer.byteLength(id))
    if (bytes > this.cache.maxItemBytes) {
      throw new ScopeCacheError('too_large', MESSAGES.invalidPrefix + MESSAGES.itemTooLarge(bytes, this.cache.maxItemBytes))
    }
    return text
  }

  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (this.sync.state !== 'in-sync') throw unavailable(`the node is ${this.sync.state}`)
    try {
      return await run()
    } catch (e) {
      if (e instanceof ScopeCacheError) throw e
      if (e instanceof Lost) this.sync.fail(e.message)
      throw unavailable(String((e as Error)?.message ?? e))
    }
  }

  /** Publish, then apply locally in stream order (the file comment). `none`: the result when not applied here. */
  private async write<R>(scope: string, ifVersion: unknown, op: Op, itemId: string | null, value: string | null, local: () => R, none: R): Promise<{ r: R; version: number; entry: string }> {
    if (ifVersion != null && (typeof ifVersion !== 'number' || !Number.isSafeInteger(ifVersion) || ifVersion < 0)) {
      throw invalid("the 'ifVersion' option must be a non-negative integer (a version read with version())")
    }
    const { sync, o } = this
    const n = shardOf(scope, o.shards)
    const k = sync.keys[n]
    const token = (++this.tokens).toString(36)
    let result = none
    let settle: () => void = () => {}
    const p: Pending = {
      done: false,
      apply: () => { result = this.applyLocal(scope, op, local, none) },
      settle: () => settle(),
      settled: new Promise<void>((r) => { settle = r }),
    }
    sync.pending.set(token, p)
    try {
      const argv = [scope, ifVersion == null ? '' : String(ifVersion), String(o.maxLen), 'n', o.nodeId, 't', token, 'w', (performance.timeOrigin + performance.now()).toFixed(3), 's', scope, 'o', op]
      if (itemId !== null) argv.push('i', itemId)
      if (value !== null && o.mode === 'replicate') argv.push('v', value)
      const reply = (await this.command(() => evalScript((key, a) => sync.send(key, a), SCRIPTS.write, [k.stream, k.meta], argv))) as unknown[]
      if (Number(reply[0]) === 0) {
        sync.counts.conflicts++
        const now = Number(reply[1])
        throw new ScopeCacheError('conflict', `scopecache: the scope's version moved (expected ${String(ifVersion)}, now ${now}): it changed since it was read`, { version: now })
      }
      sync.counts.published++
      const id = String(reply[1])
      const version = Number(reply[2])
      const prev = String(reply[3])
      const pos = sync.pos[n]
      if (!p.done && sync.state === 'in-sync') {
        if (pos.chain === prev) {
          pos.chain = id // every earlier entry is applied here: apply now (the consumer will skip it)
          sync.applyOwn(p)
        } else if (compareIds(id, pos.chain) > 0) {
          await p.settled // the consumer applies it in order (or a flush gives up on it)
        }
      }
      return { r: result, version, entry: id }
    } finally {
      sync.pending.delete(token)
    }
  }

  private applyLocal<R>(scope: string, op: Op, local: () => R, none: R): R {
    try {
      return local()
    } catch (e) {
      this.sync.counts.applyErrors++
      this.o.log(`own ${op} in '${scope}' published but refused here (${(e as Error).message}); scope dropped here`)
      this.sync.dropScope(scope)
      return none
    }
  }
}
