/**
 * Edits of a locked scope's record and indexes that need nothing but the store: removing the
 * oldest entries (trim), removing one entry (delete) and its id, charging the scope's
 * bytes, filling a fresh record, listing a scope's blocks. The writes call them inside their
 * publish windows (txn.ts); the reaper calls the roll-forward steps (trimForward, deleteForward)
 * directly when it repairs a trim or delete that died inside its window.
 */
import type { Heap } from './alloc.js'
import { startFence } from './fences.js'
import {
  I_EXPIRES, I_TS_HI, S_EXP_ITEMS, S_EXP_MIN_F, S_TTL_F, S_BYTES_B8, S_COUNT, S_CREATED_TS_F, S_ENT_REF, S_ENT_START, S_FIRST_SEQ_F, S_GEN, S_ID_REF,
  S_CLOCK, S_LAST_ACCESS_TS_F, S_LAST_SEQ_F, S_LAST_WRITE_TS_F, S_LIMIT, S_LIMIT_MODE, S_NAME_LEN, S_NAME_REF, S_READS_HI, S_READS_LO, S_STATE,
  SCOPE_LIVE, SCOPE_RECORD_BYTES,
} from './layout.js'
import { ScopeIndex } from './scope-index.js'
import type { Store } from './store.js'

/** Roll-forward of a torn trim (scope locked): removes the oldest `n` entries, refunding `bytes`. */
export function trimForward(s: Store, rec: number, n: number, bytes: number): void {
  const refs: number[] = []
  for (let k = 0; k < n; k++) refs.push(s.idx.refAt(rec, k))
  trimLocked(s, rec, refs, idHashes(s, refs), bytes)
}

/** Roll-forward of a torn delete (scope locked) of `item` at entry `pos`. */
export function deleteForward(s: Store, rec: number, pos: number, item: number): void {
  // the entries shift is one copyWithin: done iff the entry at `pos` is no longer the item
  const shifted = s.idx.refAt(rec, pos) !== item
  removeAtLocked(s, rec, pos, item, shifted)
}

export function idHashes(s: Store, refs: number[]): number[] {
  return refs.map((r) => (s.idx.idLen(r) > 0 ? s.ids.hashItem(r) : 0))
}

/** Removes the oldest `refs.length` entries (inside a publish window, or rolling a torn trim forward). */
export function trimLocked(s: Store, rec: number, refs: number[], hashes: number[], bytes: number): void {
  for (let k = 0; k < refs.length; k++) {
    if (s.idx.idLen(refs[k]) > 0) s.ids.untable(rec, refs[k], hashes[k])
    if ((s.i32[refs[k] * 2 + I_TS_HI] & I_EXPIRES) !== 0) s.i32[rec + S_EXP_ITEMS]--
  }
  s.i32[rec + S_ENT_START] += refs.length
  s.i32[rec + S_COUNT] -= refs.length
  ScopeIndex.setBounds(s.i32, s.f64, rec)
  chargeScope(s, rec, -bytes)
}

export function chargeScope(s: Store, rec: number, bytes: number): void {
  s.i32[rec + S_BYTES_B8] += bytes >> 3
}

/** Removes the live entry at `pos` (inside a publish window). */
export function removeAtLocked(s: Store, rec: number, pos: number, item: number, shifted = false): void {
  const { i32 } = s
  const count = i32[rec + S_COUNT]
  const start = i32[rec + S_ENT_START]
  const w = s.idx.entW(rec)
  if (pos < count / 2) {
    // shift the older side right by one and advance the start
    if (!shifted) i32.copyWithin(w + start + 1, w + start, w + start + pos)
    i32[rec + S_ENT_START] = start + 1
  } else if (!shifted) {
    i32.copyWithin(w + start + pos, w + start + pos + 1, w + start + count)
  }
  i32[rec + S_COUNT] = count - 1
  if (count - 1 === 0) i32[rec + S_ENT_START] = 0
  ScopeIndex.setBounds(i32, s.f64, rec) // a hole, unless the oldest or newest went
  if (s.idx.idLen(item) > 0) s.ids.untable(rec, item, s.ids.hashItem(item))
  if ((i32[item * 2 + I_TS_HI] & I_EXPIRES) !== 0) i32[rec + S_EXP_ITEMS]--
  chargeScope(s, rec, -s.heap.sizeOf(item))
}

export function readId(s: Store, item: number): string | null {
  const n = s.idx.idLen(item)
  if (n === 0) return null
  const a = s.idx.idStart(item)
  return s.buf.utf8Slice(a, a + n)
}

/** Fresh record fields for a slot given to a new scope (directory lock held, change in progress). */
export function initRecord(s: Store, rec: number, nameRef: number, nameBytes: number, nameBlock: number, ts: number): void {
  const { i32, f64 } = s
  const r2 = rec >> 1
  ScopeIndex.clear(i32, rec)
  i32[rec + S_NAME_REF] = nameRef
  i32[rec + S_NAME_LEN] = nameBytes
  i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + nameBlock) >> 3
  f64[r2 + S_FIRST_SEQ_F] = 1
  f64[r2 + S_LAST_SEQ_F] = 0
  f64[r2 + S_CREATED_TS_F] = ts
  f64[r2 + S_LAST_WRITE_TS_F] = ts
  f64[r2 + S_LAST_ACCESS_TS_F] = 0
  f64[r2 + S_EXP_MIN_F] = 0 // (S_EXP_ITEMS: ScopeIndex.clear)
  f64[r2 + S_TTL_F] = 0
  startFence(f64, rec)
  // a new scope has no item limit (a limit belongs to its record: it does not outlive a drop), and
  // its access bit clear (evict.ts: its next read or write sets it)
  i32[rec + S_LIMIT] = 0
  i32[rec + S_LIMIT_MODE] = 0
  Atomics.store(i32, rec + S_CLOCK, 0)
  Atomics.store(i32, rec + S_READS_LO, 0)
  Atomics.store(i32, rec + S_READS_HI, 0)
  Atomics.add(i32, rec + S_GEN, 1)
  Atomics.store(i32, rec + S_STATE, SCOPE_LIVE)
}

/** Lists a scope's blocks (items, arrays, and with `name` its name block). */
export function collectBlocks(s: Store, rec: number, out: number[], name: boolean): void {
  const { i32 } = s
  const count = i32[rec + S_COUNT]
  for (let k = 0; k < count; k++) out.push(s.idx.refAt(rec, k))
  if (i32[rec + S_ENT_REF] !== 0) out.push(i32[rec + S_ENT_REF])
  if (i32[rec + S_ID_REF] !== 0) out.push(i32[rec + S_ID_REF])
  if (name) out.push(i32[rec + S_NAME_REF])
}

export function sumSizes(heap: Heap, refs: number[]): number {
  let s = 0
  for (const r of refs) s += heap.sizeOf(r)
  return s
}

/** The name of the scope in directory slot `slot`. */
export function nameOf(s: Store, slot: number): string {
  const rec = s.dir.rec(slot)
  const a = s.i32[rec + S_NAME_REF] * 8 + 8
  return s.buf.utf8Slice(a, a + s.i32[rec + S_NAME_LEN])
}
