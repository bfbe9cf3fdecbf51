/**
 * The heap allocator: TLSF (two-level segregated fit, Masmano et al. 2004) over the heap region.
 * O(1) alloc and free with immediate coalescing of neighbours, so memory freed by deletes, trims,
 * drops and warms is reused and a store under steady churn does not grow. One short lock
 * (H_ALLOC_LOCK) guards the free lists and the byte accounting together, so
 * "Σ live blocks == charged + pending" holds whenever the lock is free.
 *
 * Free-list classes: sizes below 128 bytes are exact 8-byte classes; above, each power of two
 * is split into 16 sub-classes. A request is rounded up to the next class boundary, so any block
 * in the class found fits without a search.
 *
 * Accounting: CHARGED blocks count against maxStoreBytes (every ordinary write). PENDING blocks
 * (a bulk write being built beside the live data) do not, until `commit` moves them to charged
 * after checking the cap against the final state. Each used block says which it is in its tag
 * word (TAG_PENDING) and which thread owns it, so the counters can always be recomputed from the
 * heap itself — which is how the reaper repairs counters a dying thread left half-updated.
 */
import { ScopeCacheError } from './errors.js'
import { fault } from './fault.js'
import { acquire, Budget, release, type Liveness } from './lock.js'
import {
  B_NEXT, B_PREV, B_SIZE, B_TAG, F_FREE, F_PREV_FREE, FL_COUNT, H_ALLOC_LOCK, H_CHARGED_B8, H_FL_BITMAP,
  H_FREE_HEADS, H_HEAP_B8, H_HEAP_END_B8, H_PENDING_B8, H_SL_BITMAPS, MIN_BLOCK_BYTES, SIZE_MASK, SL_BITS,
  SL_COUNT, SMALL_BLOCK, TAG_OWNER_MASK, TAG_OWNER_SHIFT, TAG_PENDING, TAG_SERIAL_SHIFT, TAG_TYPE_MASK, blockBytes,
} from './layout.js'
import { tokenSlot } from './threads.js'

/** Largest single block: keeps sizes in a positive int32 header. */
export const MAX_BLOCK_BYTES = 1 << 30

export const CHARGED = 0
export const PENDING = 1
export type Mode = typeof CHARGED | typeof PENDING

/** Why an allocation failed: over the byte budget, or no free block large enough. */
export const ALLOC_OVER_BUDGET = 0
export const ALLOC_NO_SPACE = -1

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

export const NOBODY: Liveness = { isAlive: () => true, threadIdOf: () => -1 }

/** The tag word of a used block. */
export const tagWord = (type: number, pending: boolean, ownerSlot: number): number =>
  type | (pending ? TAG_PENDING : 0) | ((ownerSlot + 1) << TAG_OWNER_SHIFT)
/** The owner thread slot named in a tag word (-1: none). */
export const tagOwner = (tag: number): number => ((tag & TAG_OWNER_MASK) >>> TAG_OWNER_SHIFT) - 1
export const tagType = (tag: number): number => tag & TAG_TYPE_MASK

export class Heap {
  private readonly i32: Int32Array
  private readonly maxCharged8: number
  /** This thread's slot + 1, pre-shifted into tag position. */
  private readonly ownerBits: number
  /** Block size of this thread's last allocation attempt (for store_full details). */
  refusedBytes = 0
  /** This thread's allocation serial (tag bits 16-31), from a random start. */
  private serial = (Math.random() * 0x10000) | 0

  /** The next allocation serial, in tag position: every new life of a block gets one (read.ts keys its cache on it). */
  private nextSerial(): number {
    this.serial = (this.serial + 1) & 0xffff
    return this.serial << TAG_SERIAL_SHIFT
  }

  constructor(
    i32: Int32Array,
    maxStoreBytes: number,
    private readonly live: Liveness,
    private readonly token: number,
    private readonly leaseMs: number,
    private readonly budget = new Budget(leaseMs),
  ) {
    this.i32 = i32
    this.maxCharged8 = Math.floor(maxStoreBytes / 8)
    this.ownerBits = (tokenSlot(token) + 1) << TAG_OWNER_SHIFT
  }

