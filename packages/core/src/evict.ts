/**
 * whenFull: 'evict' — a write that finds the store full (maxStoreBytes, or maxScopes for a new
 * scope) evicts whole scopes, least recently accessed first, approximated by CLOCK:
 *
 *   S_CLOCK (scope record)   the access bit: set by every read hit and write of the scope, but
 *                            clear in a new scope (the write that creates it does not count), so a
 *                            scope never used again goes at the hand's next pass (scan-resistant;
 *                            on a Zipf trace this lands at, or slightly above, exact LRU's hit ratio:
 *                            benchmarks/suites/eviction.mjs). A read loads it first and stores only
 *                            when it is 0 (read-tally.ts), so in steady state it writes no shared line.
 *   H_CLOCK_HAND (header)    the slot the hand looks at next. A bit found set is cleared (a second
 *                            chance); a scope whose bit is clear is the next victim.
 *
 * Locks: an eviction holds the directory lock (so no scope appears or goes meanwhile) and takes a
 * victim's scope lock only with a compare-exchange from free: a scope a writer holds — or a dead
 * thread, whose reaper has to repair it — is skipped, never waited for or taken over. So the
 * evictor holds no lock of its own scope while it waits for the directory (writeScope releases it
 * first, scope-life.ts), and never waits for a scope lock at all: the lock order (directory →
 * scopes → allocator) cannot deadlock. The victims then go like a dropScope (dropSlotsLocked): the
 * fence floor is raised above theirs (fences.ts) and the UNDO_DROP record lets a reaper finish an
 * eviction whose thread died in it.
 */
import { add64 } from './counter64.js'
import { fault } from './fault.js'
import {
  H_CLOCK_HAND, H_EVICTED_LO, H_SCOPE_HWM, H_SCOPES, S_BYTES_B8, S_CLOCK, S_LOCK, S_STATE, SCOPE_LIVE,
} from './layout.js'
import { dropSlotsLocked, finishDrop, type Dropped } from './scope-drop.js'
import type { Txn } from './txn.js'
import { ScopeCacheError } from './errors.js'

/** How many evict-and-retry rounds a write makes before it gives up with store_full. */
export const EVICT_ROUNDS = 16

/**
 * Directory lock held, no scope lock of ours held: evicts scopes (never slot `exclude`) until
 * `needBytes` more bytes and `needScopes` more scopes fit. Returns what was dropped (its blocks
 * to free once the directory lock is gone: finishEviction), or null when nothing needed to go or
 * nothing could (every candidate locked).
 */
export function evictLocked(t: Txn, needBytes: number, needScopes: number, exclude: number, atLeastOne = false): Dropped | null {
  const { i32, dir, heap, cfg, token } = t.s
  const overBytes = heap.chargedBytes() + needBytes - cfg.maxStoreBytes
  const overScopes = Math.max(Atomics.load(i32, H_SCOPES) + needScopes - cfg.maxScopes, atLeastOne ? 1 : 0)
  if (overBytes <= 0 && overScopes <= 0) return null
  const hwm = Atomics.load(i32, H_SCOPE_HWM)
  let hand = i32[H_CLOCK_HAND]
  if (hand >= hwm) hand = 0
  const victims: number[] = []
  let freed = 0
  // two turns at most: the first may only clear bits, the second then finds them clear
  for (let n = 2 * hwm; n > 0 && (freed < overBytes || victims.length < overScopes); n--) {
    const s = hand
    hand = hand + 1 === hwm ? 0 : hand + 1
    const rec = dir.rec(s)
    if (s === exclude || i32[rec + S_STATE] !== SCOPE_LIVE) continue
    if (i32[rec + S_CLOCK] !== 0) {
      Atomics.store(i32, rec + S_CLOCK, 0)
      continue
    }
    if (Atomics.compareExchange(i32, rec + S_LOCK, 0, token) !== 0) continue // a writer's: skipped
    victims.push(s)
    freed += i32[rec + S_BYTES_B8] * 8
  }
  i32[H_CLOCK_HAND] = hand
  if (victims.length === 0) return null
  fault('evict:locked')
  const dropped = dropSlotsLocked(t, victims, true) // releases the victims' locks
  add64(i32, H_EVICTED_LO, victims.length)
  return dropped
}

/** Frees what evictions dropped (directory lock released). */
export function finishEviction(t: Txn, dropped: Dropped[]): void {
  for (const d of dropped) finishDrop(t, d, false)
}

/**
 * A write was refused with `e` (holding no scope lock now): when the store evicts and `e` is
 * store_full, evicts room for the bytes it tried to add (and `needScopes` scopes) and returns true
 * so the caller retries; false when it should throw `e` (not full, not evicting, or nothing evictable).
 */
export function evictAfter(t: Txn, e: unknown, exclude: number, needScopes = 0, extraBytes = 0): boolean {
  if (!t.s.cfg.evict || !(e instanceof ScopeCacheError) || e.code !== 'store_full') return false
  const added = Number((e.details as { addedBytes?: number } | undefined)?.addedBytes ?? 0)
  const { dir } = t.s
  let dropped: Dropped | null
  dir.lock()
  try {
    // at least one scope goes even when the refused bytes would fit now (another thread freed
    // some meanwhile, or the heap had no block of that size): the retry must find the store changed
    dropped = evictLocked(t, added + extraBytes, needScopes, exclude, true)
  } finally {
    dir.unlock()
  }
  if (dropped === null) return false
  finishEviction(t, [dropped])
  return true
}
