/**
 * The TLSF free lists (two-level segregated fit, Masmano et al. 2004) over the heap region: the
 * caller holds the allocator lock (alloc.ts), or owns the buffer alone (initFreeHeap, the reaper's
 * rebuild in heap-walk.ts).
 *
 * Free-list classes: sizes below 128 bytes are exact 8-byte classes; above, each power of two
 * is split into 16 sub-classes. A request is rounded up to the next class boundary, so any block
 * in the class found fits without a search. A free block carries its size in its header and in
 * its last word (the footer a freed right neighbour coalesces through), and links (8-byte units)
 * to its list neighbours.
 */
import {
  B_NEXT, B_PREV, B_SIZE, F_FREE, F_PREV_FREE, FL_COUNT, H_FL_BITMAP, H_FREE_HEADS, H_HEAP_B8, H_HEAP_END_B8, H_SL_BITMAPS,
  MIN_BLOCK_BYTES, SIZE_MASK, SL_BITS, SL_COUNT, SMALL_BLOCK,
} from './layout.js'

/** Largest single block: keeps sizes in a positive int32 header. */
export const MAX_BLOCK_BYTES = 1 << 30

const ctz = (x: number): number => 31 - Math.clz32(x & -x)

function classOf(size: number): number {
  if (size < SMALL_BLOCK) return size >>> 3
  const l = 31 - Math.clz32(size)
  return ((l - 6) << SL_BITS) | ((size >>> (l - SL_BITS)) & (SL_COUNT - 1))
}

/** Class index for a request: rounded up so every block in it is at least `size`. */
function searchClassOf(size: number): number {
  if (size < SMALL_BLOCK) return size >>> 3
  const l = 31 - Math.clz32(size)
  return classOf(size + (1 << (l - SL_BITS)) - 1)
}

/**
 * Takes a free block of at least `size` bytes off its list and splits off the rest when it can
 * stand as a block; returns its byte offset (header written as used, tag word left to the
 * caller), or -1 when no free block is large enough.
 */
export function takeFree(i32: Int32Array, size: number): number {
  let c = searchClassOf(size)
  let fl = c >>> SL_BITS
  if (fl >= FL_COUNT) return -1
  let slMap = i32[H_SL_BITMAPS + fl] & (~0 << (c & (SL_COUNT - 1)))
  if (slMap === 0) {
    const flMap = fl + 1 >= 32 ? 0 : i32[H_FL_BITMAP] & (~0 << (fl + 1))
    if (flMap === 0) return -1
    fl = ctz(flMap)
    slMap = i32[H_SL_BITMAPS + fl]
  }
  c = (fl << SL_BITS) | ctz(slMap)
  const b = i32[H_FREE_HEADS + c] * 8
  const w = b >> 2
  const bsize = i32[w] & SIZE_MASK
  const prevFree = i32[w] & F_PREV_FREE
  unlinkFree(i32, b, bsize)
  if (bsize - size >= MIN_BLOCK_BYTES) {
    putFree(i32, b + size, bsize - size, 0)
    i32[w] = size | prevFree
  } else {
    i32[w] = bsize | prevFree
    i32[(b + bsize) >> 2] &= ~F_PREV_FREE
  }
  return b
}

/** Puts the block at byte offset `b` on its free list. */
export function putFree(i32: Int32Array, b: number, size: number, prevFree: number): void {
  const w = b >> 2
  i32[w + B_SIZE] = size | F_FREE | prevFree
  i32[((b + size) >> 2) - 1] = size
  const c = classOf(size)
  const head = i32[H_FREE_HEADS + c]
  i32[w + B_NEXT] = head
  i32[w + B_PREV] = 0
  if (head !== 0) i32[head * 2 + B_PREV] = b >> 3
  i32[H_FREE_HEADS + c] = b >> 3
  i32[H_SL_BITMAPS + (c >>> SL_BITS)] |= 1 << (c & (SL_COUNT - 1))
  i32[H_FL_BITMAP] |= 1 << (c >>> SL_BITS)
}

/** Takes the free block at byte offset `b` (of `size` bytes) off its list. */
export function unlinkFree(i32: Int32Array, b: number, size: number): void {
  const w = b >> 2
  const next = i32[w + B_NEXT]
  const prev = i32[w + B_PREV]
  const c = classOf(size)
  if (prev !== 0) i32[prev * 2 + B_NEXT] = next
  else i32[H_FREE_HEADS + c] = next
  if (next !== 0) i32[next * 2 + B_PREV] = prev
  if (i32[H_FREE_HEADS + c] === 0) {
    const fl = c >>> SL_BITS
    i32[H_SL_BITMAPS + fl] &= ~(1 << (c & (SL_COUNT - 1)))
    if (i32[H_SL_BITMAPS + fl] === 0) i32[H_FL_BITMAP] &= ~(1 << fl)
  }
}

/** Lays the whole heap out as free blocks (creator only, before the buffer is shared). */
export function initFreeHeap(i32: Int32Array): void {
  const start = i32[H_HEAP_B8] * 8
  const sentinel = i32[H_HEAP_END_B8] * 8 - 8
  i32[sentinel >> 2] = 0 // zero-size used block: coalescing stops here
  let prevFree = 0
  for (let b = start; b < sentinel; ) {
    let size = Math.min(MAX_BLOCK_BYTES, sentinel - b)
    if (sentinel - (b + size) < MIN_BLOCK_BYTES) size = sentinel - b > MAX_BLOCK_BYTES ? size - 64 : sentinel - b
    putFree(i32, b, size, prevFree)
    prevFree = F_PREV_FREE
    b += size
  }
  i32[sentinel >> 2] |= F_PREV_FREE
}
