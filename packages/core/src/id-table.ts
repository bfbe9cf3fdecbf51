/**
 * A scope's id table: id → item, open addressing with linear probing over 4-byte slots, so a
 * 50 000-item scope's table is 256 KiB (it stays in L2 beside the items a reader touches).
 *
 *   slot (32 bits):  │ tag: the id hash's top 32−R bits │ item ref: R bits (8-byte units) │
 *   0 = empty, -1 (all ones) = tombstone: no item ref is all ones in R bits
 *   R = ID_REF_BITS(heap end) = the bit length of the heap's end in 8-byte units: at most 28 (the
 *   buffer is < 2^31 bytes), 25 for a 100 MiB store — so 4 to 7 tag bits, and a slot whose tag
 *   differs (15/16 to 127/128 of the other ids met on a probe) is passed without touching its item
 *
 *   bucket = hash & (cap − 1); an id sits at most MAX_PROBE − 1 slots past its bucket
 *
 * The table keeps no full hash: a rehash hashes each live id again from its bytes (keys.ts
 * hashStoredKey), walking the entries in seq order — the order items are usually allocated in, so
 * the reads run forward through memory. Load (live + tombstones) ≤ 0.8; an insert that would pass
 * it, or find no free slot within MAX_PROBE, rehashes to ≤ 0.625 (so tombstone churn rehashes at
 * most once per 0.175 × cap writes); a bulk build sizes its table to ≤ 0.8. Tables are built in
 * this thread's private memory and copied into their block, so a build that finds a probe longer
 * than MAX_PROBE simply doubles and starts again before anything is allocated.
 *
 * Readers run this racing writers: every index read from shared memory is range-checked, every
 * loop is bounded (by MAX_PROBE), and garbage means "miss" or "retry" (read.ts), never a throw.
 */
import type { SliceBuffer } from './read-base.js'
import { hashStoredKey, utf8Equals } from './keys.js'
import { itemIdLen } from './item-record.js'
import { ID_EMPTY, ID_TOMB, idRefMask, ITEM_HEADER_BYTES, S_ENT_START, S_ID_CAP, S_ID_REF } from './layout.js'
import type { ScopeIndex } from './scope-index.js'

/** The longest probe: an id is never more than MAX_PROBE − 1 slots past its bucket. */
export const MAX_PROBE = 1024

/** Slots of a table that holds `n` ids at load ≤ 0.8 (bulk builds). */
export const idCapFull = (n: number): number => pow2AtLeast(Math.ceil(n * 1.25))
/** Slots of a table rehashed on insert to hold `n` ids at load ≤ 0.625 (room to grow). */
export const idCapRoomy = (n: number): number => pow2AtLeast(Math.ceil(n * 1.6))
/** True when one more used slot would take a table of `cap` slots past load 0.8. */
export const idTableFull = (used: number, cap: number): boolean => (used + 1) * 5 > cap * 4

const pow2AtLeast = (n: number): number => Math.max(8, 2 ** Math.ceil(Math.log2(Math.max(1, n))))

export class IdTable {
  /** Low bits of a slot: the item ref. The rest (`hiMask`) holds the tag. */
  readonly refMask: number
  readonly hiMask: number
  /** Pairs for a build (hash, ref), then the table being built: this thread's, reused. */
  private hs = new Int32Array(64)
  private rs = new Int32Array(64)
  private tab = new Int32Array(64)
  /** The slot the last pair of the last build went to. */
  lastSlot = 0

  constructor(
    private readonly i32: Int32Array,
    private readonly u8: Uint8Array,
    private readonly buf: SliceBuffer,
    private readonly idx: ScopeIndex,
    private readonly seed: number,
  ) {
    this.refMask = idRefMask(idx.hi8)
    this.hiMask = ~this.refMask
  }

  /** The slot word for an item `ref` whose id hashes to `h`. */
  slotOf(h: number, ref: number): number {
    return (h & this.hiMask) | ref
  }

  refOf(slot: number): number {
    return slot & this.refMask
  }

  /** Hash of a stored item's id, from its bytes (the same as hashing the id string). */
  hashItem(ref: number): number {
    return hashStoredKey(this.u8, this.buf, ref * 8 + ITEM_HEADER_BYTES, itemIdLen(this.i32, ref), this.seed)
  }

  /** Word index of the slot holding `id` (hash `h`), or -1. Range-checked and bounded: safe in a reader. */
  find(rec: number, id: string, h: number): number {
    const { i32, idx, hiMask, refMask } = this
    const cap = i32[rec + S_ID_CAP]
    const tref = i32[rec + S_ID_REF]
    if (tref === 0 || cap < 8 || (cap & (cap - 1)) !== 0 || !idx.inHeap(tref, cap * 4)) return -1
    const w = tref * 2 + 2
    const mask = cap - 1
    for (let n = 0, i = h & mask, lim = Math.min(cap, MAX_PROBE); n < lim; n++, i = (i + 1) & mask) {
      const s = i32[w + i]
      if (s === ID_EMPTY) return -1
      if (s !== ID_TOMB && ((s ^ h) & hiMask) === 0) {
        const r = s & refMask
        if (idx.itemSane(r) && utf8Equals(this.u8, idx.idStart(r), idx.idLen(r), id)) return w + i
      }
    }
    return -1
  }

