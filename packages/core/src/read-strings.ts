/**
 * The readers' decoded-string cache, one per thread: for an item read recently, its payload text
 * and its id as JS strings, so a hot read neither decodes the payload nor compares the id's bytes.
 *
 * An entry is keyed by the item's block (ref) and the five header words after its size word: the
 * block's tag word (owner thread + a per-thread allocation serial, alloc.ts), seq and ts (with
 * the id length, flags, pad and expiry bit above them). An item block's id and payload never
 * change while it is allocated, and a block freed and allocated again gets a new serial (and, if
 * the 16-bit serial ever wrapped, would still need the same seq and ts): so while those words in
 * shared memory equal an entry's, the block holds the very item the entry was filled from, and
 * the entry's text and id are that item's. Only reads validated by their scope's seqlock fill
 * entries, with the words as read inside the validated window.
 *
 * 2048 entries in sets of two (a block maps to one set; a new entry goes first and moves the one
 * it displaces to second): 64 KiB of keys; texts are kept only for payloads ≤ 2 KiB, so at most
 * ~4 MiB of strings per thread.
 */
import * as layout from './layout.js'

// module consts, not imported bindings, on the hot path (read.ts says why)
const { B_TAG, I_SEQ_HI, I_SEQ_LO, I_TS_HI, I_TS_LO } = layout

const SET_BITS = 10
const SIZE = 2 << SET_BITS
/** Words per entry in `key`: ref, then the five header words (the last two unused). */
const KW = 8
/** The longest payload (bytes) whose text is cached. */
export const SC_MAX_BYTES = 2048

export class StringCache {
  /** Entry e's key at words e*KW …: ref, tag word, seq low, seq high, ts low, ts high. */
  readonly key = new Int32Array(SIZE * KW)
  readonly text: string[] = new Array<string>(SIZE).fill('')
  readonly id: (string | null)[] = new Array<string | null>(SIZE).fill(null)
  /** Blocks missed once lately (by hash): a block is cached on its second miss, not its first. */
  private readonly seen = new Int32Array(SIZE)
  /** The block `stage` noted (0: none), and its header words. */
  staged = 0
  private sTag = 0
  private sSeqLo = 0
  private sSeqHi = 0
  private sTsLo = 0
  private sTsHi = 0

  /**
   * The entry of the block at `ref` whose key still equals its header words in `i32`, or -1.
   * `ref` must be in the heap (the caller range-checks it); a racing writer can make the words
   * garbage, which the caller's seqlock check then discards with the rest of the read.
   */
  find(i32: Int32Array, ref: number): number {
    const { key } = this
    let o = (Math.imul(ref, 0x9e3779b1) >>> (32 - SET_BITS)) * (2 * KW)
    if (key[o] !== ref) {
      o += KW
      if (key[o] !== ref) return -1
    }
    const w = ref * 2
    return key[o + B_TAG] === i32[w + B_TAG] &&
      key[o + I_SEQ_LO] === i32[w + I_SEQ_LO] &&
      key[o + I_SEQ_HI] === i32[w + I_SEQ_HI] &&
      key[o + I_TS_LO] === i32[w + I_TS_LO] &&
      key[o + I_TS_HI] === i32[w + I_TS_HI]
      ? o / KW
      : -1
  }

  /** Entry e's seq low / high and ts low / high words. */
  word(e: number, i: number): number {
    return this.key[e * KW + i]
  }

  /**
   * Notes the block at `ref` (in the heap) whose strings a read just decoded, with its header words
   * as read now, inside the read: `commit` caches them once the read validated (no writer touched
   * the scope meanwhile, so the block was reachable and unchanged the whole time). 0: none.
   */
  stage(i32: Int32Array, ref: number): void {
    const w = ref * 2
    this.staged = ref
    this.sTag = i32[w + B_TAG]
    this.sSeqLo = i32[w + I_SEQ_LO]
    this.sSeqHi = i32[w + I_SEQ_HI]
    this.sTsLo = i32[w + I_TS_LO]
    this.sTsHi = i32[w + I_TS_HI]
  }

  /** Caches the staged block's text and id (call only after the read that staged it validated). */
  commit(text: string, id: string | null): void {
    this.put(this.staged, this.sTag, this.sSeqLo, this.sSeqHi, this.sTsLo, this.sTsHi, text, id)
    this.staged = 0
  }

  /** Caches the text and id of the block at `ref` read with these header words (a validated read). */
  put(ref: number, tag: number, seqLo: number, seqHi: number, tsLo: number, tsHi: number, text: string, id: string | null): void {
    const { key } = this
    const o = (Math.imul(ref, 0x9e3779b1) >>> (32 - SET_BITS)) * (2 * KW)
    const e = o / KW
    if (key[o] !== ref && key[o + KW] !== ref) {
      // admission: a block read once is not worth the strings it would keep alive (promoted by the
      // GC) and the entry it would displace; a block read again is
      const d = Math.imul(ref, 0x85ebca6b) >>> (32 - SET_BITS - 1)
      if (this.seen[d] !== ref) {
        this.seen[d] = ref
        return
      }
    }
    if (key[o] !== ref && key[o] !== 0) {
      // the first entry makes way for the newest and becomes the second
      for (let j = 0; j < 6; j++) key[o + KW + j] = key[o + j]
      this.text[e + 1] = this.text[e]
      this.id[e + 1] = this.id[e]
    }
    key[o] = ref
    key[o + B_TAG] = tag
    key[o + I_SEQ_LO] = seqLo
    key[o + I_SEQ_HI] = seqHi
    key[o + I_TS_LO] = tsLo
    key[o + I_TS_HI] = tsHi
    this.text[e] = text
    this.id[e] = id
  }
}
