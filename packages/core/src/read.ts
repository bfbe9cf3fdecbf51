/**
 * Reads: optimistic, lock-free, validated by the scope's seqlock.
 *
 * A read loads the scope's S_VER (even = no writer inside a publish window), reads what it needs,
 * and keeps the answer only if S_VER did not move meanwhile; otherwise it retries, with backoff,
 * and after MAX_OPTIMISTIC lost races it reads under the scope lock (`locked`). Everything read
 * from shared memory is range-checked and every loop is bounded, so a racing writer can make a
 * read retry but never throw or hang. Reads write nothing shared (read counts: read-tally.ts).
 *
 * The point read (`point`: one item by id or seq) is the hot path and is written out in one place:
 * no closure, no query object, the id probe and compare inline, the last scope remembered. The
 * payload texts and ids it decoded are kept in a small per-thread cache keyed by the item's block
 * and header words (read-strings.ts: a block freed and allocated again is a different key, so a
 * stale string is never served); an id probe that meets a cached block compares the id with the
 * cached id string (`===`) instead of the id's bytes.
 */
import { Buffer } from 'node:buffer'
import type { Directory } from './directory.js'
import { CLOSED } from './directory.js'
import * as faults from './fault.js'
import * as idTable from './id-table.js'
import * as record from './item-record.js'
import * as keys from './keys.js'
import * as layout from './layout.js'
import * as memory from './memory.js'
import type { Views } from './memory.js'
import * as base from './read-base.js'
import { ItemOut, readBackoff, type Format, type SliceBuffer } from './read-base.js'
import { SC_MAX_BYTES, StringCache } from './read-strings.js'
import type { ReadTally } from './read-tally.js'
import type { PageWindow } from './page-window.js'
import type { ScopeIndex } from './scope-index.js'
import type { Item, Page } from './types.js'

// V8 reads an imported binding through its module's cell, with a hole check, on every use (it
// cannot prove the exporting module ran first); a module's own const it folds to its value. So
// what the hot paths use is copied into module consts here (−6 % of a hot getRaw's instructions).
const { fault } = faults
const { MAX_PROBE } = idTable
const { expiryIndex, flagsOf, idLenOf, itemIdLen, join53, payloadLenOf } = record
const { hashKey, idEquals } = keys
const {
  I_EXPIRES, I_SEQ_HI, I_SEQ_LO, I_TS_HI, I_TS_LO, ID_TOMB, idRefMask, IF_ASCII, ITEM_HEADER_BYTES, S_EXP_ITEMS, S_GEN,
  S_ID_CAP, S_ID_REF, S_VER, SCOPE_WORDS,
} = layout
const { WEAK_ORDER } = memory
const { HIT, MAX_OPTIMISTIC, MISS, NO_SCOPE, RETRY } = base

export interface ReaderDeps {
  v: Views
  dir: Directory
  idx: ScopeIndex
  tally: ReadTally
  scopesW: number
  idSeed: number
  /** A word only this thread writes: an atomic RMW on it is the fence on weakly ordered CPUs. */
  fenceWord: number
  /** Runs `visit` under the scope's lock (the fallback after MAX_OPTIMISTIC lost races). */
  locked: (scope: string, visit: (rec: number) => number) => number
  /** Throws `closed` when the handle was closed. */
  checkOpen: () => void
  /** The handle's clock (µs), asked only about items that carry an expiry (expiry.ts). */
  clock: { now(): number }
}

export class Reader {
  readonly out = new ItemOut()
  private readonly i32: Int32Array
  private readonly f64: Float64Array
  private readonly u8: Uint8Array
  private readonly buf: SliceBuffer
  private readonly lo8: number
  private readonly hi8: number
  /** The item-ref bits of an id table slot (layout.ts idRefMask) */
  private readonly refMask: number
  private readonly scopesW: number
  private readonly idSeed: number
  private readonly fenceWord: number
  private readonly tally: ReadTally
  // the last scope a point read resolved (slot < 0: none)
  private memoName = ''
  private memoSlot = -1
  private memoGen = 0
  // the decoded-string cache, and the entry an id probe found there (-1: none)
  private readonly sc = new StringCache()
  private hitAt = -1
  // the locked fallback's query (rare path: a closure over these fields)
  private qBy: string | number = 0
  private qH = 0
  private qFormat: Format = 'raw'

