/**
 * Thread slots: every attached thread claims one, and its token (slot + epoch) is what it
 * writes into lock words and, as slot + 1, into the tag word of every heap block it owns.
 *
 *   FREE ──claim──▶ CLAIMING ──▶ ALIVE ──close()──▶ FREE
 *                                  │
 *                                  └─'exit' seen by watch()──▶ DEAD ──reaper──▶ REAPING ──▶ FREE
 *
 * CLAIMING keeps a slot whose T_THREAD_ID still names its previous thread out of markDead's reach
 * until the new id is written. A REAPING slot whose reaper died is taken over by the next reap.
 *
 * A slot is reused only once it is FREE again, so blocks and locks a dead thread left under its
 * slot are never mistaken for a new thread's. The epoch makes a reused slot's token differ from
 * every earlier one.
 */
import { ScopeCacheError } from './errors.js'
import {
  T_BUSY, T_DEFERRED_B8, T_EPOCH, T_ITEMS_F, T_READY_B8, T_PID, T_PSTART_HI, T_PSTART_LO, T_REAPER, T_STATE, T_THREAD_ID, T_UNDO_REC, THREAD_ALIVE, THREAD_CLAIMING,
  THREAD_DEAD, THREAD_FREE, THREAD_REAPING, THREAD_WORDS,
} from './layout.js'
import type { Liveness } from './lock.js'

const SLOT_BITS = 11
const SLOT_MASK = (1 << SLOT_BITS) - 1
const EPOCH_MASK = (1 << 20) - 1

export const tokenSlot = (token: number): number => (token & SLOT_MASK) - 1
export const tokenEpoch = (token: number): number => token >>> SLOT_BITS

/**
 * A process, for good: its pid and its start time (a pid reused after its process died comes with a
 * later start time). Thread ids repeat across processes (every main thread is 0), so in a store
 * shared by processes a thread is its process + its thread id. Outside shared memory start is 0.
 */
export interface ProcessId {
  readonly pid: number
  readonly startLo: number
  readonly startHi: number
}

export const processId = (pid: number, start: number): ProcessId => ({
  pid,
  startLo: (start % 2 ** 32) | 0,
  startHi: Math.floor(start / 2 ** 32) | 0,
})

export class ThreadSlots implements Liveness {
  /** Told when a lock wait on a holder's token ran out (liveness-weblocks.ts probes it). */
  onStuck: ((token: number) => void) | null = null

  /** This process (what claim writes into a slot, and what markDead and the reaper match by default). */
  readonly self: ProcessId

  constructor(
    private readonly i32: Int32Array,
    private readonly base: number,
    readonly count: number,
    processStart = 0,
  ) {
    this.self = processId(process.pid, processStart)
  }

  stuck(token: number): void {
    if (this.onStuck !== null) this.onStuck(token)
  }

  /** Word index of a slot's first field. */
  at(slot: number): number {
    return this.base + slot * THREAD_WORDS
  }

  /** Claims a free slot for `threadId`; returns the owner token. */
  claim(threadId: number): number {
    const { i32 } = this
    for (let s = 0; s < this.count; s++) {
      const w = this.at(s)
      if (Atomics.load(i32, w + T_STATE) === THREAD_FREE && Atomics.compareExchange(i32, w + T_STATE, THREAD_FREE, THREAD_CLAIMING) === THREAD_FREE) {
        Atomics.store(i32, w + T_THREAD_ID, threadId)
        Atomics.store(i32, w + T_PID, this.self.pid)
        Atomics.store(i32, w + T_PSTART_LO, this.self.startLo)
        Atomics.store(i32, w + T_PSTART_HI, this.self.startHi)
        Atomics.store(i32, w + T_BUSY, 0)
        Atomics.store(i32, w + T_UNDO_REC, 0)
        Atomics.store(i32, w + T_DEFERRED_B8, 0)
        Atomics.store(i32, w + T_READY_B8, 0)
        const epoch = (Atomics.add(i32, w + T_EPOCH, 1) + 1) & EPOCH_MASK
        Atomics.store(i32, w + T_STATE, THREAD_ALIVE)
        return (epoch << SLOT_BITS) | (s + 1)
      }
    }
    throw new ScopeCacheError('too_many_threads', `scopecache: all ${this.count} thread slots are taken; raise maxThreadSlots or close() handles you no longer use`)
  }

  release(token: number): void {
    const w = this.at(tokenSlot(token))
    if ((Atomics.load(this.i32, w + T_EPOCH) & EPOCH_MASK) === tokenEpoch(token)) {
      Atomics.store(this.i32, w + T_STATE, THREAD_FREE)
    }
  }

  /** Marks every slot claimed by `threadId` of process `proc` dead (its thread has exited); returns their slots. */
  markDead(threadId: number, proc: ProcessId = this.self): number[] {
    const out: number[] = []
    for (let s = 0; s < this.count; s++) {
      const w = this.at(s)
      if (Atomics.load(this.i32, w + T_THREAD_ID) === threadId && this.inProcess(s, proc) &&
        Atomics.compareExchange(this.i32, w + T_STATE, THREAD_ALIVE, THREAD_DEAD) === THREAD_ALIVE) out.push(s)
    }
    return out
  }

