/**
 * A plain-JS reference model of ScopeCache for the model-based test (model.test.ts): the same
 * method names and return shapes, written with Maps and arrays, as obvious as possible.
 *
 * Not modelled: byte accounting (so no store_full — the test handles that side), timestamps
 * (results carry `ts: 0`, `bytes: 0`, … placeholders the test ignores), threads.
 *
 * rawJson payloads: build them with `raw(text)` from this module. It returns the real
 * `rawJson(text)` object and remembers its text, so the model never looks inside RawJson.
 */
import { Buffer } from 'node:buffer'
import { rawJson } from '../src/index.js'
import { itemBytes } from '../src/layout.js'

export type ModelCode = 'invalid_input' | 'too_large' | 'conflict' | 'scope_full' | 'store_full'

export interface Offender {
  scope: string
  count: number
  cap: number
}

export class ModelError extends Error {
  constructor(
    readonly code: ModelCode,
    message: string,
    readonly details?: { scopes?: Offender[] },
  ) {
    super(`${code}: ${message}`)
  }
}

const invalid = (why: string): never => {
  throw new ModelError('invalid_input', why)
}

// ---------------------------------------------------------------------------------- payloads ----

const rawTexts = new WeakMap<object, string>()

/** `rawJson(text)` of the real store, registered so the model knows its text. */
export function raw(text: string): unknown {
  const r = rawJson(text) as unknown as object
  rawTexts.set(r, text)
  return r
}

/** The text a registered `raw()` payload was made from, else undefined. */
export function rawTextOf(p: unknown): string | undefined {
  return typeof p === 'object' && p !== null ? rawTexts.get(p) : undefined
}

/** The stored JSON text of a write's payload, or throws invalid_input. */
export function payloadText(p: unknown): string {
  const rawText = rawTextOf(p)
  if (rawText !== undefined) {
    if (!rawText.isWellFormed()) invalid('payload text is not well-formed UTF-16/UTF-8')
    try {
      JSON.parse(rawText)
    } catch {
      invalid('payload text is not JSON')
    }
    const text = rawText.replace(/^[ \t\n\r]+/, '').replace(/[ \t\n\r]+$/, '')
    if (text === 'null') invalid("the 'payload' field is required")
    return text
  }
  if (p === undefined || p === null) invalid("the 'payload' field is required")
  let text: string | undefined
  try {
    text = JSON.stringify(p)
  } catch {
    invalid('payload is not JSON-serialisable')
  }
  if (text === undefined) invalid('payload is not JSON-serialisable')
  if (text === 'null') invalid("the 'payload' field is required")
  return text as string
}

export const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8')

/** UTF-8 byte order of two well-formed strings. */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

// ---------------------------------------------------------------------------------- keys --------

/** 1..256 UTF-8 bytes, well-formed, no C0 control or DEL, no Unicode whitespace at either end. */
export function validKey(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0) return false
  if (!s.isWellFormed()) return false
  if (utf8(s) > 256) return false
  if (/[\u0000-\u001f\u007f]/.test(s)) return false
  if (/^\p{White_Space}/u.test(s) || /\p{White_Space}$/u.test(s)) return false
  return true
}

const isPosInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0
const isNonNegInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0

type Ref = { id: string } | { seq: number }

/** A well-formed address: exactly one of a non-empty string id or a positive integer seq. */
function parseRef(ref: unknown): Ref {
  if (typeof ref !== 'object' || ref === null) return invalid('ref must be an object')
  const r = ref as { id?: unknown; seq?: unknown }
  const hasId = r.id !== undefined
  const hasSeq = r.seq !== undefined
  if (hasId === hasSeq) return invalid('exactly one of id and seq')
  if (hasId) {
    if (typeof r.id !== 'string' || r.id === '') return invalid('id must be a non-empty string')
    return { id: r.id }
  }
  if (!isPosInt(r.seq)) return invalid('seq must be a positive integer')
  return { seq: r.seq }
}

// ---------------------------------------------------------------------------------- state -------