  constructor(private readonly d: ReaderDeps) {
    this.i32 = d.v.i32
    this.f64 = d.v.f64
    this.u8 = d.v.u8
    this.buf = d.v.buf as SliceBuffer
    this.lo8 = d.idx.lo8
    this.hi8 = d.idx.hi8
    this.refMask = idRefMask(d.idx.hi8)
    this.scopesW = d.scopesW
    this.idSeed = d.idSeed
    this.fenceWord = d.fenceWord
    this.tally = d.tally
  }

  /** Forgets the remembered scope (the handle closes). */
  forget(): void {
    this.memoSlot = -1
    this.memoName = ''
  }

  /** The item `point` just read into `out`, as the public Item of `scope` (payload parsed unless raw). */
  item(scope: string, format: Format): Item {
    const o = this.out
    return { scope, id: o.id, seq: o.seq, ts: o.ts, expiresTs: o.expires === 0 ? null : o.expires, payload: format === 'parsed' ? JSON.parse(o.text) : o.text }
  }

  /**
   * getRaw by id: the payload's text, or undefined. One optimistic attempt on the remembered scope,
   * written for the hot case — an id whose item is in the string cache, so nothing is decoded, no
   * id byte is compared and `out` is not written; anything else in that attempt (no remembered
   * scope, a writer inside its window, a retry) goes the general way (`point`).
   */
  rawById(scope: string, id: string): string | undefined {
    const slot = scope === this.memoName ? this.memoSlot : -1
    if (slot >= 0) {
      const h = hashKey(id, this.idSeed)
      const { i32, sc } = this
      const rec = this.scopesW + slot * SCOPE_WORDS
      const v = Atomics.load(i32, rec + S_VER)
      if ((v & 1) === 0 && i32[rec + S_GEN] === this.memoGen) {
        this.sc.staged = 0
        let text: string | undefined
        let r: number
        try {
          const item = this.idRef(rec, id, h)
          const e = this.hitAt
          if (item <= 0) r = item === 0 ? MISS : RETRY
          else if (e >= 0 && (sc.word(e, I_TS_HI) & I_EXPIRES) === 0) {
            text = sc.text[e]
            r = HIT
          } else {
            r = e >= 0 ? this.copyHit(item, e, id) : this.copyOne(item, 'raw', id)
            text = this.out.text
          }
        } catch {
          r = RETRY
        }
        fault('read:copying')
        if (WEAK_ORDER) Atomics.add(i32, this.fenceWord, 0)
        if (r !== RETRY && Atomics.load(i32, rec + S_VER) === v) {
          if (r === MISS) return undefined
          this.tally.count(slot, this.memoGen)
          if (this.sc.staged !== 0) this.sc.commit(text as string, id)
          return text
        }
      }
    }
    return this.point(scope, id, 'raw') ? this.out.text : undefined
  }

