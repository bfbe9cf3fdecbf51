/**
 * A warm/rebuild batch, validated and measured before any lock is taken, in a compact form: parallel
 * arrays indexed by item (no object per item), the items of each scope listed together (`order`),
 * and per scope its count, id count and item bytes, so the build can carve a scope's items from a
 * few large blocks. Values are read from the caller's items exactly once.
 *
 * Errors come in the reference's order (validation.go, bulk.go at v0.8.32), which checks each
 * scope's name, then each of its items, then the scope's item cap, and only then its duplicate ids:
 * an invalid item (the first in input order, its index counted within its scope) comes before any
 * duplicate; a duplicate id (the first in input order) before the caps; a scope over its item cap
 * is reported as such even if it also repeats an id. Duplicate ids are found where they cost
 * nothing extra: when the build inserts the ids into the scope's id table (bulk-commit.ts), whose
 * errors in turn yield to an earlier duplicate (`throwFirstDuplicate`).
 */
import { Buffer } from 'node:buffer'
import { PENDING, type Heap } from './alloc.js'
import { invalid, ScopeCacheError, scopeFull, tooLarge } from './errors.js'
import { idCapFull, type IdTable } from './id-table.js'
import {
  B_TAG, BLOCK_HEADER_BYTES, F_PREV_FREE, IF_ASCII, IF_STRING, ITEM_HEADER_BYTES,
  itemBytes, TAG_ITEM,
} from './layout.js'
import { ttlArg } from './expiry.js'
import { setItemSeqTs, writeItemHeader } from './item-record.js'
import { MESSAGES } from './limits.js'
import { preparePayload, rawJsonText, type Prepared } from './payload.js'
import type { WarmItem } from './types.js'
import { keyProblem, utf8Length } from './validate.js'

/** Payload length bits of `plen`; the high bits hold IF_ASCII / IF_STRING. */
export const PLEN_MASK = 0x3fffffff
export const PLEN_FLAGS_SHIFT = 30

/** One scope of a batch: what it holds, then the blocks built for it. */
export interface BulkGroup {
  scope: string
  /** items of this scope, and where they start in `order` */
  count: number
  first: number
  idCount: number
  /** Σ item block bytes */
  itemBytes: number
  bytes: number
  name: number
  nameSize: number
  ent: number
  entCap: number
  tab: number
  tabCap: number
  /** the scope's lastSeq the items were numbered after (read before the build; checked under its lock) */
  lastSeq: number
  /** items built with an expiry, and the earliest (µs; the record's S_EXP_ITEMS and S_EXP_MIN_F) */
  expCount: number
  expMin: number
}

export interface BulkBatch {
  /** items.length; the arrays below may be longer (reused scratch) */
  n: number
  groups: BulkGroup[]
  /** per item (input index): id, payload source (text or bytes), payload start in bytes, length | flags, block bytes, group */
  ids: (string | null)[]
  pay: (string | Uint8Array)[]
  pStart: Int32Array | null
  plen: Int32Array
  size: Int32Array
  /** per item: its TTL in ms (0: none), when any item has one */
  ttl: Float64Array | null
  grp: Int32Array
  /** input indexes grouped by scope (group order, input order within a group) */
  order: Int32Array
  /** room for the build's item block refs (bulk-commit.ts), one per entry of `order` */
  refs: Int32Array
  /** whether the arrays are this thread's scratch (releaseBatch gives them back) */
  scratch: boolean
}

/**
 * This thread's arrays for a batch, kept for the next one: fresh large arrays cost a page fault per
 * 4 KB on first touch (~15 µs each on this VM class: 60–100 ns per item for `new Array(n)`).
 * A batch whose preparation re-enters warm (a payload's toJSON) gets fresh arrays instead.
 */
interface Scratch {
  ids: (string | null)[]
  pay: (string | Uint8Array | null)[]
  plen: Int32Array
  size: Int32Array
  grp: Int32Array
  order: Int32Array
  refs: Int32Array
}
// Weakly held: back-to-back warms reuse it, a major GC may take it back (1 M items: ~36 MB).
let kept: WeakRef<Scratch> | null = null
let scratch: Scratch | null = null
let scratchBusy = false