export interface MItem {
  id: string | null
  seq: number
  text: string
}

export interface MScope {
  lastSeq: number
  /** Ascending seq. */
  items: MItem[]
  reads: number
}

export interface ModelOptions {
  scopeMaxItems: number
  maxItemBytes: number
  /** Only echoed by stats(); the model does not account bytes. */
  maxStoreBytes: number
}

export interface MItemMeta {
  scope: string
  id: string | null
  seq: number
  ts: number
}

export interface MItemOut extends MItemMeta {
  expiresTs: number | null
  payload: unknown
}

const TS = 0 // placeholder: the model does not know timestamps

interface WarmIn {
  scope: string
  id?: string | null
  payload: unknown
}

export class Model {
  scopes = new Map<string, MScope>()

  constructor(readonly opts: ModelOptions) {}

  clone(): Model {
    const m = new Model(this.opts)
    for (const [name, s] of this.scopes) m.scopes.set(name, { lastSeq: s.lastSeq, reads: s.reads, items: s.items.map((i) => ({ ...i })) })
    return m
  }

  restore(from: Model): void {
    this.scopes = from.clone().scopes
  }

  /** Σ itemBytes over every item: a lower bound of what the real store must charge. */
  itemBytesTotal(scope?: string): number {
    let n = 0
    for (const [name, s] of this.scopes) {
      if (scope !== undefined && name !== scope) continue
      for (const it of s.items) n += this.size(it.id, it.text)
    }
    return n
  }

  size(id: string | null, text: string): number {
    return itemBytes(id === null ? 0 : utf8(id), utf8(text))
  }

  // ------------------------------------------------------------------------------- helpers ----

  private find(s: MScope | undefined, ref: Ref): MItem | undefined {
    if (s === undefined) return undefined
    return 'id' in ref ? s.items.find((i) => i.id === ref.id) : s.items.find((i) => i.seq === ref.seq)
  }

  private checkSize(id: string | null, text: string): void {
    if (this.size(id, text) > this.opts.maxItemBytes) throw new ModelError('too_large', 'item too large')
  }

  private requireScope(scope: unknown): asserts scope is string {
    if (!validKey(scope)) invalid('bad scope')
  }

  /** Inserts a new item (append, upsert-create, counter-create) after the caller validated it. */
  private insert(scope: string, id: string | null, text: string): MItemMeta {
    const s = this.scopes.get(scope)
    const count = s === undefined ? 0 : s.items.length
    if (count >= this.opts.scopeMaxItems) {
      throw new ModelError('scope_full', 'scope is at capacity', { scopes: [{ scope, count, cap: this.opts.scopeMaxItems }] })
    }
    const sc = s ?? { lastSeq: 0, items: [], reads: 0 }
    const seq = sc.lastSeq + 1
    sc.lastSeq = seq
    sc.items.push({ id, seq, text })
    this.scopes.set(scope, sc)
    return { scope, id, seq, ts: TS }
  }

  /** `raw`: the payload as its stored JSON text (head/tail `raw: true`), else parsed. */
  private out(scope: string, it: MItem, raw = false): MItemOut {
    return { scope, id: it.id, seq: it.seq, ts: TS, expiresTs: null, payload: raw ? it.text : JSON.parse(it.text) }
  }

  private hit(scope: string): void {
    this.scopes.get(scope)!.reads++
  }

  // ------------------------------------------------------------------------------- writes -----

  append(scope: string, payload: unknown, opts?: { id?: string | null }): MItemMeta {
    this.requireScope(scope)
    const rawId = opts?.id
    const id = rawId === undefined || rawId === null || rawId === '' ? null : rawId
    if (id !== null && !validKey(id)) invalid('bad id')
    const text = payloadText(payload)
    this.checkSize(id, text)
    const s = this.scopes.get(scope)
    // the reference checks the scope's capacity before the id (buffer_write.go appendItem)
    if (id !== null && s?.items.some((i) => i.id === id) && s.items.length < this.opts.scopeMaxItems) throw new ModelError('conflict', 'duplicate id')
    return this.insert(scope, id, text)
  }