  /** Lays the whole heap out as free blocks (creator only, before the buffer is shared). */
  static init(i32: Int32Array): void {
    const start = i32[H_HEAP_B8] * 8
    const sentinel = i32[H_HEAP_END_B8] * 8 - 8
    const h = new Heap(i32, 0, NOBODY, 1, 1)
    i32[sentinel >> 2] = 0 // zero-size used block: coalescing stops here
    let prevFree = 0
    for (let b = start; b < sentinel; ) {
      let size = Math.min(MAX_BLOCK_BYTES, sentinel - b)
      if (sentinel - (b + size) < MIN_BLOCK_BYTES) size = sentinel - b > MAX_BLOCK_BYTES ? size - 64 : sentinel - b
      h.putFree(b, size, prevFree)
      prevFree = F_PREV_FREE
      b += size
    }
    i32[sentinel >> 2] |= F_PREV_FREE
  }

  lock(): void {
    acquire(this.i32, H_ALLOC_LOCK, this.token, this.leaseMs, this.live, this.budget)
  }

  unlock(): void {
    release(this.i32, H_ALLOC_LOCK, this.token)
  }

  /**
   * Allocates a block for `n` content bytes; returns its ref (byte offset / 8), or
   * ALLOC_OVER_BUDGET / ALLOC_NO_SPACE. Takes the allocator lock.
   */
  alloc(n: number, tag: number, mode: Mode = CHARGED): number {
    this.lock()
    try {
      return this.allocLocked(n, tag, mode)
    } finally {
      this.unlock()
    }
  }

  allocLocked(n: number, tag: number, mode: Mode): number {
    const { i32 } = this
    const size = blockBytes(n)
    if (size > MAX_BLOCK_BYTES) return ALLOC_NO_SPACE
    this.refusedBytes = size
    if (mode === CHARGED && i32[H_CHARGED_B8] + (size >> 3) > this.maxCharged8) return ALLOC_OVER_BUDGET
    const b = this.takeFree(size)
    if (b < 0) return ALLOC_NO_SPACE
    fault('alloc:taking')
    const w = b >> 2
    const got = (i32[w] & SIZE_MASK) >> 3 // may be 8 bytes more than asked: a remainder too small to split
    if (mode === CHARGED && i32[H_CHARGED_B8] + got > this.maxCharged8) return this.giveBack(b, tag, got)
    i32[w + B_TAG] = tag | (mode === PENDING ? TAG_PENDING : 0) | this.ownerBits | this.nextSerial()
    i32[mode === CHARGED ? H_CHARGED_B8 : H_PENDING_B8] += got
    return b >> 3
  }

  /**
   * A block taken for a charged write that does not fit after all (an unsplittable remainder made
   * it 8 bytes larger): freed again as PENDING, so the charged count — which readers of stats()
   * load at any moment — never passes the budget, not even for an instant.
   */
  private giveBack(b: number, tag: number, got: number): number {
    const { i32 } = this
    i32[(b >> 2) + B_TAG] = tag | TAG_PENDING | this.ownerBits | this.nextSerial()
    i32[H_PENDING_B8] += got // (freeLocked takes it off again)
    this.refusedBytes = got * 8 // that is what did not fit
    this.freeLocked(b >> 3)
    return ALLOC_OVER_BUDGET
  }

  /**
   * One allocator round for an item write that replaces `old` (charged, reachable, scope lock
   * held): allocates a CHARGED block for `n` content bytes if the budget holds it net of `old`,
   * and retires `old` (PENDING, adopted by this thread) in the same lock hold. Returns the new
   * ref, or ALLOC_OVER_BUDGET / ALLOC_NO_SPACE with nothing changed. Allocator lock held.
   */
  allocReplacingLocked(n: number, tag: number, old: number): number {
    const { i32 } = this
    const size = blockBytes(n)
    if (size > MAX_BLOCK_BYTES) return ALLOC_NO_SPACE
    this.refusedBytes = size
    const old8 = this.sizeOf(old) >> 3
    if (i32[H_CHARGED_B8] - old8 + (size >> 3) > this.maxCharged8) return ALLOC_OVER_BUDGET
    const b = this.takeFree(size)
    if (b < 0) return ALLOC_NO_SPACE
    fault('alloc:taking')
    const w = b >> 2
    const got = (i32[w] & SIZE_MASK) >> 3 // may be 8 bytes more than asked: a remainder too small to split
    if (i32[H_CHARGED_B8] - old8 + got > this.maxCharged8) return this.giveBack(b, tag, got)
    i32[w + B_TAG] = tag | this.ownerBits | this.nextSerial()
    i32[H_CHARGED_B8] += got - old8
    i32[H_PENDING_B8] += old8
    this.adopt(old)
    this.markPending(old, true)
    return b >> 3
  }

