/**
 * What every read shares: the outcomes a read visitor reports, the pause between optimistic
 * attempts, the per-thread record a point read copies an item into, and the Buffer methods the
 * readers decode with. (The reads themselves: read.ts.)
 */
import type { Buffer } from 'node:buffer'

// what a read visitor reports
export const HIT = 1
export const MISS = 0
export const RETRY = -1
export const NO_SCOPE = -2

export const MAX_OPTIMISTIC = 64
/** A word nobody notifies: Atomics.wait on it is a sleep of microseconds (see readBackoff). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/**
 * The pause before optimistic read attempt `attempt + 1`: none at first (a publish window lasts
 * nanoseconds), then a short growing spin, then sleeps of 10 µs growing to ~160 µs — so a reader
 * outlasts a writer preempted inside its window (~2 ms in all) before it falls back to the lock.
 */
export function readBackoff(attempt: number): void {
  if (attempt < 16) return
  if (attempt < 48) {
    for (let i = 1 << Math.min(attempt - 16, 10); i > 0; i--) Atomics.load(PAUSE, 0)
    return
  }
  Atomics.wait(PAUSE, 0, 0, 0.01 * (1 << Math.min(attempt - 48, 4)))
}

export type Format = 'parsed' | 'raw' | 'bytes'

/** What one item read copies out (reused per thread: the hot path allocates nothing else). */
export class ItemOut {
  seq = 0
  ts = 0
  /** µs since the epoch; 0: none */
  expires = 0
  id: string | null = null
  text = ''
  bytes: Uint8Array | null = null
}

export interface SliceBuffer extends Buffer {
  utf8Slice(start: number, end: number): string
  latin1Slice(start: number, end: number): string
}
