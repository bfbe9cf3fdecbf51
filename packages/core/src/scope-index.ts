/**
 * One scope's seq index (its entries array, in a heap block) and the item record accessors; the
 * other index, id → item, is id-table.ts.
 *
 *   entries (seq order)                     id table (open addressing, linear probing)
 *   ┌──────────┬──────────┐                 ┌─────┬──────────┐
 *   │ seq-base │ item ref │ ← S_ENT_START   │ tag │ item ref │  0 = empty, -1 = tombstone
 *   │   ...    │   ...    │   S_COUNT live  │ ... │   ...    │  (one 32-bit word per slot)
 *   └──────────┴──────────┘                 └─────┴──────────┘
 *
 * Seqs in a scope are strictly increasing and only deletes open holes, so the item with seq s
 * sits at position ≤ s − first: a direct probe finds it in O(1) unless holes moved it, then a
 * binary search over that prefix does. Trims advance S_ENT_START (O(removed)); appends fill the
 * tail, and a full array is copied into a fresh one (compacting or doubling) and swapped in.
 *
 * Every function here may run in an optimistic reader racing a writer, so each index it reads
 * from shared memory is range-checked and each loop is bounded: garbage means "miss", and the
 * caller's seqlock validation turns that into a retry.
 */
import {
  I_ID_LEN_FLAGS, I_PAYLOAD_LEN, I_SEQ_F, I_TS_F, ITEM_HEADER_BYTES, S_COUNT, S_ENT_BASE_F,
  S_ENT_CAP, S_ENT_REF, S_ENT_START, S_ID_CAP, S_ID_REF, S_ID_USED,
} from './layout.js'

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
    return this.f64[ref + I_SEQ_F]
  }
  tsOf(ref: number): number {
    return this.f64[ref + I_TS_F]
  }
  payloadLen(ref: number): number {
    return this.i32[ref * 2 + I_PAYLOAD_LEN]
  }
  idLen(ref: number): number {
    return this.i32[ref * 2 + I_ID_LEN_FLAGS] & 0xffff
  }
  flags(ref: number): number {
    return this.i32[ref * 2 + I_ID_LEN_FLAGS] >>> 16
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
    return this.i32[this.entW(rec) + (this.i32[rec + S_ENT_START] + k) * 2 + 1]
  }

  seqAt(rec: number, k: number): number {
    return this.f64[(rec >> 1) + S_ENT_BASE_F] + this.i32[this.entW(rec) + (this.i32[rec + S_ENT_START] + k) * 2]
  }

  /** Entries array sane for a reader: inside the heap, positions within capacity. */
  entriesSane(rec: number): boolean {
    const { i32 } = this
    const count = i32[rec + S_COUNT]
    if (count === 0) return true
    const cap = i32[rec + S_ENT_CAP]
    const start = i32[rec + S_ENT_START]
    return count > 0 && start >= 0 && cap > 0 && start + count <= cap && this.inHeap(i32[rec + S_ENT_REF], cap * 8)
  }

  /** Position of `seq` among the live entries, or -1. Call only when entriesSane(rec). */
  findSeq(rec: number, seq: number): number {
    const count = this.i32[rec + S_COUNT]
    if (count <= 0) return -1
    const first = this.seqAt(rec, 0)
    if (seq < first) return -1
    let hi = Math.min(count - 1, seq - first)
    const s = this.seqAt(rec, hi)
    if (s === seq) return hi
    if (s < seq) return -1
    let lo = 0
    hi -= 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const m = this.seqAt(rec, mid)
      if (m === seq) return mid
      if (m < seq) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  /** First position whose seq is > `seq` (count when none). */
  firstAfter(rec: number, seq: number): number {
    let lo = 0
    let hi = this.i32[rec + S_COUNT]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.seqAt(rec, mid) <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Detaches a scope record from its items and index arrays (count 0, no entries, no id table). */
  static clear(i32: Int32Array, rec: number): void {
    i32[rec + S_COUNT] = 0
    i32[rec + S_ENT_REF] = 0
    i32[rec + S_ENT_CAP] = 0
    i32[rec + S_ENT_START] = 0
    i32[rec + S_ID_REF] = 0
    i32[rec + S_ID_CAP] = 0
    i32[rec + S_ID_USED] = 0
  }
}
