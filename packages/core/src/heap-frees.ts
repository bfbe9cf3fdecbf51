/**
 * Freeing many blocks at once (a write's retired blocks, deferred frees, a warm's replaced items):
 * in batches of up to 512 under one allocator lock hold each, so other writers get a turn.
 */
import type { Heap } from './alloc.js'
import { ScopeCacheError } from './errors.js'
import { MAX_BLOCK_BYTES } from './free-lists.js'
import { F_PREV_FREE, SIZE_MASK, TAG_OWNER_MASK, TAG_PENDING, B_TAG } from './layout.js'

/**
 * Frees `refs` in order, but stops at the first batch whose lock wait runs out instead of
 * throwing: returns how many of them (from the start) were freed. `runs`: refs that follow each
 * other in the heap are freed as one block (freeRunLocked).
 */
export function freeSome(heap: Heap, refs: ArrayLike<number>, runs = false): number {
  let i = 0
  try {
    while (i < refs.length) {
      heap.lock()
      try {
        for (const end = Math.min(refs.length, i + 512); i < end; ) i = freeRunLocked(heap, refs, i, runs ? end : i + 1)
      } finally {
        heap.unlock()
      }
    }
  } catch (e) {
    if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout')) throw e
  }
  return i
}

/** Frees refs[i] and the refs after it (< end) that follow it in the heap, same owner and counter (a warm's items), as one block. */
function freeRunLocked(heap: Heap, refs: ArrayLike<number>, i: number, end: number): number {
  const { i32 } = heap
  const first = refs[i]
  const kind = i32[first * 2 + B_TAG] & (TAG_PENDING | TAG_OWNER_MASK)
  let bytes = i32[first * 2] & SIZE_MASK
  let j = i + 1
  for (; j < end; j++) {
    const r = refs[j]
    const size = i32[r * 2] & SIZE_MASK
    if (r !== first + (bytes >> 3) || (i32[r * 2 + B_TAG] & (TAG_PENDING | TAG_OWNER_MASK)) !== kind || bytes + size > MAX_BLOCK_BYTES) break
    bytes += size
  }
  if (j > i + 1) i32[first * 2] = (i32[first * 2] & F_PREV_FREE) | bytes
  heap.freeLocked(first)
  return j
}