  /** Reads one item, by id (a string) or seq (a number), into `out`; false on a miss. */
  point(scope: string, by: string | number, format: Format): boolean {
    let slot = scope === this.memoName ? this.memoSlot : -1
    let gen = this.memoGen
    if (slot < 0) {
      if (typeof scope !== 'string' || scope === '') return this.noScope(-1)
      slot = this.d.dir.resolve(scope)
      if (slot < 0) return this.noScope(slot)
      gen = this.d.dir.gen
      this.memoName = scope
      this.memoSlot = slot
      this.memoGen = gen
    }
    const byId = typeof by === 'string'
    const h = byId ? hashKey(by, this.idSeed) : 0
    const { i32 } = this
    for (let attempt = 0; attempt < MAX_OPTIMISTIC; attempt++) {
      if (attempt > 0) readBackoff(attempt)
      const rec = this.scopesW + slot * SCOPE_WORDS
      const v = Atomics.load(i32, rec + S_VER)
      if ((v & 1) !== 0) continue
      if (i32[rec + S_GEN] !== gen) {
        // dropped or replaced since we remembered it: look it up again
        this.forget()
        this.d.dir.forget(scope)
        slot = this.d.dir.resolve(scope)
        if (slot < 0) return false
        gen = this.d.dir.gen
        continue
      }
      this.sc.staged = 0
      this.hitAt = -1
      let r: number
      try {
        const item = byId ? this.idRef(rec, by, h) : this.seqRef(rec, by)
        r = item <= 0 ? (item === 0 ? MISS : RETRY) : this.hitAt >= 0 && format !== 'bytes' ? this.copyHit(item, this.hitAt, by as string) : this.copyOne(item, format, byId ? by : undefined)
      } catch {
        r = RETRY // garbage from a racing writer
      }
      fault('read:copying')
      if (WEAK_ORDER) Atomics.add(i32, this.fenceWord, 0)
      if (r !== RETRY && Atomics.load(i32, rec + S_VER) === v) {
        if (r === MISS) return false
        this.tally.count(slot, gen)
        if (this.sc.staged !== 0) this.sc.commit(this.out.text, this.out.id)
        return true
      }
    }
    this.qBy = by
    this.qH = h
    this.qFormat = format
    return this.d.locked(scope, this.visitOne) === HIT
  }

  private readonly visitOne = (rec: number): number => {
    const by = this.qBy
    const item = typeof by === 'string' ? this.idRef(rec, by, this.qH) : this.seqRef(rec, by)
    if (item <= 0) return MISS
    this.sc.staged = 0 // nothing is cached from a locked read: it is rare
    if (this.hitAt >= 0 && this.qFormat !== 'bytes') return this.copyHit(item, this.hitAt, by as string)
    return this.copyOne(item, this.qFormat, typeof by === 'string' ? by : undefined)
  }

  /**
   * Runs `visit` (HIT, MISS or RETRY) on a scope's record and keeps its answer only if the scope's
   * seqlock did not move meanwhile. No key validation: every stored name passed it on the way in,
   * so an invalid one simply finds nothing (reads are permissive by contract). A HIT counts as a
   * read. Returns NO_SCOPE when the scope does not exist.
   */
  validated(scope: string, visit: (rec: number) => number): number {
    if (typeof scope !== 'string' || scope === '') return this.noScope(-1) ? HIT : NO_SCOPE
    const { dir } = this.d
    let slot = dir.resolve(scope)
    if (slot < 0) return this.noScope(slot) ? HIT : NO_SCOPE
    let gen = dir.gen
    const { i32 } = this
    for (let attempt = 0; attempt < MAX_OPTIMISTIC; attempt++) {
      if (attempt > 0) readBackoff(attempt)
      const rec = this.d.scopesW + slot * SCOPE_WORDS
      const v = Atomics.load(i32, rec + S_VER)
      if ((v & 1) !== 0) continue
      if (i32[rec + S_GEN] !== gen) {
        dir.forget(scope)
        slot = dir.resolve(scope)
        if (slot < 0) return NO_SCOPE
        gen = dir.gen
        continue
      }
      let r: number
      try {
        r = visit(rec)
      } catch {
        r = RETRY
      }
      fault('read:copying')
      if (WEAK_ORDER) Atomics.add(i32, this.d.fenceWord, 0)
      if (r !== RETRY && Atomics.load(i32, rec + S_VER) === v) {
        if (r === HIT) this.d.tally.count(slot, gen)
        return r
      }
    }
    return this.d.locked(scope, visit)
  }