  /**
   * One probe of a locked scope's table for `id` (hash `h`): the word index of its slot when found
   * (≥ 0), else -1 - (word index of the slot an insert would take: the first tombstone or empty
   * slot within MAX_PROBE of the bucket; 0 when there is none, or no table: the insert rehashes).
   */
  probe(rec: number, id: string, h: number): number {
    const { i32, idx, hiMask, refMask } = this
    const tref = i32[rec + S_ID_REF]
    if (tref === 0) return -1
    const cap = i32[rec + S_ID_CAP]
    const mask = cap - 1
    const w = tref * 2 + 2
    let free = 0
    for (let n = 0, i = h & mask, lim = Math.min(cap, MAX_PROBE); n < lim; n++, i = (i + 1) & mask) {
      const s = i32[w + i]
      if (s === ID_EMPTY) return -1 - (free !== 0 ? free : w + i)
      if (s === ID_TOMB) {
        if (free === 0) free = w + i
      } else if (((s ^ h) & hiMask) === 0) {
        const r = s & refMask
        if (utf8Equals(this.u8, idx.idStart(r), idx.idLen(r), id)) return w + i
      }
    }
    return -1 - free
  }

  /** The word index of the slot that holds `item` (its id's hash `h`), or -1: what untable would tombstone. */
  slotOfItem(rec: number, item: number, h: number): number {
    const { i32, refMask } = this
    const w = i32[rec + S_ID_REF] * 2 + 2
    const cap = i32[rec + S_ID_CAP]
    const mask = cap - 1
    for (let n = 0, i = h & mask, lim = Math.min(cap, MAX_PROBE); n < lim; n++, i = (i + 1) & mask) {
      const s = i32[w + i]
      if (s === ID_EMPTY) return -1
      if (s !== ID_TOMB && (s & refMask) === item) return w + i
    }
    return -1
  }

  /** Tombstones `item`'s slot (its id hashes to `h`) in a locked scope's table. */
  untable(rec: number, item: number, h: number): void {
    const w = this.slotOfItem(rec, item, h)
    if (w >= 0) this.i32[w] = ID_TOMB
  }

  // ---- builds (writers): pairs gathered here, placed in private memory, copied into a block ----

  /** Makes room for `n` pairs, keeping those already set. */
  private reserve(n: number): void {
    if (this.hs.length >= n) return
    const m = Math.max(n, this.hs.length * 2)
    const hs = new Int32Array(m)
    const rs = new Int32Array(m)
    hs.set(this.hs)
    rs.set(this.rs)
    this.hs = hs
    this.rs = rs
  }

  /** Sets pair k. */
  pair(k: number, h: number, ref: number): void {
    this.reserve(k + 1)
    this.hs[k] = h
    this.rs[k] = ref
  }

  /** Gathers the pairs of a locked scope's live items that have ids (hashed from their bytes); returns their number. */
  gather(rec: number, count: number): number {
    const { i32 } = this
    this.reserve(count + 1)
    const w = this.idx.entW(rec) + i32[rec + S_ENT_START]
    let n = 0
    for (let k = 0; k < count; k++) {
      const r = i32[w + k]
      if (itemIdLen(i32, r) === 0) continue
      this.hs[n] = this.hashItem(r)
      this.rs[n++] = r
    }
    return n
  }

  /**
   * Places the first `n` pairs in a private table of at least `cap` slots, doubling it until every
   * id lies within MAX_PROBE of its bucket; returns the slot count. With `checkDup` (bulk builds,
   * where ids may repeat) returns -1 - k when pair k's id equals one placed before it.
   */
  build(n: number, cap: number, checkDup: boolean): number {
    const { hiMask, refMask, hs, rs } = this
    for (;;) {
      if (this.tab.length < cap) this.tab = new Int32Array(cap)
      const t = this.tab
      t.fill(0, 0, cap)
      const mask = cap - 1
      let k = 0
      for (; k < n; k++) {
        const h = hs[k]
        let i = h & mask
        let d = 0
        for (let s = t[i]; s !== 0; s = t[i]) {
          if (checkDup && ((s ^ h) & hiMask) === 0 && this.sameId(s & refMask, rs[k])) return -1 - k
          i = (i + 1) & mask
          if (++d === MAX_PROBE) break
        }
        if (d === MAX_PROBE) break
        t[i] = (h & hiMask) | rs[k]
        this.lastSlot = i
      }
      if (k === n) return cap
      if (cap >= 1 << 28) throw new Error('scopecache: id table cannot place its ids (internal bug)')
      cap *= 2
    }
  }

  /** Copies the table the last build placed (`cap` slots) into block `tref`. */
  install(tref: number, cap: number): void {
    this.i32.set(this.tab.subarray(0, cap), tref * 2 + 2)
  }

  /** True when items a and b have the same id bytes. */
  private sameId(a: number, b: number): boolean {
    const { i32, u8 } = this
    const n = itemIdLen(i32, a)
    if (itemIdLen(i32, b) !== n) return false
    const x = a * 8 + ITEM_HEADER_BYTES
    const y = b * 8 + ITEM_HEADER_BYTES
    for (let j = 0; j < n; j++) if (u8[x + j] !== u8[y + j]) return false
    return true
  }
}
