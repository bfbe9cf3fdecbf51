/**
 * The heap allocator: TLSF free lists (free-lists.ts) over the heap region, O(1) alloc and free
 * with immediate coalescing of neighbours, so memory freed by deletes, trims, drops and warms is
 * reused and a store under steady churn does not grow; small charged blocks are carved from a
 * per-thread chunk (carve). One short lock (H_ALLOC_LOCK) guards the free lists and the byte
 * accounting together, so "Σ live blocks == charged + pending" holds whenever the lock is free.
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
import { putFree, takeFree, unlinkFree } from './free-lists.js'
import {
  B_TAG, F_FREE, F_PREV_FREE, H_ALLOC_LOCK, H_CHARGED_B8, H_HEAP_B8, H_HEAP_END_B8, H_PENDING_B8, MIN_BLOCK_BYTES, SIZE_MASK,
  TAG_CHUNK, TAG_OWNER_MASK, TAG_OWNER_SHIFT, TAG_PENDING, TAG_SERIAL_SHIFT, TAG_TYPE_MASK, blockBytes,
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

/** A thread's allocation chunk (see Heap.carve), and the largest block carved from one. */
export const CHUNK_BYTES = 16 << 10
export const CARVE_MAX = 1 << 10

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
  /**
   * This thread's allocation chunk (0: none): a PENDING block it owns (TAG_CHUNK, counted in its
   * T_DEFERRED_B8 like a deferred free) that small charged blocks are carved from, front first.
   * Two writers then fill cache lines of their own, instead of taking neighbouring blocks off one
   * free list and writing each other's lines, and a carve touches no free list. Given back by
   * releaseChunk (the thread closes, or the heap has no block of a request's size), or freed by
   * the reaper if the thread dies (an unreachable PENDING block of a dead owner).
   */
  private chunk = 0

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
    /** This thread's T_DEFERRED_B8 word (-1: a heap that never carves). */
    private readonly deferredW = -1,
  ) {
    this.i32 = i32
    this.maxCharged8 = Math.floor(maxStoreBytes / 8)
    this.ownerBits = (tokenSlot(token) + 1) << TAG_OWNER_SHIFT
  }

  /** Lays the whole heap out as free blocks (creator only, before the buffer is shared). */
  static init(i32: Int32Array): void {
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
    if (mode === CHARGED && size <= CARVE_MAX && this.deferredW >= 0) {
      const r = this.carve(size, tag)
      if (r !== 0) return r
    }
    const b = takeFree(this.i32, size)
    if (b < 0) {
      if (this.chunk === 0) return ALLOC_NO_SPACE
      this.releaseChunkLocked() // the heap is that short: our chunk may be what it lacks
      return this.allocLocked(n, tag, mode)
    }
    fault('alloc:taking')
    const w = b >> 2
    const got = (i32[w] & SIZE_MASK) >> 3 // may be 8 bytes more than asked: a remainder too small to split
    if (mode === CHARGED && i32[H_CHARGED_B8] + got > this.maxCharged8) return this.giveBack(b, tag, got)
    i32[w + B_TAG] = tag | (mode === PENDING ? TAG_PENDING : 0) | this.ownerBits | this.nextSerial()
    i32[mode === CHARGED ? H_CHARGED_B8 : H_PENDING_B8] += got
    return b >> 3
  }

  /**
   * A charged block of `size` bytes (budget checked) carved from the front of this thread's chunk,
   * which is taken first if there is none or it is too small; 0 when no chunk can be had (the
   * caller falls back to the free lists). The rest of the chunk stays one PENDING block, so the
   * heap stays a walkable row of blocks at every step. Allocator lock held.
   */
  private carve(size: number, tag: number): number {
    const { i32 } = this
    let c = this.chunk
    if (c === 0 || (i32[c * 2] & SIZE_MASK) - size < MIN_BLOCK_BYTES) {
      if (c !== 0) this.releaseChunkLocked()
      const b = takeFree(i32, CHUNK_BYTES)
      if (b < 0) return 0
      c = b >> 3
      const got8 = (i32[c * 2] & SIZE_MASK) >> 3
      i32[c * 2 + B_TAG] = TAG_CHUNK | TAG_PENDING | this.ownerBits
      i32[H_PENDING_B8] += got8
      Atomics.add(i32, this.deferredW, got8)
      this.chunk = c
    }
    const w = c * 2
    const rest = w + (size >> 2) // the rest's header (word index); the item before it is used: no F_PREV_FREE
    i32[rest] = (i32[w] & SIZE_MASK) - size
    i32[rest + B_TAG] = TAG_CHUNK | TAG_PENDING | this.ownerBits
    i32[w] = size | (i32[w] & F_PREV_FREE)
    i32[w + B_TAG] = tag | this.ownerBits | this.nextSerial()
    this.chunk = rest >> 1
    i32[H_CHARGED_B8] += size >> 3
    i32[H_PENDING_B8] -= size >> 3
    Atomics.sub(i32, this.deferredW, size >> 3)
    return c
  }

  /** Gives this thread's chunk back to the free lists (allocator lock held). */
  releaseChunkLocked(): void {
    const c = this.chunk
    if (c === 0) return
    this.chunk = 0
    Atomics.sub(this.i32, this.deferredW, this.sizeOf(c) >> 3)
    this.freeLocked(c)
  }

  /** True while this thread holds a chunk (an unreachable block of its own: see Txn.leave). */
  get hasChunk(): boolean {
    return this.chunk !== 0
  }

  /** Gives this thread's chunk back to the free lists. Takes the allocator lock. */
  releaseChunk(): void {
    if (this.chunk === 0) return
    this.lock()
    try {
      this.releaseChunkLocked()
    } finally {
      this.unlock()
    }
  }

  /** Bytes of this thread's chunk (0: none): PENDING bytes no write of its own accounts for. */
  get chunkBytes(): number {
    return this.chunk === 0 ? 0 : this.sizeOf(this.chunk)
  }

  /** Hands the chunk over to be freed like a deferred free (still counted in T_DEFERRED_B8); 0: none. */
  handOverChunk(): number {
    const c = this.chunk
    this.chunk = 0
    return c
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
    const b = takeFree(this.i32, size)
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
   * throwing: returns how many of `refs` (from the start) were freed.
   */
  freeSome(refs: ArrayLike<number>): number {
    let i = 0
    try {
      while (i < refs.length) {
        this.lock()
        try {
          for (const end = Math.min(refs.length, i + 512); i < end; i++) this.freeLocked(refs[i])
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
      unlinkFree(i32, next, nh & SIZE_MASK)
      size += nh & SIZE_MASK
    }
    if (prevFree !== 0) {
      const psize = i32[(b >> 2) - 1] // the free neighbour's footer
      if (size + psize <= MAX_BLOCK_BYTES) {
        b -= psize
        unlinkFree(i32, b, psize)
        size += psize
        prevFree = i32[b >> 2] & F_PREV_FREE
      }
    }
    putFree(i32, b, size, prevFree)
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
}
