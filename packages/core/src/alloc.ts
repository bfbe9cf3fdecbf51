/**
 * The heap allocator: TLSF free lists (free-lists.ts) over the heap region, O(1) alloc and free
 * with immediate coalescing of neighbours, so memory freed by deletes, trims, drops and warms is
 * reused and a store under steady churn does not grow; item writes of one size take ready blocks
 * a thread keeps (takeReady). One short lock (H_ALLOC_LOCK) guards the free lists and the byte
 * accounting together, so "Σ live blocks == charged + pending" holds whenever the lock is free.
 *
 * Accounting: CHARGED blocks count against maxStoreBytes (every ordinary write). PENDING blocks
 * (a bulk write being built beside the live data) do not, until `commit` moves them to charged
 * after checking the cap against the final state. Each used block says which it is in its tag
 * word (TAG_PENDING) and which thread owns it, so the counters can always be recomputed from the
 * heap itself — which is how the reaper repairs counters a dying thread left half-updated.
 */
import { fault } from './fault.js'
import { acquire, Budget, release, type Liveness } from './lock.js'
import { MAX_BLOCK_BYTES, putFree, takeFree, unlinkFree } from './free-lists.js'
import {
  B_TAG, F_FREE, F_PREV_FREE, H_ALLOC_LOCK, H_CHARGED_B8, H_PENDING_B8, SIZE_MASK,
  TAG_ITEM, TAG_OWNER_MASK, TAG_OWNER_SHIFT, TAG_PENDING, TAG_READY, TAG_SERIAL_SHIFT, blockBytes,
} from './layout.js'
import { tokenSlot } from './threads.js'

export { MAX_BLOCK_BYTES } from './free-lists.js'

export const CHARGED = 0
export const PENDING = 1
export type Mode = typeof CHARGED | typeof PENDING

/** Why an allocation failed: over the byte budget, or no free block large enough. */
export const ALLOC_OVER_BUDGET = 0
export const ALLOC_NO_SPACE = -1

/**
 * A thread's ready blocks (Heap.takeReady): at most READY_MAX, of at most READY_BLOCK_MAX bytes
 * each, READY_BYTES in all (or 1/128 of the budget, for small stores).
 */
export const READY_MAX = 64
export const READY_BLOCK_MAX = 1 << 10
export const READY_BYTES = 8 << 10
const READY_MISSES = 8 // item allocations of other sizes, since a refill, after which they are given back

export const NOBODY: Liveness = { isAlive: () => true, threadIdOf: () => -1 }

