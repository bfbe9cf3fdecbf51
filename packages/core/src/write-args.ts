/**
 * append and upsert, the hot write path: their arguments checked, then held for their bodies under
 * the scope lock in fields and two bound functions instead of a fresh closure per call. `set` runs
 * right before writeScope(); a body copies them out before anything else runs (no user code runs
 * in between, so no other write of this thread can overwrite them).
 */
import { checkKey, checkOptions, checkScope, optionalId } from './args.js'
import { invalid } from './errors.js'
import { ttlOption } from './expiry.js'
import { checkFence, ifVersionOpt } from './fences.js'
import { appendLocked, checkSize, upsertLocked } from './item-write.js'
import { preparePayload, type Prepared } from './payload.js'
import { writeScope } from './scope-life.js'
import type { Txn } from './txn.js'
import type { AppendOptions, ItemMeta, PayloadInput, WriteOptions } from './types.js'

export class WriteArgs {
  private scope = ''
  private id: string | null = null
  private h = 0
  private p: Prepared | null = null
  private size = 0
  private ifVersion: number | undefined = undefined
  /** ttlMs (0: the scope's default) */
  private ttl = 0
  /** The scope name the last write validated: a writer usually writes one scope many times. */
  private okScope: string | null = null

  constructor(private readonly t: Txn) {}

  appendItem<P>(scope: string, payload: PayloadInput<P>, opts: AppendOptions | null | undefined): ItemMeta {
    this.checkScope(scope)
    if (opts != null) checkOptions(opts, 'append')
    const id = optionalId(opts?.id)
    const ttl = opts == null ? 0 : ttlOption(opts.ttlMs)
    const p = preparePayload(payload)
    return writeScope(this.t, scope, true, this.set(scope, id, p, checkSize(this.t.s, id, p, ttl), opts?.ifVersion, ttl).append)
  }

  upsertItem<P>(scope: string, id: string, payload: PayloadInput<P>, opts: WriteOptions | null | undefined): { created: boolean; item: ItemMeta } {
    this.checkScope(scope)
    if (opts != null) checkOptions(opts, 'upsert')
    if (typeof id !== 'string' || id === '') throw invalid("the 'id' field is required for upsert")
    checkKey(id, 'id')
    const ttl = opts == null ? 0 : ttlOption(opts.ttlMs)
    const p = preparePayload(payload)
    return writeScope(this.t, scope, true, this.set(scope, id, p, checkSize(this.t.s, id, p, ttl), opts?.ifVersion, ttl).upsert)
  }

  checkScope(scope: string): void {
    if (scope === this.okScope) return
    checkScope(scope)
    this.okScope = scope
  }

  set(scope: string, id: string | null, p: Prepared, size: number, ifVersion: unknown, ttl: number): this {
    this.ifVersion = ifVersion === undefined ? undefined : ifVersionOpt(ifVersion)
    this.ttl = ttl
    this.scope = scope
    this.id = id
    this.h = id === null ? 0 : this.t.s.hashId(id)
    this.p = p
    this.size = size
    return this
  }

  // The payload is let go once the body is done; a body refused with store_full keeps it, for
  // whenFull 'evict' runs the body again after evicting (scope-life.ts writeBusy).
  readonly append = (_slot: number, rec: number): ItemMeta => {
    const p = this.p as Prepared
    checkFence(this.t, rec, this.ifVersion)
    const m = appendLocked(this.t, this.scope, rec, this.id, this.h, p, this.size, this.ttl)
    this.p = null
    return m
  }

  readonly upsert = (_slot: number, rec: number): { created: boolean; item: ItemMeta } => {
    const p = this.p as Prepared
    checkFence(this.t, rec, this.ifVersion)
    const r = upsertLocked(this.t, this.scope, rec, this.id as string, this.h, p, this.size, this.ttl)
    this.p = null
    return r
  }
}