  upsert(scope: string, id: string, payload: unknown): { created: boolean; item: MItemMeta } {
    this.requireScope(scope)
    if (!validKey(id)) invalid('id required and valid')
    const text = payloadText(payload)
    this.checkSize(id, text)
    const found = this.scopes.get(scope)?.items.find((i) => i.id === id)
    if (found !== undefined) {
      found.text = text
      return { created: false, item: { scope, id, seq: found.seq, ts: TS } }
    }
    return { created: true, item: this.insert(scope, id, text) }
  }

  update(scope: string, ref: unknown, payload: unknown): 0 | 1 {
    this.requireScope(scope)
    const r = parseRef(ref)
    if ('id' in r && !validKey(r.id)) invalid('bad id')
    const text = payloadText(payload)
    const found = this.find(this.scopes.get(scope), r)
    const idForSize = found !== undefined ? found.id : 'id' in r ? r.id : null
    this.checkSize(idForSize, text)
    if (found === undefined) return 0
    found.text = text
    return 1
  }

  counterAdd(scope: string, id: string, by: number = 1): number {
    this.requireScope(scope)
    if (!validKey(id)) invalid('id required and valid')
    if (!Number.isSafeInteger(by) || by === 0) invalid('by must be a non-zero safe integer')
    const found = this.scopes.get(scope)?.items.find((i) => i.id === id)
    if (found === undefined) {
      const text = String(by)
      this.checkSize(id, text)
      this.insert(scope, id, text)
      return by
    }
    if (!/^-?(0|[1-9][0-9]*)$/.test(found.text)) throw new ModelError('conflict', 'not an integer')
    const cur = Number(found.text)
    if (!Number.isSafeInteger(cur)) throw new ModelError('conflict', 'not a safe integer')
    const next = cur + by
    if (!Number.isSafeInteger(next)) invalid('result out of range')
    const text = String(next)
    this.checkSize(id, text)
    found.text = text
    return next
  }

  delete(scope: string, ref: unknown): 0 | 1 {
    this.requireScope(scope)
    const r = parseRef(ref)
    if ('id' in r && !validKey(r.id)) invalid('bad id')
    const s = this.scopes.get(scope)
    const found = this.find(s, r)
    if (s === undefined || found === undefined) return 0
    s.items = s.items.filter((i) => i !== found)
    return 1
  }

  trim(scope: string, opts: unknown): number {
    this.requireScope(scope)
    if (typeof opts !== 'object' || opts === null) return invalid('trim needs options')
    const o = opts as { maxSeq?: unknown; keep?: unknown }
    const hasMax = o.maxSeq !== undefined
    const hasKeep = o.keep !== undefined
    if (hasMax === hasKeep) invalid('exactly one of maxSeq and keep')
    if (hasMax && !isPosInt(o.maxSeq)) invalid('maxSeq must be a positive integer')
    if (hasKeep && !isNonNegInt(o.keep)) invalid('keep must be a non-negative integer')
    const s = this.scopes.get(scope)
    if (s === undefined) return 0
    const before = s.items.length
    if (hasMax) s.items = s.items.filter((i) => i.seq > (o.maxSeq as number))
    else s.items = s.items.slice(Math.max(0, s.items.length - (o.keep as number)))
    return before - s.items.length
  }

  dropScope(scope: string): { found: boolean; items: number } {
    this.requireScope(scope)
    const s = this.scopes.get(scope)
    if (s === undefined) return { found: false, items: 0 }
    this.scopes.delete(scope)
    return { found: true, items: s.items.length }
  }

  dropPrefix(prefix: string): { scopes: number; items: number } {
    if (!validKey(prefix)) invalid('bad prefix')
    let scopes = 0
    let items = 0
    for (const [name, s] of [...this.scopes]) {
      if (!name.startsWith(prefix)) continue
      scopes++
      items += s.items.length
      this.scopes.delete(name)
    }
    return { scopes, items }
  }

