/**
 * Thread slots: every attached thread claims one, and its token (slot + epoch) is what it
 * writes into lock words. A slot whose thread died is marked DEAD by whoever owns the Worker
 * object (`ScopeCache.watch(worker)`), or FREE by `close()`; locks held under its token are
 * then taken over by the next waiter. The epoch makes a reused slot's token differ from the
 * dead thread's, so an old token never looks alive again.
 */
import { ScopeCacheError } from './errors.js'
import { T_EPOCH, T_STATE, T_THREAD_ID, THREAD_ALIVE, THREAD_DEAD, THREAD_FREE, THREAD_WORDS } from './layout.js'
import type { Liveness } from './lock.js'

const SLOT_BITS = 11
const SLOT_MASK = (1 << SLOT_BITS) - 1
const EPOCH_MASK = (1 << 20) - 1

export const tokenSlot = (token: number): number => (token & SLOT_MASK) - 1
export const tokenEpoch = (token: number): number => token >>> SLOT_BITS

export class ThreadSlots implements Liveness {
  constructor(
    private readonly i32: Int32Array,
    private readonly base: number,
    private readonly count: number,
  ) {}

  /** Claims a free slot for `threadId`; returns the owner token. */
  claim(threadId: number): number {
    const { i32 } = this
    for (let s = 0; s < this.count; s++) {
      const w = this.base + s * THREAD_WORDS
      // A DEAD slot is as good as a FREE one: the epoch bump below retires the dead token.
      const st = Atomics.load(i32, w + T_STATE)
      if (st !== THREAD_ALIVE && Atomics.compareExchange(i32, w + T_STATE, st, THREAD_ALIVE) === st) {
        Atomics.store(i32, w + T_THREAD_ID, threadId)
        const epoch = (Atomics.add(i32, w + T_EPOCH, 1) + 1) & EPOCH_MASK
        return (epoch << SLOT_BITS) | (s + 1)
      }
    }
    throw new ScopeCacheError('too_many_threads', `scopecache: all ${this.count} thread slots are taken; raise maxThreads or close() handles you no longer use`)
  }

  release(token: number): void {
    const w = this.base + tokenSlot(token) * THREAD_WORDS
    if ((Atomics.load(this.i32, w + T_EPOCH) & EPOCH_MASK) === tokenEpoch(token)) {
      Atomics.store(this.i32, w + T_STATE, THREAD_FREE)
    }
  }

  /** Marks every slot claimed by `threadId` dead (its thread has exited); returns how many. */
  markDead(threadId: number): number {
    let n = 0
    for (let s = 0; s < this.count; s++) {
      const w = this.base + s * THREAD_WORDS
      if (Atomics.load(this.i32, w + T_STATE) === THREAD_ALIVE && Atomics.load(this.i32, w + T_THREAD_ID) === threadId) {
        Atomics.store(this.i32, w + T_STATE, THREAD_DEAD)
        n++
      }
    }
    return n
  }

  isAlive(token: number): boolean {
    const s = tokenSlot(token)
    if (s < 0 || s >= this.count) return false
    const w = this.base + s * THREAD_WORDS
    return Atomics.load(this.i32, w + T_STATE) === THREAD_ALIVE && (Atomics.load(this.i32, w + T_EPOCH) & EPOCH_MASK) === tokenEpoch(token)
  }
}