export class Heap {
  readonly i32: Int32Array
  private readonly maxCharged8: number
  /** This thread's slot + 1, pre-shifted into tag position. */
  private readonly ownerBits: number
  /** Block size of this thread's last allocation attempt (for store_full details). */
  refusedBytes = 0
  /** This thread's allocation serial (tag bits 16-31), from a random start. */
  private serial = (Math.random() * 0x10000) | 0
  /**
   * This thread's ready blocks: charged blocks of one size (readySize), split from one free block
   * in one allocator round, owned by this thread and reachable from nothing (TAG_READY, counted
   * in its slot's T_READY_B8). An item write of that size takes one without the allocator lock
   * and without writing a shared word (takeReady): two writers no longer pass the allocator's
   * cache line back and forth on every append, and each fills lines of its own. Ready blocks
   * count against the budget (stats() leaves them out); a write the budget refuses gives this
   * thread's back first (fits). Freed at close() (Txn.settle), or by the reaper if the thread dies.
   */
  private readonly ready = new Int32Array(READY_MAX)
  private nReady = 0
  private readySize = 0
  private readyMisses = 0
  /** The block size of this thread's last item allocation round (wantsReady). */
  private lastItemSize = 0
  /** The most bytes of ready blocks one refill makes. */
  private readonly readyCap: number

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
    /** This thread's T_READY_B8 word (-1: a heap that keeps no ready blocks). */
    private readonly readyW = -1,
  ) {
    this.i32 = i32
    this.maxCharged8 = Math.floor(maxStoreBytes / 8)
    this.ownerBits = (tokenSlot(token) + 1) << TAG_OWNER_SHIFT
    this.readyCap = Math.min(READY_BYTES, maxStoreBytes >> 7)
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
    if (mode === CHARGED) {
      if (!this.fits(size >> 3)) return ALLOC_OVER_BUDGET
      if (tag === TAG_ITEM && size <= READY_BLOCK_MAX && this.readyW >= 0 && this.wantsReady(size)) {
        const r = this.refillLocked(size, tag)
        if (r !== 0) return r
      }
    }
    const b = takeFree(i32, size)
    if (b < 0) return ALLOC_NO_SPACE
    fault('alloc:taking')
    const w = b >> 2
    const got = (i32[w] & SIZE_MASK) >> 3 // may be 8 bytes more than asked: a remainder too small to split
    if (mode === CHARGED && !this.fits(got)) return this.giveBack(b, tag, got)
    i32[w + B_TAG] = tag | (mode === PENDING ? TAG_PENDING : 0) | this.ownerBits | this.nextSerial()
    i32[mode === CHARGED ? H_CHARGED_B8 : H_PENDING_B8] += got
    return b >> 3
  }

  /** Whether `d8` more charged 8-byte units fit the budget — after giving back this thread's ready blocks if need be. */
  private fits(d8: number): boolean {
    if (this.i32[H_CHARGED_B8] + d8 <= this.maxCharged8) return true
    if (this.nReady === 0) return false
    this.releaseReadyLocked()
    return this.i32[H_CHARGED_B8] + d8 <= this.maxCharged8
  }

  /**
   * Whether an item allocation of `size` bytes (no ready block of that size: takeReady missed)
   * should (re)fill the ready blocks with that size: when it repeats the previous item size — a
   * stream of one size — and the ready blocks held, if any, have missed READY_MISSES times since
   * they were filled (they are freed first). Items of ever-changing sizes so never pay for splits they do not use.
   */
  private wantsReady(size: number): boolean {
    const repeat = size === this.lastItemSize
    this.lastItemSize = size
    if (this.nReady > 0) {
      if (++this.readyMisses < READY_MISSES || !repeat) return false
      this.releaseReadyLocked()
    }
    this.readyMisses = 0
    return repeat
  }

  /**
   * An item write's block of `size` bytes without the allocator lock: one of this thread's ready
   * blocks if it has one of that size (charged already), else 0. Scope (or directory) lock held.
   */
  takeReady(n: number, tag: number): number {
    if (this.nReady === 0 || blockBytes(n) !== this.readySize) return 0
    const ref = this.ready[--this.nReady]
    this.i32[ref * 2 + B_TAG] = tag | this.ownerBits | this.nextSerial()
    Atomics.sub(this.i32, this.readyW, this.readySize >> 3)
    return ref
  }

  /**
   * Splits one free block into the block a charged request of `size` bytes gets (returned; 0 when
   * the heap or the budget has no room for more than it) and up to READY_MAX ready blocks of that
   * size behind it, all charged at once. Each piece is a used block with a whole header at every
   * step, so the heap stays a walkable row of blocks. Allocator lock held, no ready blocks left.
   */
  private refillLocked(size: number, tag: number): number {
    const { i32 } = this
    const room = (this.maxCharged8 - i32[H_CHARGED_B8]) * 8 - 8 // the split may leave 8 bytes more
    const k = Math.min(READY_MAX + 1, Math.floor(this.readyCap / size), Math.floor(room / size))
    if (k < 2) return 0
    const b = takeFree(i32, k * size)
    if (b < 0) return 0
    fault('alloc:taking')
    const w = b >> 2
    // ours at once: if this thread dies mid-split, the reaper frees the block as a dead owner's
    i32[w + B_TAG] = TAG_READY | this.ownerBits
    const got = i32[w] & SIZE_MASK
    const first = got - (k - 1) * size // the request's block: the 8 bytes of an unsplittable rest go to it
    for (let j = k - 1; j >= 1; j--) {
      // pushed last to first, so they are taken in address order
      const bw = (b + first + (j - 1) * size) >> 2
      i32[bw] = size
      i32[bw + B_TAG] = TAG_READY | this.ownerBits
      this.ready[this.nReady++] = bw >> 1
      if (j === k - 1) fault('alloc:splitting')
    }
    // the inner headers first, the outer one shrunk last: a walk of the heap (the reaper's, if this
    // thread dies in between) finds a whole chain of blocks at every step
    i32[w] = first | (i32[w] & F_PREV_FREE)
    this.readySize = size
    i32[w + B_TAG] = tag | this.ownerBits | this.nextSerial()
    i32[H_CHARGED_B8] += got >> 3
    Atomics.add(i32, this.readyW, ((k - 1) * size) >> 3)
    return b >> 3
  }

  /** Frees this thread's ready blocks (allocator lock held). */
  releaseReadyLocked(): void {
    if (this.nReady === 0) return
    Atomics.sub(this.i32, this.readyW, (this.nReady * this.readySize) >> 3)
    while (this.nReady > 0) this.freeLocked(this.ready[--this.nReady])
  }

  /** Frees this thread's ready blocks. Takes the allocator lock (may time out: then they stay). */
  releaseReady(): void {
    if (this.nReady === 0) return
    this.lock()
    try {
      this.releaseReadyLocked()
    } finally {
      this.unlock()
    }
  }

  /** Bytes of this thread's ready blocks: charged, but holding nothing yet. */
  get readyBytesHeld(): number {
    return this.nReady * this.readySize
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
    if (!this.fits((size >> 3) - old8)) return ALLOC_OVER_BUDGET
    const b = takeFree(this.i32, size)
    if (b < 0) return ALLOC_NO_SPACE
    fault('alloc:taking')
    const w = b >> 2
    const got = (i32[w] & SIZE_MASK) >> 3 // may be 8 bytes more than asked: a remainder too small to split
    if (!this.fits(got - old8)) return this.giveBack(b, tag, got)
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
    if (d > 0 && !this.fits(d)) return false
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
    if (delta > 0 && !this.fits(delta)) return false
    i32[H_CHARGED_B8] += delta
    i32[H_PENDING_B8] += (oldBytes - newBytes) >> 3
    return true
  }

  /** Size in bytes of an allocated block (header included). */
  sizeOf(ref: number): number {
    return this.i32[ref * 2] & SIZE_MASK
  }
}
