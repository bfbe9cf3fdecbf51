/**
 * Walks of the heap's block chain, for recovery (reaper.ts) and the tests: the block headers are
 * the truth the allocator's lists and counters can always be rebuilt from (alloc.ts).
 */
import { MAX_BLOCK_BYTES } from './alloc.js'
import { putFree } from './free-lists.js'
import {
  B_TAG, F_FREE, F_PREV_FREE, FL_COUNT, H_FL_BITMAP, H_FREE_HEADS, H_HEAP_B8, H_HEAP_END_B8, H_SL_BITMAPS,
  MIN_BLOCK_BYTES, SIZE_MASK, SL_COUNT, TAG_PENDING,
} from './layout.js'

/**
 * Rebuilds every free list and bitmap from a walk of the block chain (allocator lock held, taken
 * from a dead thread). Each free-list step is a handful of plain stores, so a thread killed
 * mid-step can leave the lists torn and neighbours unmerged; the block headers, though, form a
 * valid chain after every single store of every step, so they are the truth to rebuild from.
 * Neighbouring free blocks are merged and every PREV_FREE flag is recomputed.
 */
export function rebuildFreeLists(i32: Int32Array): void {
  for (let c = 0; c < FL_COUNT * SL_COUNT; c++) i32[H_FREE_HEADS + c] = 0
  for (let fl = 0; fl < FL_COUNT; fl++) i32[H_SL_BITMAPS + fl] = 0
  i32[H_FL_BITMAP] = 0
  const end = i32[H_HEAP_END_B8] * 8 - 8
  let prevFree = 0
  for (let b = i32[H_HEAP_B8] * 8; b < end; ) {
    const hdr = i32[b >> 2]
    let size = hdr & SIZE_MASK
    if (size < MIN_BLOCK_BYTES || b + size > end) throw new Error(`scopecache: heap chain broken at byte ${b} (internal bug)`)
    if ((hdr & F_FREE) === 0) {
      i32[b >> 2] = size | prevFree
      prevFree = 0
      b += size
      continue
    }
    for (;;) {
      const n = i32[(b + size) >> 2]
      if (b + size >= end || (n & F_FREE) === 0 || size + (n & SIZE_MASK) > MAX_BLOCK_BYTES) break
      size += n & SIZE_MASK
    }
    putFree(i32, b, size, prevFree)
    prevFree = F_PREV_FREE
    b += size
  }
  i32[end >> 2] = (i32[end >> 2] & ~F_PREV_FREE) | prevFree
}

/** Σ used block bytes by counter, from a walk of the heap (what the counters must equal). */
export function countUsed(i32: Int32Array): { charged8: number; pending8: number } {
  let charged8 = 0
  let pending8 = 0
  const end = i32[H_HEAP_END_B8] * 8 - 8
  for (let b = i32[H_HEAP_B8] * 8; b < end; ) {
    const hdr = i32[b >> 2]
    const size = hdr & SIZE_MASK
    if (size < MIN_BLOCK_BYTES) break
    if ((hdr & F_FREE) === 0) {
      if ((i32[(b >> 2) + B_TAG] & TAG_PENDING) !== 0) pending8 += size >> 3
      else charged8 += size >> 3
    }
    b += size
  }
  return { charged8, pending8 }
}
