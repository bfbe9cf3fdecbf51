/**
 * One scope's seq index (its entries array, in a heap block) and the item record accessors; the
 * other index, id → item, is id-table.ts.
 *
 *   entries (seq order)                     id table (open addressing, linear probing)
 *   ┌──────────┐                            ┌─────┬──────────┐
 *   │ item ref │ ← S_ENT_START: seq first   │ tag │ item ref │  0 = empty, -1 = tombstone
 *   │   ...    │   S_COUNT live             │ ... │   ...    │  (one 32-bit word per slot)
 *   └──────────┘                            └─────┴──────────┘
 *
 * An entry is the item's ref alone (4 bytes). Seqs in a scope are strictly increasing and only a
 * delete opens a hole (a missing seq between the first and the last live item), so the record keeps
 * the first live seq (S_FIRST_SEQ_F) and the number of holes (S_HOLES): with none, the seq of
 * position k is first + k and a read by seq is one index; with h, the item with seq s lies within
 * positions [s − first − h, s − first], found by a binary search that reads item seqs. Trims
 * advance S_ENT_START (O(removed)); appends fill the tail, and a full array is copied into a fresh
 * one (compacting or doubling) and swapped in.
 *
 * Every function here may run in an optimistic reader racing a writer, so each index it reads
 * from shared memory is range-checked and each loop is bounded: garbage means "miss", and the
 * caller's seqlock validation turns that into a retry.
 */
import {
  HOLES_MAX, ITEM_HEADER_BYTES, S_COUNT, S_ENT_CAP, S_ENT_REF,
  S_ENT_START, S_EXP_ITEMS, S_FIRST_SEQ_F, S_HOLES, S_ID_CAP, S_ID_REF, S_ID_USED, S_LAST_SEQ_F,
} from './layout.js'
import { itemFlags, itemIdLen, itemPayloadLen, itemSeq, itemTs } from './item-record.js'

export class ScopeIndex {
  constructor(
    readonly i32: Int32Array,
    readonly f64: Float64Array,
    readonly u8: Uint8Array,
    /** heap bounds in 8-byte units */
    readonly lo8: number,
    readonly hi8: number,
  ) {}

  /** True when a block of `bytes` content bytes at `ref` lies inside the heap. */
  inHeap(ref: number, bytes: number): boolean {
    return ref >= this.lo8 && ref * 8 + 8 + bytes <= this.hi8 * 8
  }

  // ---- item records --------------------------------------------------------------------------
  seqOf(ref: number): number {
    return itemSeq(this.i32, ref)
  }
  tsOf(ref: number): number {
    return itemTs(this.i32, ref)
  }
  payloadLen(ref: number): number {
    return itemPayloadLen(this.i32, ref)
  }
  idLen(ref: number): number {
    return itemIdLen(this.i32, ref)
  }
  flags(ref: number): number {
    return itemFlags(this.i32, ref)
  }
  /** Byte offset of the id; the payload follows it. */
  idStart(ref: number): number {
    return ref * 8 + ITEM_HEADER_BYTES
  }
  /** True when the item's lengths keep it inside the heap (reader sanity check). */
  itemSane(ref: number): boolean {
    if (ref < this.lo8 || ref >= this.hi8) return false
    const len = this.payloadLen(ref) + this.idLen(ref)
    return len >= 0 && ref * 8 + ITEM_HEADER_BYTES + len <= this.hi8 * 8
  }

  // ---- entries -------------------------------------------------------------------------------
  /** Word index of entry slot 0 of the scope's entries array. */
  entW(rec: number): number {
    return this.i32[rec + S_ENT_REF] * 2 + 2
  }

  /** Item ref at live position k (0 = oldest). */
  refAt(rec: number, k: number): number {
    return this.i32[this.entW(rec) + this.i32[rec + S_ENT_START] + k]
  }