  /** Whether the slot was last claimed by a thread of `proc`. */
  inProcess(slot: number, proc: ProcessId = this.self): boolean {
    const w = this.at(slot)
    return Atomics.load(this.i32, w + T_PID) === proc.pid && Atomics.load(this.i32, w + T_PSTART_LO) === proc.startLo &&
      Atomics.load(this.i32, w + T_PSTART_HI) === proc.startHi
  }

  /** The process that last claimed the slot. */
  processOf(slot: number): ProcessId {
    const w = this.at(slot)
    return { pid: Atomics.load(this.i32, w + T_PID), startLo: Atomics.load(this.i32, w + T_PSTART_LO), startHi: Atomics.load(this.i32, w + T_PSTART_HI) }
  }

  /**
   * DEAD → REAPING under `reaper`'s token; also takes over a REAPING slot whose reaper is no longer
   * alive. false when a live reaper has it.
   */
  beginReap(slot: number, reaper: number): boolean {
    const { i32 } = this
    const w = this.at(slot)
    if (Atomics.compareExchange(i32, w + T_STATE, THREAD_DEAD, THREAD_REAPING) === THREAD_DEAD) {
      Atomics.store(i32, w + T_REAPER, reaper)
      return true
    }
    const was = Atomics.load(i32, w + T_REAPER)
    return Atomics.load(i32, w + T_STATE) === THREAD_REAPING && !this.isAlive(was) &&
      Atomics.compareExchange(i32, w + T_REAPER, was, reaper) === was
  }

  /** Slots left REAPING by a reaper that died: any reap finishes them. */
  orphans(): number[] {
    const out: number[] = []
    for (let s = 0; s < this.count; s++) {
      const w = this.at(s)
      if (Atomics.load(this.i32, w + T_STATE) === THREAD_REAPING && !this.isAlive(Atomics.load(this.i32, w + T_REAPER))) out.push(s)
    }
    return out
  }

  /** REAPING → DEAD again (the reap could not finish and will be retried). */
  abortReap(slot: number): void {
    Atomics.compareExchange(this.i32, this.at(slot) + T_STATE, THREAD_REAPING, THREAD_DEAD)
  }

  endReap(slot: number): void {
    Atomics.store(this.i32, this.at(slot) + T_BUSY, 0)
    Atomics.store(this.i32, this.at(slot) + T_UNDO_REC, 0)
    Atomics.store(this.i32, this.at(slot) + T_DEFERRED_B8, 0) // the sweep freed them
    Atomics.store(this.i32, this.at(slot) + T_READY_B8, 0) // and these
    Atomics.compareExchange(this.i32, this.at(slot) + T_STATE, THREAD_REAPING, THREAD_FREE)
  }

  /** The current token of a slot (whatever its state). */
  tokenOf(slot: number): number {
    return ((Atomics.load(this.i32, this.at(slot) + T_EPOCH) & EPOCH_MASK) << SLOT_BITS) | (slot + 1)
  }

  private f64: Float64Array | null = null

  /** Bytes of every slot's ready blocks (alloc.ts): charged, but holding nothing yet. */
  readyBytes(): number {
    let b8 = 0
    for (let s = 0; s < this.count; s++) b8 += Atomics.load(this.i32, this.at(s) + T_READY_B8)
    return b8 * 8
  }

  /** The sum of every slot's T_ITEMS_F: the store's item count less H_ITEMS. */
  itemDeltas(): number {
    const f64 = (this.f64 ??= new Float64Array(this.i32.buffer, this.i32.byteOffset, this.i32.length >> 1))
    let sum = 0
    for (let s = 0; s < this.count; s++) sum += f64[(this.at(s) >> 1) + T_ITEMS_F]
    return sum
  }

  isBusy(slot: number): boolean {
    return Atomics.load(this.i32, this.at(slot) + T_BUSY) !== 0
  }

  /** Whether the slot (by index) belongs to a live thread. */
  slotAlive(slot: number): boolean {
    return slot >= 0 && slot < this.count && Atomics.load(this.i32, this.at(slot) + T_STATE) === THREAD_ALIVE
  }

  isAlive(token: number): boolean {
    const s = tokenSlot(token)
    if (!this.slotAlive(s)) return false
    return (Atomics.load(this.i32, this.at(s) + T_EPOCH) & EPOCH_MASK) === tokenEpoch(token)
  }

  otherPid(token: number): number {
    const s = tokenSlot(token)
    return s >= 0 && s < this.count && !this.inProcess(s) ? Atomics.load(this.i32, this.at(s) + T_PID) : 0
  }

  threadIdOf(token: number): number {
    const s = tokenSlot(token)
    return s >= 0 && s < this.count ? Atomics.load(this.i32, this.at(s) + T_THREAD_ID) : -1
  }
}