  flush(): { scopes: number; items: number; bytes: number } {
    let items = 0
    for (const s of this.scopes.values()) items += s.items.length
    const scopes = this.scopes.size
    this.scopes = new Map()
    return { scopes, items, bytes: 0 }
  }

  /**
   * Validates a bulk batch as the reference does (bulk.go): every item first (the scope's name,
   * then the item's id, payload and size), then per scope its cap, and the duplicate ids only of
   * the scopes within it; any duplicate before any cap. Returns it grouped by scope (in
   * first-appearance order).
   */
  private bulk(items: unknown): Map<string, { id: string | null; text: string }[]> {
    if (!Array.isArray(items)) return invalid('items must be an array')
    const groups = new Map<string, { id: string | null; text: string }[]>()
    for (const w of items as WarmIn[]) {
      if (typeof w !== 'object' || w === null) invalid('item must be an object')
      this.requireScope(w.scope)
      const id = w.id === undefined || w.id === null || w.id === '' ? null : w.id
      if (id !== null && !validKey(id)) invalid('bad id')
      const text = payloadText(w.payload)
      this.checkSize(id, text)
      const g = groups.get(w.scope) ?? []
      g.push({ id, text })
      groups.set(w.scope, g)
    }
    const offenders: Offender[] = []
    for (const [scope, g] of groups) {
      if (g.length > this.opts.scopeMaxItems) offenders.push({ scope, count: g.length, cap: this.opts.scopeMaxItems })
      else if (new Set(g.filter((x) => x.id !== null).map((x) => x.id)).size < g.filter((x) => x.id !== null).length) invalid('duplicate id in batch')
    }
    if (offenders.length > 0) throw new ModelError('scope_full', 'scopes at capacity', { scopes: offenders })
    return groups
  }

  warm(items: readonly WarmIn[]): { scopes: number } {
    const groups = this.bulk(items)
    for (const [scope, g] of groups) {
      const s = this.scopes.get(scope) ?? { lastSeq: 0, items: [], reads: 0 }
      s.items = g.map((x, i) => ({ id: x.id, seq: s.lastSeq + 1 + i, text: x.text }))
      s.lastSeq += g.length
      this.scopes.set(scope, s)
    }
    return { scopes: groups.size }
  }

  rebuild(items: readonly WarmIn[]): { scopes: number; items: number } {
    const groups = this.bulk(items)
    this.scopes = new Map()
    let n = 0
    for (const [scope, g] of groups) {
      this.scopes.set(scope, { lastSeq: g.length, reads: 0, items: g.map((x, i) => ({ id: x.id, seq: i + 1, text: x.text })) })
      n += g.length
    }
    return { scopes: groups.size, items: n }
  }

  // ------------------------------------------------------------------------------- reads ------

  private lookup(scope: string, ref: unknown): MItem | undefined {
    const r = parseRef(ref) // a malformed call throws whatever the scope
    if (!validKey(scope)) return undefined
    if ('id' in r && !validKey(r.id)) return undefined
    const found = this.find(this.scopes.get(scope), r)
    if (found !== undefined) this.hit(scope)
    return found
  }

  get(scope: string, ref: unknown): MItemOut | undefined {
    const it = this.lookup(scope, ref)
    return it === undefined ? undefined : this.out(scope, it)
  }

  getRaw(scope: string, ref: unknown): string | undefined {
    return this.lookup(scope, ref)?.text
  }

  getBytes(scope: string, ref: unknown): Uint8Array | undefined {
    const it = this.lookup(scope, ref)
    return it === undefined ? undefined : new Uint8Array(Buffer.from(it.text, 'utf8'))
  }

  getMany(targets: unknown): (MItemOut | undefined)[] {
    if (!Array.isArray(targets)) return invalid('targets must be an array')
    if (targets.length > 1000) invalid('at most 1000 targets')
    for (const t of targets) {
      if (typeof t !== 'object' || t === null || typeof (t as { scope?: unknown }).scope !== 'string') invalid('malformed target')
      parseRef(t)
    }
    return targets.map((t: { scope: string }) => this.get(t.scope, t))
  }