  /** Seq at live position k: implicit while the scope has no holes, else the item's own. */
  seqAt(rec: number, k: number): number {
    if (this.i32[rec + S_HOLES] === 0) return this.f64[(rec >> 1) + S_FIRST_SEQ_F] + k
    return itemSeq(this.i32, this.refAt(rec, k)) // a garbage ref in a racing reader: a garbage seq, a miss
  }

  /** Entries array sane for a reader: inside the heap, positions within capacity. */
  entriesSane(rec: number): boolean {
    const { i32 } = this
    const count = i32[rec + S_COUNT]
    if (count === 0) return true
    const cap = i32[rec + S_ENT_CAP]
    const start = i32[rec + S_ENT_START]
    return count > 0 && start >= 0 && cap > 0 && start + count <= cap && this.inHeap(i32[rec + S_ENT_REF], cap * 4)
  }

  /**
   * Position of `seq` among the live entries, or -1. Call only when entriesSane(rec). The item at
   * position k has a seq in [first + k, first + k + holes], so a scope without holes answers at
   * once and one with h holes binary-searches a window of h + 1 positions (reading item seqs).
   */
  findSeq(rec: number, seq: number): number {
    const count = this.i32[rec + S_COUNT]
    if (count <= 0) return -1
    const first = this.f64[(rec >> 1) + S_FIRST_SEQ_F]
    const holes = this.i32[rec + S_HOLES]
    if (holes === 0) {
      const k = seq - first
      return k >= 0 && k < count && Math.floor(k) === k ? k : -1
    }
    let lo = Math.max(0, seq - first - holes)
    let hi = Math.min(count - 1, seq - first)
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2)
      const m = this.seqAt(rec, mid)
      if (m === seq) return mid
      if (m < seq) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  /** First position whose seq is > `seq` (count when none); searched in the window the holes allow. */
  firstAfter(rec: number, seq: number): number {
    const count = this.i32[rec + S_COUNT]
    if (count <= 0) return 0
    const d = Math.floor(seq) - this.f64[(rec >> 1) + S_FIRST_SEQ_F]
    let lo = Math.min(count, Math.max(0, d - this.i32[rec + S_HOLES] + 1))
    let hi = Math.min(count, Math.max(0, d + 1))
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      if (this.seqAt(rec, mid) <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Sets a locked scope's S_FIRST_SEQ_F and S_HOLES from its first and last live items, after its
   * entries changed (trim, delete). An empty scope's first seq is the next one it will get.
   */
  static setBounds(i32: Int32Array, f64: Float64Array, rec: number): void {
    const count = i32[rec + S_COUNT]
    const r2 = rec >> 1
    if (count === 0) {
      f64[r2 + S_FIRST_SEQ_F] = f64[r2 + S_LAST_SEQ_F] + 1
      i32[rec + S_HOLES] = 0
      return
    }
    const w = i32[rec + S_ENT_REF] * 2 + 2 + i32[rec + S_ENT_START]
    const first = itemSeq(i32, i32[w])
    f64[r2 + S_FIRST_SEQ_F] = first
    i32[rec + S_HOLES] = holesOf(first, itemSeq(i32, i32[w + count - 1]), count)
  }

  /** Detaches a scope record from its items and index arrays (count 0, no entries, no id table). */
  static clear(i32: Int32Array, rec: number): void {
    i32[rec + S_COUNT] = 0
    i32[rec + S_HOLES] = 0
    i32[rec + S_ENT_REF] = 0
    i32[rec + S_ENT_CAP] = 0
    i32[rec + S_ENT_START] = 0
    i32[rec + S_ID_REF] = 0
    i32[rec + S_ID_CAP] = 0
    i32[rec + S_ID_USED] = 0
    i32[rec + S_EXP_ITEMS] = 0
  }
}

/** S_HOLES for `count` items from seq `first` to seq `last` (capped: a larger count searches the whole scope). */
export const holesOf = (first: number, last: number, count: number): number => Math.min(HOLES_MAX, last - first + 1 - count)
