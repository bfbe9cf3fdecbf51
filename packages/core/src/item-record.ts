/**
 * An item block's 24-byte header (layout.ts): 53-bit seq and ts split over two words each, the id
 * length and IF_* flags above the seq's high bits, and the pad above the ts's. The payload length
 * is derived from the block size, which an allocated block never changes, so a header costs three
 * words less than whole fields would and the id and payload start 8 bytes earlier.
 *
 * Readers call these racing writers: on garbage they return garbage numbers (never throw), which
 * the callers' range checks and the seqlock turn into a retry. A writer fills a fresh block with
 * fillItem (id and payload bytes, then the header) before any reader can reach it.
 */
import {
  I_EXPIRES, I_EXPIRES_BYTES_SHIFT, I_FLAGS_SHIFT, I_HI_MASK, I_ID_LEN_MASK, I_ID_LEN_SHIFT, I_PAD_MASK, I_PAD_SHIFT, I_SEQ_HI, I_SEQ_LO, I_TS_HI, I_TS_LO,
  IF_ASCII, IF_STRING, ITEM_HEADER_BYTES, SIZE_MASK,
} from './layout.js'
import type { Prepared } from './payload.js'
import type { Store } from './store.js'

const TWO32 = 4294967296

// From the header words themselves (a hot reader loads each word once and decodes it with these):
/** A 53-bit number from its low word and the word that holds its high 21 bits. */
export const join53 = (lo: number, hi: number): number => (lo >>> 0) + (hi & I_HI_MASK) * TWO32
export const idLenOf = (seqHi: number): number => (seqHi >>> I_ID_LEN_SHIFT) & I_ID_LEN_MASK
export const flagsOf = (seqHi: number): number => seqHi >>> I_FLAGS_SHIFT
/**
 * Payload bytes of a block of `size` word `sizeWord` with this id length and ts high word (less
 * the 8 bytes of an expiry: `(tsHi >>> 22) & 8` is 8 exactly when I_EXPIRES, bit 25, is set).
 */
export const payloadLenOf = (sizeWord: number, idLen: number, tsHi: number): number =>
  (sizeWord & SIZE_MASK) - ITEM_HEADER_BYTES - idLen - ((tsHi >>> I_PAD_SHIFT) & I_PAD_MASK) - ((tsHi >>> I_EXPIRES_BYTES_SHIFT) & 8)
/** The Float64 index of the expiry of the block at `ref` (8-byte units) whose size word is `sizeWord`: its last 8 bytes. */
export const expiryIndex = (ref: number, sizeWord: number): number => ref + ((sizeWord & SIZE_MASK) >>> 3) - 1

export const itemSeq = (i32: Int32Array, ref: number): number => join53(i32[ref * 2 + I_SEQ_LO], i32[ref * 2 + I_SEQ_HI])
export const itemTs = (i32: Int32Array, ref: number): number => join53(i32[ref * 2 + I_TS_LO], i32[ref * 2 + I_TS_HI])
export const itemIdLen = (i32: Int32Array, ref: number): number => idLenOf(i32[ref * 2 + I_SEQ_HI])
export const itemFlags = (i32: Int32Array, ref: number): number => flagsOf(i32[ref * 2 + I_SEQ_HI])
/** The item's expiry (µs since the epoch), or 0 when it has none. */
export const itemExpiry = (i32: Int32Array, f64: Float64Array, ref: number): number =>
  (i32[ref * 2 + I_TS_HI] & I_EXPIRES) === 0 ? 0 : f64[expiryIndex(ref, i32[ref * 2])]
export const itemPayloadLen = (i32: Int32Array, ref: number): number =>
  payloadLenOf(i32[ref * 2], itemIdLen(i32, ref), i32[ref * 2 + I_TS_HI])

/**
 * Writes an item's header for a block of `blockBytes` (its size word, which the caller has or will
 * have set) holding `idBytes` + `payloadBytes`, and with `expires` > 0 that expiry (µs) in its last 8 bytes.
 */
export function writeItemHeader(
  i32: Int32Array, ref: number, blockBytes: number, seq: number, ts: number, idBytes: number, payloadBytes: number, flags: number,
  expires = 0, f64?: Float64Array,
): void {
  const w = ref * 2
  const pad = blockBytes - ITEM_HEADER_BYTES - idBytes - payloadBytes - (expires > 0 ? 8 : 0)
  if (pad < 0 || pad > I_PAD_MASK) throw new Error(`scopecache: an item block of ${blockBytes} bytes for ${idBytes} + ${payloadBytes} (internal bug)`)
  i32[w + I_SEQ_LO] = seq >>> 0
  i32[w + I_SEQ_HI] = Math.floor(seq / TWO32) | (idBytes << I_ID_LEN_SHIFT) | (flags << I_FLAGS_SHIFT)
  i32[w + I_TS_LO] = ts >>> 0
  i32[w + I_TS_HI] = Math.floor(ts / TWO32) | (pad << I_PAD_SHIFT) | (expires > 0 ? I_EXPIRES : 0)
  if (expires > 0) (f64 as Float64Array)[ref + (blockBytes >>> 3) - 1] = expires
}

/** Rewrites an item's seq and ts, keeping its id length, flags and pad. */
export function setItemSeqTs(i32: Int32Array, ref: number, seq: number, ts: number): void {
  const w = ref * 2
  i32[w + I_SEQ_LO] = seq >>> 0
  i32[w + I_SEQ_HI] = Math.floor(seq / TWO32) | (i32[w + I_SEQ_HI] & ~I_HI_MASK)
  i32[w + I_TS_LO] = ts >>> 0
  i32[w + I_TS_HI] = Math.floor(ts / TWO32) | (i32[w + I_TS_HI] & ~I_HI_MASK)
}

/** Ids and ASCII payload texts up to this many code units are copied into the heap from JS (no Buffer.write call). */
const JS_COPY_MAX = 32

/** Fills a fresh item block: its id and payload bytes, then its header (writeItemHeader). */
export function fillItem(s: Store, ref: number, id: string | null, p: Prepared, seq: number, ts: number, expires: number): void {
  const u8 = s.v.u8
  const start = ref * 8 + ITEM_HEADER_BYTES
  let idBytes = 0
  if (id !== null) {
    // short ASCII ids byte by byte: a Buffer.write call costs 3-4× as much
    const n = id.length
    if (n <= JS_COPY_MAX) {
      for (; idBytes < n; idBytes++) {
        const c = id.charCodeAt(idBytes)
        if (c > 0x7f) break
        u8[start + idBytes] = c
      }
    }
    if (idBytes !== n) idBytes = s.v.buf.write(id, start, 'utf8')
  }
  const at = start + idBytes
  const text = p.text
  if (text !== null) {
    const n = p.byteLength
    if (p.ascii && n <= JS_COPY_MAX) for (let k = 0; k < n; k++) u8[at + k] = text.charCodeAt(k)
    else s.v.buf.write(text, at, n, p.ascii ? 'latin1' : 'utf8')
  } else u8.set((p.bytes as Uint8Array).subarray(p.start, p.end), at)
  const flags = (p.ascii ? IF_ASCII : 0) | (p.isString ? IF_STRING : 0)
  writeItemHeader(s.i32, ref, s.heap.sizeOf(ref), seq, ts, idBytes, p.byteLength, flags, expires, s.f64)
}