  /**
   * The items of a scope's seq order that `window` picks; parsed unless `raw`. A scope with items
   * that carry an expiry takes the window's `live` path: expired items are skipped, as if gone.
   */
  page(scope: string, raw: boolean, window: PageWindow): Page {
    const { idx } = this.d
    const { out } = this
    let items: Item[] = []
    let truncated = false
    const picked: number[] = []
    const r = this.validated(scope, (rec) => {
      if (!idx.entriesSane(rec)) return RETRY
      items = []
      if (this.i32[rec + S_EXP_ITEMS] === 0) {
        const [from, to, more] = window.range(rec)
        truncated = more
        for (let k = from; k < to; k++) {
          if (this.copyOne(idx.refAt(rec, k), 'raw', undefined) !== HIT) return RETRY
          items.push({ scope, id: out.id, seq: out.seq, ts: out.ts, expiresTs: null, payload: out.text })
        }
        return items.length > 0 ? HIT : MISS
      }
      // one instant for the whole page: an item the window counts as live is copied as live
      const now = this.d.clock.now()
      picked.length = 0
      truncated = window.live(rec, (k) => this.liveAt(idx.refAt(rec, k), now), picked)
      for (const k of picked) {
        if (this.copyOne(idx.refAt(rec, k), 'raw', undefined, now) !== HIT) return RETRY
        items.push({ scope, id: out.id, seq: out.seq, ts: out.ts, expiresTs: out.expires === 0 ? null : out.expires, payload: out.text })
      }
      return items.length > 0 ? HIT : MISS
    })
    if (r === NO_SCOPE) return { items: [], truncated: false }
    // parsed only once the copy is known to be whole (a torn copy must never reach JSON.parse)
    if (!raw) for (const it of items) it.payload = JSON.parse(it.payload as string)
    return { items, truncated }
  }

  /**
   * Item ref of `id` in the scope's id table (id-table.ts: one word per slot, tag | ref): > 0
   * found, 0 absent, -1 garbage (retry). Only a slot whose tag matches the hash's touches its item;
   * when that item is in the string cache its cached id decides (and `hitAt` names the entry),
   * else its id bytes are compared.
   */
  private idRef(rec: number, id: string, h: number): number {
    const { i32, lo8, hi8, refMask, sc } = this
    this.hitAt = -1
    const tref = i32[rec + S_ID_REF]
    if (tref === 0) return 0
    const cap = i32[rec + S_ID_CAP]
    if (cap < 8 || (cap & (cap - 1)) !== 0 || tref < lo8 || tref + 1 + (cap >> 1) > hi8) return -1
    const w = tref * 2 + 2
    const mask = cap - 1
    const hi = ~refMask
    for (let n = 0, i = h & mask, lim = cap < MAX_PROBE ? cap : MAX_PROBE; n < lim; n++, i = (i + 1) & mask) {
      const s = i32[w + i]
      if (s === 0) return 0
      if (((s ^ h) & hi) === 0 && s !== ID_TOMB) {
        const r = s & refMask
        if (r < lo8 || r >= hi8) return -1
        const e = sc.find(i32, r)
        if (e >= 0) {
          if (sc.id[e] !== id) continue
          this.hitAt = e
          return r
        }
        const same = this.idAt(r, id)
        if (same !== 0) return same > 0 ? r : -1
      }
    }
    return 0
  }

  /** 1 when the item at `r` (in the heap) has the id `id`, 0 when not, -1 when its length is garbage. */
  private idAt(r: number, id: string): number {
    const idLen = itemIdLen(this.i32, r)
    const off = r * 8 + ITEM_HEADER_BYTES
    if (off + idLen > this.hi8 * 8) return -1
    return idEquals(this.u8, off, idLen, id) ? 1 : 0
  }

  /** Item ref of `seq`: > 0 found, 0 absent, -1 garbage (retry). */
  private seqRef(rec: number, seq: number): number {
    const { idx } = this.d
    if (!idx.entriesSane(rec)) return -1
    const pos = idx.findSeq(rec, seq)
    return pos < 0 ? 0 : idx.refAt(rec, pos)
  }