  /**
   * An item write that replaces `old` with `spare` — a retired block of this thread's (PENDING,
   * owned) of exactly old's size — without the allocator lock: only the two tag words change
   * (spare charged, old retired and adopted); charged and pending bytes stay as they are. Scope
   * lock held. A death in between is harmless: the reaper recounts from the tags, keeps whichever
   * is reachable, and frees the other (unreachable, dead owner).
   */
  swapSpare(spare: number, old: number, tag: number): void {
    this.adopt(old)
    this.markPending(old, true)
    this.i32[spare * 2 + B_TAG] = tag | this.ownerBits | this.nextSerial() // a new life of the block: a new serial
  }

  /** Undoes swapSpare before a publish. */
  unswapSpare(spare: number, old: number): void {
    this.markPending(old, false)
    this.markPending(spare, true)
  }

  /** Undoes allocReplacing before a publish: frees `item`, and `old` is charged again. Takes the allocator lock. */
  unreplace(item: number, old: number): void {
    this.lock()
    try {
      this.freeLocked(item)
      this.commitLocked(this.sizeOf(old), 0)
      this.markPending(old, false)
    } finally {
      this.unlock()
    }
  }

  /**
   * Takes ownership of a block this thread is about to unpublish (and will free), so that if it
   * dies in between, the reaper finds an unreachable block with a dead owner and frees it.
   * Called with the lock that guards the block's scope (or the directory lock) held.
   */
  adopt(ref: number): void {
    const w = ref * 2 + B_TAG
    this.i32[w] = (this.i32[w] & ~TAG_OWNER_MASK) | this.ownerBits
  }

  /** Marks a block PENDING or CHARGED in its tag word (the counters move in commitLocked). */
  markPending(ref: number, pending: boolean): void {
    const w = ref * 2 + B_TAG
    this.i32[w] = pending ? this.i32[w] | TAG_PENDING : this.i32[w] & ~TAG_PENDING
  }

  /**
   * One item write's commit: the new PENDING block becomes charged and the replaced block (0 for
   * none) becomes pending, if the net result fits the budget.
   */
  commitItemLocked(item: number, old: number): boolean {
    const newBytes = this.sizeOf(item)
    const oldBytes = old === 0 ? 0 : this.sizeOf(old)
    if (!this.commitLocked(newBytes, oldBytes)) return false
    this.markPending(item, false)
    if (old !== 0) this.markPending(old, true)
    return true
  }

  /** Frees one block (ref from alloc). Takes the allocator lock. */
  free(ref: number): void {
    this.lock()
    try {
      this.freeLocked(ref)
    } finally {
      this.unlock()
    }
  }

  /** Frees many blocks under one lock hold, in bounded batches so other writers get a turn. */
  freeAll(refs: ArrayLike<number>): void {
    for (let i = 0; i < refs.length; ) {
      this.lock()
      try {
        for (const end = Math.min(refs.length, i + 512); i < end; i++) this.freeLocked(refs[i])
      } finally {
        this.unlock()
      }
    }
  }

  /**
   * Frees blocks like freeAll, but stops at the first batch whose lock wait runs out instead of
   * throwing: returns how many of `refs` (from the start) were freed. `runs`: see freeRunLocked.
   */
  freeSome(refs: ArrayLike<number>, runs = false): number {
    let i = 0
    try {
      while (i < refs.length) {
        this.lock()
        try {
          for (const end = Math.min(refs.length, i + 512); i < end; ) i = this.freeRunLocked(refs, i, runs ? end : i + 1)
        } finally {
          this.unlock()
        }
      }
    } catch (e) {
      if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout')) throw e
    }
    return i
  }