function takeScratch(n: number): Scratch | null {
  if (scratchBusy) return null
  scratch = kept?.deref() ?? null
  if (scratch === null || scratch.plen.length < n) {
    const cap = Math.max(1024, n, scratch === null ? 0 : Math.min(2 * scratch.plen.length, 1 << 26))
    scratch = {
      ids: new Array<string | null>(cap).fill(null), pay: new Array<string | Uint8Array | null>(cap).fill(null),
      plen: new Int32Array(cap), size: new Int32Array(cap), grp: new Int32Array(cap), order: new Int32Array(cap), refs: new Int32Array(cap),
    }
    kept = new WeakRef(scratch)
  }
  scratchBusy = true
  return scratch
}

/** Gives a batch's scratch arrays back (dropping its references to the caller's strings). */
export function releaseBatch(b: BulkBatch): void {
  if (!b.scratch) return
  b.scratch = false
  const sc = scratch as Scratch
  sc.ids.fill(null, 0, b.n)
  sc.pay.fill(null, 0, b.n)
  scratch = null // strong only while in use
  scratchBusy = false
}

export interface BulkLimits {
  maxItemBytes: number
  scopeMaxItems: number
  maxScopes: number
  /** for the store_full details of a batch over maxScopes */
  chargedBytes: () => number
  maxStoreBytes: number
}

/** Validates and measures a batch; throws the first problem in the reference's order. */
export function prepareBatch(items: readonly WarmItem[], op: 'warm' | 'rebuild', lim: BulkLimits): BulkBatch {
  if (!Array.isArray(items)) throw invalid(`${op} needs an array of items`)
  const n = items.length
  const groups: BulkGroup[] = []
  const sc = takeScratch(n)
  const b: BulkBatch = sc === null
    ? {
      n, groups, ids: new Array<string | null>(n), pay: new Array<string | Uint8Array>(n), pStart: null, plen: new Int32Array(n),
      size: new Int32Array(n), ttl: null, grp: new Int32Array(n), order: new Int32Array(n), refs: new Int32Array(n), scratch: false,
    }
    : {
      n, groups, ids: sc.ids, pay: sc.pay as (string | Uint8Array)[], pStart: null, plen: sc.plen.subarray(0, n), size: sc.size.subarray(0, n),
      ttl: null, grp: sc.grp.subarray(0, n), order: sc.order, refs: sc.refs, scratch: true,
    }
  try {
    fillBatch(b, items, lim)
  } catch (e) {
    releaseBatch(b)
    throw e
  }
  return b
}