  head(scope: string, opts: { afterSeq?: number; limit?: number; raw?: boolean } = {}): { items: MItemOut[]; truncated: boolean } {
    const afterSeq = opts.afterSeq ?? 0
    const limit = opts.limit ?? 1000
    if (!isNonNegInt(afterSeq)) invalid('afterSeq must be a non-negative integer')
    if (!isPosInt(limit)) invalid('limit must be a positive integer')
    const s = validKey(scope) ? this.scopes.get(scope) : undefined
    if (s === undefined) return { items: [], truncated: false }
    const all = s.items.filter((i) => i.seq > afterSeq)
    const page = all.slice(0, Math.min(limit, 10000))
    if (page.length > 0) this.hit(scope)
    return { items: page.map((i) => this.out(scope, i, opts.raw === true)), truncated: all.length > page.length }
  }

  tail(scope: string, opts: { limit?: number; offset?: number; raw?: boolean } = {}): { items: MItemOut[]; truncated: boolean } {
    const limit = opts.limit ?? 1000
    const offset = opts.offset ?? 0
    if (!isPosInt(limit)) invalid('limit must be a positive integer')
    if (!isNonNegInt(offset)) invalid('offset must be a non-negative integer')
    const s = validKey(scope) ? this.scopes.get(scope) : undefined
    if (s === undefined || offset >= s.items.length) return { items: [], truncated: false }
    const end = s.items.length - offset // exclusive
    const start = Math.max(0, end - Math.min(limit, 10000))
    const page = s.items.slice(start, end)
    if (page.length > 0) this.hit(scope)
    return { items: page.map((i) => this.out(scope, i, opts.raw === true)), truncated: start > 0 }
  }

  stats(): {
    scopes: number; items: number; bytes: number; maxStoreBytes: number; lastWriteTs: number; expiredItems: number
    evictedScopes: number; droppedOldest: number; lockWaits: number; loaderRuns: number
  } {
    let items = 0
    for (const s of this.scopes.values()) items += s.items.length
    // the model has no expiry, capacity policy, locks or loaders (their own tests model those)
    return {
      scopes: this.scopes.size, items, bytes: 0, maxStoreBytes: this.opts.maxStoreBytes, lastWriteTs: 0, expiredItems: 0,
      evictedScopes: 0, droppedOldest: 0, lockWaits: 0, loaderRuns: 0,
    }
  }

  scopeList(opts: { prefix?: string; after?: string; limit?: number } = {}): {
    scopes: {
      scope: string
      itemCount: number
      lastSeq: number
      bytes: number
      createdTs: number
      lastWriteTs: number
      lastAccessTs: number
      readCountTotal: number
      maxItems: null
      whenFull: null
    }[]
    truncated: boolean
  } {
    const prefix = opts.prefix ?? ''
    const after = opts.after ?? ''
    const limit = opts.limit ?? 1000
    if (!isPosInt(limit)) invalid('limit must be a positive integer')
    // a read: an invalid prefix or after matches nothing (CONTRACT: reads are permissive)
    if ((prefix !== '' && !validKey(prefix)) || (after !== '' && !validKey(after))) return { scopes: [], truncated: false }
    const names = [...this.scopes.keys()]
      .filter((n) => n.startsWith(prefix) && (after === '' || byteOrder(n, after) > 0))
      .sort(byteOrder)
    const page = names.slice(0, Math.min(limit, 10000))
    return {
      scopes: page.map((scope) => {
        const s = this.scopes.get(scope)!
        return {
          scope, itemCount: s.items.length, lastSeq: s.lastSeq, bytes: 0, createdTs: 0, lastWriteTs: 0, lastAccessTs: 0, readCountTotal: s.reads,
          itemTtlMs: null, maxItems: null, whenFull: null,
        }
      }),
      truncated: names.length > page.length,
    }
  }
}
