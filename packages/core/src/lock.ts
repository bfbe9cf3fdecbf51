/**
 * A mutex in one Int32 word that holds its owner's token (0 = free), with a waiter count in
 * the next word so release only calls notify when someone may sleep. Readers never take it
 * (they validate a seqlock instead, see cache.ts); it orders writers of one scope, the
 * directory, and the allocator.
 *
 * Waits are sliced (WAIT_SLICE_MS) and every wake re-checks the word, so a lost wake-up costs
 * one slice, never a hang; between slices the waiter asks whether the holder is still alive
 * and takes the lock over from a dead one (the caller repairs what the dead holder left).
 */
import { ScopeCacheError } from './errors.js'

const SPINS = 64
const WAIT_SLICE_MS = 20
/** A live holder that keeps a lock this long is a bug or a stopped debugger: give up. */
export const LOCK_TIMEOUT_MS = 10_000

export interface Liveness {
  /** false when the thread whose token holds the lock has died or detached. */
  isAlive(token: number): boolean
}

/** Returns true when the lock was taken over from a dead holder (the caller must repair). */
export function acquire(i32: Int32Array, lock: number, token: number, live: Liveness): boolean {
  if (Atomics.compareExchange(i32, lock, 0, token) === 0) return false
  return acquireSlow(i32, lock, token, live)
}

function acquireSlow(i32: Int32Array, lock: number, token: number, live: Liveness): boolean {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, lock) === 0 && Atomics.compareExchange(i32, lock, 0, token) === 0) return false
  }
  const waiters = lock + 1
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  for (;;) {
    const holder = Atomics.load(i32, lock)
    if (holder === 0) {
      if (Atomics.compareExchange(i32, lock, 0, token) === 0) return false
      continue
    }
    if (holder === token) throw new Error('scopecache: lock re-entered by its holder (internal bug)')
    if (!live.isAlive(holder)) {
      if (Atomics.compareExchange(i32, lock, holder, token) === holder) return true
      continue
    }
    if (Date.now() > deadline) {
      throw new ScopeCacheError('lock_timeout', 'scopecache: a lock was held by a live thread for longer than ' + LOCK_TIMEOUT_MS + ' ms')
    }
    // Sleep only while the word still names this holder; a release in between makes wait
    // return 'not-equal' at once. The slice bounds a missed notify and lets us poll liveness.
    Atomics.add(i32, waiters, 1)
    Atomics.wait(i32, lock, holder, WAIT_SLICE_MS)
    Atomics.sub(i32, waiters, 1)
  }
}

export function release(i32: Int32Array, lock: number, token: number): void {
  // CAS, not store: if a reaper took the lock from us (we were declared dead), leave it alone.
  if (Atomics.compareExchange(i32, lock, token, 0) === token && Atomics.load(i32, lock + 1) > 0) {
    Atomics.notify(i32, lock, 1)
  }
}