function fillBatch(b: BulkBatch, items: readonly WarmItem[], lim: BulkLimits): void {
  const { n, groups } = b
  const byScope = new Map<string, number>()
  b.grp.fill(-1)
  let lastScope: unknown
  let gi = -1
  for (let i = 0; i < n; i++) {
    const it = items[i]
    if (it === undefined && !(i in items)) continue // forEach semantics: holes are skipped
    if (it === null || typeof it !== 'object') throw invalid(`item at index ${i}: must be an object`)
    const scope = it.scope
    if (scope !== lastScope || gi < 0) {
      // a scope's own rule is reported bare, before any of its items
      const sp = typeof scope !== 'string' || scope === '' ? MESSAGES.scopeRequired : byScope.has(scope) ? null : keyProblem(scope, 'scope')
      if (sp !== null) throw invalid(sp)
      const s = scope as string
      let g = byScope.get(s)
      if (g === undefined) {
        g = groups.length
        byScope.set(s, g)
        groups.push({ scope: s, count: 0, first: 0, idCount: 0, itemBytes: 0, bytes: 0, name: 0, nameSize: 0, ent: 0, entCap: 0, tab: 0, tabCap: 0, lastSeq: 0, expCount: 0, expMin: 0 })
      }
      gi = g
      lastScope = scope
    }
    const g = groups[gi]
    const k = g.count // the item's index within its scope
    const raw = it.id
    const id = raw === undefined || raw === null || raw === '' ? null : raw
    if (id !== null) {
      const ip = typeof id !== 'string' ? "the 'id' field must be a string" : keyProblem(id, 'id')
      if (ip !== null) throw itemError(scope, k, ip)
    }
    let text: string | null
    let p: Prepared | null = null
    let plen: number
    try {
      text = rawJsonText(it.payload) // no object per item for rawJson(text), the common bulk input
      if (text === null) {
        p = preparePayload(it.payload)
        text = p.text
      }
    } catch (e) {
      throw itemError(scope, k, (e as Error).message.replace(MESSAGES.invalidPrefix, ''))
    }
    if (p === null) {
      const len = Buffer.byteLength(text as string, 'utf8')
      plen = len | (((len === (text as string).length ? IF_ASCII : 0) | ((text as string).charCodeAt(0) === 34 ? IF_STRING : 0)) << PLEN_FLAGS_SHIFT)
    } else plen = p.byteLength | (((p.ascii ? IF_ASCII : 0) | (p.isString ? IF_STRING : 0)) << PLEN_FLAGS_SHIFT)
    let ttl = 0
    if (it.ttlMs !== undefined) {
      try {
        ttl = ttlArg(it.ttlMs)
      } catch (e) {
        throw itemError(scope, k, (e as Error).message.replace(MESSAGES.invalidPrefix, ''))
      }
      ;(b.ttl ??= new Float64Array(n))[i] = ttl
    }
    const size = itemBytes(id === null ? 0 : utf8Length(id as string), plen & PLEN_MASK, ttl > 0)
    if (size > lim.maxItemBytes) throw itemError(scope, k, tooLarge(size, lim.maxItemBytes).message.replace(MESSAGES.invalidPrefix, ''), 'too_large')
    b.ids[i] = id as string | null
    if (text !== null) b.pay[i] = text
    else {
      b.pay[i] = (p as Prepared).bytes as Uint8Array
      ;(b.pStart ??= new Int32Array(n))[i] = (p as Prepared).start
    }
    b.plen[i] = plen
    b.size[i] = size
    b.grp[i] = gi
    g.count++
    g.itemBytes += size
    if (id !== null) g.idCount++
  }
  const over = groups.filter((g) => g.count > lim.scopeMaxItems)
  // a scope over its cap is not checked for duplicates (the reference skips its build)
  if (over.length > 0 || groups.length > lim.maxScopes) throwFirstDuplicate(b, n, lim.scopeMaxItems)
  if (over.length > 0) throw scopeFull(over.map((g) => ({ scope: g.scope, count: g.count, cap: lim.scopeMaxItems })))
  if (groups.length > lim.maxScopes) {
    throw new ScopeCacheError('store_full', MESSAGES.scopeTableFull(lim.maxScopes), {
      storeBytes: lim.chargedBytes(), addedBytes: 0, maxStoreBytes: lim.maxStoreBytes,
    })
  }
  // counting sort of the items by group
  let at = 0
  for (const g of groups) {
    g.first = at
    at += g.count
  }
  const order = b.order.subarray(0, at)
  const fill = new Int32Array(groups.length)
  const { grp } = b
  for (let k = 0; k < n; k++) {
    const g = grp[k]
    if (g >= 0) order[groups[g].first + fill[g]++] = k
  }
  b.order = order
  b.refs = b.refs.subarray(0, at)
}

/** An item's problem in the reference's bulk wording (MESSAGES.bulkItem), k counted within the scope. */
const itemError = (scope: unknown, k: number, reason: string, code: 'invalid_input' | 'too_large' = 'invalid_input'): ScopeCacheError =>
  new ScopeCacheError(code, MESSAGES.bulkItem(String(scope), k, reason))

/**
 * Throws the duplicate-id error of the first item before `upTo` whose id repeats one earlier in its
 * scope, among the scopes of at most `cap` items.
 */
export function throwFirstDuplicate(b: BulkBatch, upTo: number, cap = Infinity): void {
  const seen = b.groups.map(() => new Set<string>())
  for (let i = 0; i < upTo; i++) {
    const g = b.grp[i]
    const id = b.ids[i]
    if (g < 0 || id === null || id === undefined || b.groups[g].count > cap) continue
    if (seen[g].has(id)) throw invalid(`scope '${b.groups[g].scope}': duplicate 'id' value within scope: '${id}'`)
    seen[g].add(id)
  }
}

// ---------------------------------------------------------------------------------------- build ----

/** Largest block a scope's items are carved from; a heap with no block that large gets smaller ones. */
const CHUNK_BYTES = 1 << 20

/** The item blocks a build made, in build order; `n` counts only blocks already split off (freeable). */
export interface Built {
  refs: Int32Array
  n: number
}

export interface BuildViews {
  i32: Int32Array
  f64: Float64Array
  u8: Uint8Array
  buf: Buffer
  heap: Heap
}

/**
 * Writes a group's items (seqs from g.lastSeq + 1, ts) into PENDING blocks carved from as few
 * allocations as the heap allows, and their entries into g.ent; returns Σ item block bytes, or
 * -1 when the heap has no room even for one item (heap.refusedBytes says how much).
 *
 * A chunk is split into item blocks by writing every inner block header first (inside the
 * chunk's content, invisible to a heap walk) and shrinking the chunk's own header last: one
 * store turns one block into many, so the block chain is valid after every store (a reaper may
 * walk it if this thread dies mid-way) and the PENDING bytes do not change.
 */