  /** False when the item at `ref` carries an expiry that `now` has reached (garbage throws: a retry). */
  private liveAt(ref: number, now: number): boolean {
    if (ref < this.lo8 || ref >= this.hi8) throw new RangeError('torn')
    if ((this.i32[ref * 2 + I_TS_HI] & I_EXPIRES) === 0) return true
    const at = expiryIndex(ref, this.i32[ref * 2])
    if (at >= this.hi8) throw new RangeError('torn')
    return this.f64[at] > now
  }

  /**
   * Copies an item into `out`: HIT, MISS when it has expired (at `now`, µs; 0: ask the clock), or
   * RETRY when its record is not sane (a racing writer).
   */
  private copyOne(item: number, format: Format, knownId: string | undefined, now = 0): number {
    const { i32, out, buf } = this
    if (item < this.lo8 || item >= this.hi8) return RETRY
    // the 24-byte header (item-record.ts), each word loaded once
    const w = item * 2
    const sizeWord = i32[w]
    const seqHi = i32[w + I_SEQ_HI]
    const tsHi = i32[w + I_TS_HI]
    // an item without an expiry (every item of a store that uses none) pays this one test
    if ((tsHi & I_EXPIRES) !== 0) {
      const at = expiryIndex(item, sizeWord)
      if (at >= this.hi8) return RETRY
      const expires = this.f64[at]
      if (expires <= (now === 0 ? this.d.clock.now() : now)) return MISS
      out.expires = expires
    } else out.expires = 0
    const idLen = idLenOf(seqHi)
    const len = payloadLenOf(sizeWord, idLen, tsHi)
    const a = item * 8 + ITEM_HEADER_BYTES + idLen
    const b = a + len
    if (len < 0 || b > this.hi8 * 8) return RETRY
    const seqLo = i32[w + I_SEQ_LO]
    const tsLo = i32[w + I_TS_LO]
    out.seq = join53(seqLo, seqHi)
    out.ts = join53(tsLo, tsHi)
    // an id read that gets here found no entry in its probe (idRef); other reads look one up
    const e = knownId === undefined ? this.sc.find(i32, item) : -1
    out.id = idLen === 0 ? null : knownId ?? (e >= 0 ? this.sc.id[e] : buf.utf8Slice(a - idLen, a))
    if (format === 'bytes') {
      // allocUnsafe + set: a quarter of `new Uint8Array(n)` (which zero-fills through the C++ allocator)
      const bytes = Buffer.allocUnsafe(len)
      bytes.set(this.u8.subarray(a, b))
      out.bytes = bytes
      return HIT
    }
    if (e >= 0) {
      out.text = this.sc.text[e]
      return HIT
    }
    out.text = (flagsOf(seqHi) & IF_ASCII) !== 0 ? buf.latin1Slice(a, b) : buf.utf8Slice(a, b)
    if (len <= SC_MAX_BYTES) this.sc.stage(i32, item)
    return HIT
  }

  /**
   * copyOne for an item whose string-cache entry `e` an id probe found (its header words equal the
   * entry's key, so the entry's strings are this item's): only the expiry is read from the block.
   */
  private copyHit(item: number, e: number, id: string): number {
    const { out, sc } = this
    const tsHi = sc.word(e, I_TS_HI)
    if ((tsHi & I_EXPIRES) !== 0) {
      // the expiry is the one word an allocated item block may change (touch), so it is read each time
      const at = expiryIndex(item, this.i32[item * 2])
      if (at >= this.hi8) return RETRY
      const expires = this.f64[at]
      if (expires <= this.d.clock.now()) return MISS
      out.expires = expires
    } else out.expires = 0
    out.seq = join53(sc.word(e, I_SEQ_LO), sc.word(e, I_SEQ_HI))
    out.ts = join53(sc.word(e, I_TS_LO), tsHi)
    out.id = id
    out.text = sc.text[e]
    return HIT
  }

  /** A read that found no scope: false, unless the handle is closed (only the miss path checks it). */
  private noScope(slot: number): false {
    if (slot === CLOSED) this.d.checkOpen()
    return false
  }
}