  /**
   * Retires charged blocks a write is about to unpublish (scope lock held): this thread adopts
   * them and they move to PENDING, tags and counters together, so after the publish they can be
   * freed later (deferred) without the reaper taking them for garbage. Takes the allocator lock.
   */
  retire(refs: readonly number[]): void {
    let bytes = 0
    for (const r of refs) bytes += this.sizeOf(r)
    this.lock()
    try {
      this.commitLocked(0, bytes)
      for (const r of refs) {
        this.adopt(r)
        this.markPending(r, true)
      }
    } finally {
      this.unlock()
    }
  }

  /** Frees refs[i] and the refs after it (< end) that follow it in the heap, same owner and counter (a warm's items), as one block. */
  private freeRunLocked(refs: ArrayLike<number>, i: number, end: number): number {
    const { i32 } = this
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
    this.freeLocked(first)
    return j
  }

  /** Frees a used block; its tag word says which counter it was counted in. */
  freeLocked(ref: number): void {
    const { i32 } = this
    let b = ref * 8
    let size = i32[b >> 2] & SIZE_MASK
    i32[(i32[(b >> 2) + B_TAG] & TAG_PENDING) === 0 ? H_CHARGED_B8 : H_PENDING_B8] -= size >> 3
    let prevFree = i32[b >> 2] & F_PREV_FREE
    const next = b + size
    const nh = i32[next >> 2]
    if ((nh & F_FREE) !== 0 && size + (nh & SIZE_MASK) <= MAX_BLOCK_BYTES) {
      this.unlink(next, nh & SIZE_MASK)
      size += nh & SIZE_MASK
    }
    if (prevFree !== 0) {
      const psize = i32[(b >> 2) - 1] // the free neighbour's footer
      if (size + psize <= MAX_BLOCK_BYTES) {
        b -= psize
        this.unlink(b, psize)
        size += psize
        prevFree = i32[b >> 2] & F_PREV_FREE
      }
    }
    this.putFree(b, size, prevFree)
    i32[(b + size) >> 2] |= F_PREV_FREE
  }

  /** Bytes currently charged against the budget. */
  chargedBytes(): number {
    return Atomics.load(this.i32, H_CHARGED_B8) * 8
  }

  /** Charges (or with a negative n, refunds) bytes that live outside the heap (scope records). */
  chargeLocked(bytes: number): boolean {
    const d = bytes >> 3
    if (d > 0 && this.i32[H_CHARGED_B8] + d > this.maxCharged8) return false
    this.i32[H_CHARGED_B8] += d
    return true
  }

  /**
   * Commit: `newBytes` of PENDING heap blocks become charged, `oldBytes` of charged heap blocks
   * become pending (their owner frees them as PENDING after the swap), and `extra` bytes outside
   * the heap (scope records) are charged or refunded, all at once, if the result fits the budget.
   */
  commitLocked(newBytes: number, oldBytes: number, extra = 0): boolean {
    const { i32 } = this
    const delta = (newBytes - oldBytes + extra) >> 3
    if (delta > 0 && i32[H_CHARGED_B8] + delta > this.maxCharged8) return false
    i32[H_CHARGED_B8] += delta
    i32[H_PENDING_B8] += (oldBytes - newBytes) >> 3
    return true
  }

  /** Size in bytes of an allocated block (header included). */
  sizeOf(ref: number): number {
    return this.i32[ref * 2] & SIZE_MASK
  }

  // ---- free lists ----------------------------------------------------------------------

  private takeFree(size: number): number {
    const { i32 } = this
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
    this.unlink(b, bsize)
    if (bsize - size >= MIN_BLOCK_BYTES) {
      this.putFree(b + size, bsize - size, 0)
      i32[w] = size | prevFree
    } else {
      i32[w] = bsize | prevFree
      i32[(b + bsize) >> 2] &= ~F_PREV_FREE
    }
    return b
  }

  /** Puts a block on its free list (allocator lock held). */
  putFree(b: number, size: number, prevFree: number): void {
    const { i32 } = this
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

  private unlink(b: number, size: number): void {
    const { i32 } = this
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
}