export function carveGroup(v: BuildViews, b: BulkBatch, g: BulkGroup, ts: number, built: Built): number {
  const { i32, f64, u8, buf, heap } = v
  const { order, size, ids, pay, plen, pStart, ttl } = b
  g.expCount = 0
  g.expMin = 0
  const ew = g.ent * 2 + 2
  const n = g.count
  const first = g.first
  let total = 0
  let cap = CHUNK_BYTES
  let pos = 0
  while (pos < n) {
    let bytes = size[order[first + pos]]
    let end = pos + 1
    while (end < n && bytes + size[order[first + end]] <= cap) bytes += size[order[first + end++]]
    const chunk = heap.alloc(bytes - BLOCK_HEADER_BYTES, TAG_ITEM, PENDING)
    if (chunk <= 0) {
      if (end - pos === 1) return -1
      cap = bytes >> 1 // a smaller chunk may fit where this one did not
      continue
    }
    const got = heap.sizeOf(chunk)
    const tag = i32[chunk * 2 + B_TAG]
    let at = chunk
    let r = built.n
    for (let k = pos; k < end; k++) {
      const i = order[first + k]
      const s = k === end - 1 ? got - (at - chunk) * 8 : size[i]
      const w = at * 2
      if (k > pos) {
        i32[w] = s
        i32[w + B_TAG] = tag
      }
      // the item: id, payload, then its header fields
      const off = at * 8 + ITEM_HEADER_BYTES
      const id = ids[i]
      let idBytes = 0
      if (id !== null) {
        const len = id.length
        for (; idBytes < len; idBytes++) {
          const c = id.charCodeAt(idBytes)
          if (c > 0x7f) break
          u8[off + idBytes] = c
        }
        if (idBytes < len) idBytes = buf.write(id, off, 'utf8')
      }
      const pl = plen[i]
      const len = pl & PLEN_MASK
      const flags = pl >>> PLEN_FLAGS_SHIFT
      const p = pay[i]
      if (typeof p === 'string') buf.write(p, off + idBytes, len, (flags & IF_ASCII) !== 0 ? 'latin1' : 'utf8')
      else {
        const st = (pStart as Int32Array)[i]
        u8.set(p.subarray(st, st + len), off + idBytes)
      }
      // the expiry counts from the build's ts (a warm that commits late keeps it: reseqGroup moves only seq and ts)
      const expires = ttl !== null && ttl[i] > 0 ? ts + ttl[i] * 1000 : 0
      if (expires > 0 && (g.expCount++ === 0 || expires < g.expMin)) g.expMin = expires
      writeItemHeader(i32, at, s, g.lastSeq + 1 + k, ts, idBytes, len, flags, expires, f64)
      i32[ew + k] = at
      built.refs[r++] = at
      at += s >> 3
    }
    if (end - pos > 1) {
      // The split, under the allocator lock: a neighbour's free or take sets or clears this
      // header's F_PREV_FREE under that lock, and a read-modify-write beside it could undo either.
      try {
        heap.lock()
      } catch (e) {
        built.n++ // the chunk (its first item's ref), unsplit: freed with the build's other blocks
        throw e
      }
      i32[chunk * 2] = (i32[chunk * 2] & F_PREV_FREE) | size[order[first + pos]]
      heap.unlock()
    }
    built.n = r
    total += got
    pos = end
  }
  return total
}

/** Rewrites the seqs (and ts) of a built group's items: its scope's lastSeq moved since the build. */
export function reseqGroup(i32: Int32Array, g: BulkGroup, lastSeq: number, ts: number): void {
  const ew = g.ent * 2 + 2
  for (let k = 0; k < g.count; k++) {
    const at = i32[ew + k]
    setItemSeqTs(i32, at, lastSeq + 1 + k, ts)
  }
  g.lastSeq = lastSeq
}

/**
 * Builds a group's id table from its entries, in the id table's private memory (`ids.install`
 * copies it into its block); returns its slot count, or -1 when an id repeats (a duplicate).
 */
export function tableGroup(i32: Int32Array, ids: IdTable, b: BulkBatch, g: BulkGroup, hashId: (id: string) => number): number {
  const { order } = b
  const ew = g.ent * 2 + 2
  let n = 0
  for (let k = 0; k < g.count; k++) {
    const id = b.ids[order[g.first + k]]
    if (id !== null) ids.pair(n++, hashId(id), i32[ew + k])
  }
  const cap = ids.build(n, idCapFull(n), true)
  return cap < 0 ? -1 : cap
}
