/**
 * Single-item writes inside a locked scope: append, upsert, update, counter, delete and trim
 * bodies, the insert and in-place replace they are built from (allocation, index growth, the
 * publish window; the block is filled by item-record.ts fillItem), and the item size check. The caller
 * (scope-life.ts writeScope) holds the scope lock and the transaction (txn.ts) is entered.
 */
import { ALLOC_OVER_BUDGET, CHARGED } from './alloc.js'
import { duplicateId, invalid, ScopeCacheError, storeFull, tooLarge } from './errors.js'
import { fault } from './fault.js'
import { parseJsonInteger } from './json.js'
import { idCapRoomy, idTableFull } from './id-table.js'
import { dropIfExpiredLocked, expiresAt, expiryOf, noteExpiryLocked } from './expiry.js'
import {
  EXPIRY_BYTES, H_DROPPED_LO, itemBytes, S_COUNT, S_ENT_CAP, S_ENT_REF, S_ENT_START, S_EXP_ITEMS, S_FIRST_SEQ_F, S_HOLES, S_ID_CAP,
  S_ID_REF, S_ID_USED, S_LAST_SEQ_F, S_LAST_WRITE_TS_F, T_DEFERRED_B8, TAG_ENTRIES, TAG_IDTAB, TAG_ITEM, UNDO_DELETE, UNDO_RESTORE,
} from './layout.js'
import { add64 } from './counter64.js'
import { fillItem } from './item-record.js'
import { preparePayload, type Prepared } from './payload.js'
import { holesOf } from './scope-index.js'
import { roomFor } from './scope-limit.js'
import { trimOldestLocked } from './trim-oldest.js'
import { chargeScope, idHashes, readId, removeAtLocked, sumSizes, trimLocked } from './scope-edit.js'
import type { Store } from './store.js'
import type { Txn } from './txn.js'
import type { ItemMeta } from './types.js'
import { utf8Length } from './validate.js'

/**
 * The block bytes of an item without an expiry (insert and replace add the 8 bytes of one, and
 * check the sum again when it comes from the scope's default), or throws too_large; `ttl` > 0
 * counts them here already.
 */
export function checkSize(s: Store, id: string | null, p: Prepared, ttl = 0): number {
  const size = itemBytes(id === null ? 0 : utf8Length(id), p.byteLength)
  const counted = ttl > 0 ? size + EXPIRY_BYTES : size
  if (counted > s.cfg.maxItemBytes) throw tooLarge(counted, s.cfg.maxItemBytes)
  return size
}

/** The block size of an item of `size` bytes (checkSize) with expiry `expires` (0: none); too_large past maxItemBytes. */
function withExpiry(s: Store, size: number, expires: number): number {
  if (expires === 0) return size
  if (size + EXPIRY_BYTES > s.cfg.maxItemBytes) throw tooLarge(size + EXPIRY_BYTES, s.cfg.maxItemBytes)
  return size + EXPIRY_BYTES
}

// ------------------------------------------------------------------- write bodies ----

/** append: a new item (`id` with hash `h`, or none). A full scope is reported before a duplicate id, as the reference does. */
export function appendLocked(t: Txn, scope: string, rec: number, id: string | null, h: number, p: Prepared, size: number, ttl = 0): ItemMeta {
  roomFor(t.s, scope, rec)
  const free = id === null ? -1 : liveProbe(t, rec, id, h)
  if (free >= 0) throw duplicateId()
  return insertLocked(t, scope, rec, id, h, free, p, size, true, ttl)
}

/** upsert: replaces the item with this id, or appends it. */
export function upsertLocked(
  t: Txn, scope: string, rec: number, id: string, h: number, p: Prepared, size: number, ttl = 0,
): { created: boolean; item: ItemMeta } {
  const at = liveProbe(t, rec, id, h)
  if (at < 0) return { created: true, item: insertLocked(t, scope, rec, id, h, at, p, size, true, ttl) }
  return { created: false, item: replaceLocked(t, scope, rec, t.s.ids.refOf(t.s.i32[at]), id, at, p, size, true, ttl) }
}

/** update: replaces the item with this id or seq (rec -1: no scope); 0 when there is none. */
export function updateLocked(t: Txn, scope: string, rec: number, by: string | number, p: Prepared, ttl = 0): 0 | 1 {
  const s = t.s
  if (rec < 0) return 0
  const old = findLive(t, rec, by)
  if (old < 0) return 0
  const id = readId(s, old)
  const size = checkSize(s, id, p, ttl)
  const idWord = id === null ? -1 : s.ids.probe(rec, id, s.hashId(id))
  replaceLocked(t, scope, rec, old, id, idWord, p, size, true, ttl)
  return 1
}

/** counter: adds `by` to the integer item with this id, or creates it as `by`. */
export function counterLocked(t: Txn, scope: string, rec: number, id: string, h: number, by: number): { created: boolean; value: number } {
  const s = t.s
  const at = liveProbe(t, rec, id, h)
  if (at < 0) {
    const p = preparePayload(by)
    insertLocked(t, scope, rec, id, h, at, p, checkSize(s, id, p), false)
    return { created: true, value: by }
  }
  const old = s.ids.refOf(s.i32[at])
  const current = parseJsonInteger(readPayloadText(s, old))
  if (current === undefined) throw new ScopeCacheError('conflict', "the existing payload is not an integer counter")
  const next = current + by
  if (!Number.isSafeInteger(next)) throw invalid('the counter would leave the range ±(2^53−1)')
  const p = preparePayload(next)
  // a counter keeps its expiry (a new one gets the scope's default)
  replaceLocked(t, scope, rec, old, id, at, p, checkSize(s, id, p), false, 0, expiryOf(s, old) || -1)
  return { created: false, value: next }
}

/** delete: removes the item with this id or seq (rec -1: no scope); 0 when there is none. */
export function deleteLocked(t: Txn, rec: number, by: string | number): 0 | 1 {
  const s = t.s
  if (rec < 0) return 0
  const item = findLive(t, rec, by)
  if (item < 0) return 0
  const pos = s.idx.findSeq(rec, s.idx.seqOf(item))
  s.heap.retire([item]) // the last wait: after the publish nothing may fail
  t.undo(rec, UNDO_DELETE, pos, item)
  t.publish(rec, () => {
    removeAtLocked(s, rec, pos, item)
    s.addItems(-1)
  })
  fault('write:published')
  t.freeRetired([item])
  return 1 as const
}

/** trim: removes the items with seq ≤ maxSeq, or all but the newest `keep` (rec -1: no scope). */
export function trimItemsLocked(t: Txn, rec: number, maxSeq: number | undefined, keep: number | undefined): number {
  const s = t.s
  if (rec < 0) return 0
  const count = s.i32[rec + S_COUNT]
  const n = maxSeq !== undefined ? s.idx.firstAfter(rec, maxSeq) : Math.max(0, count - (keep as number))
  if (n === 0) return 0
  trimOldestLocked(t, rec, n, true)
  return n
}


// ------------------------------------------------------------------ insert, replace ----


/** Appends a new item to a locked scope; returns its meta. */
export function insertLocked(
  t: Txn, scope: string, rec: number, id: string | null, h: number, free: number, p: Prepared, size0: number, bumpScopeWrite = true,
  ttl = 0,
): ItemMeta {
  const s = t.s
  const { i32, f64, idx, heap } = s
  const r2 = rec >> 1
  // a drop-oldest scope at its limit: its oldest item goes in this append's publish window; a scope
  // over it (the limit was lowered, or a warm filled it) first sheds the rest in a trim window
  let drop = roomFor(s, scope, rec)
  if (drop > 1) {
    trimItemsLocked(t, rec, undefined, i32[rec + S_COUNT] - drop + 1)
    add64(i32, H_DROPPED_LO, drop - 1)
    drop = 1
  }
  const count = i32[rec + S_COUNT]
  const seq = f64[r2 + S_LAST_SEQ_F] + 1
  const ts = s.now()
  const expires = expiresAt(s, rec, ts, ttl)
  const size = withExpiry(s, size0, expires)
  // charged at once: a new item has no old one whose bytes it could reuse. One of this thread's
  // ready blocks, or one allocator round trip (which also frees this thread's spare block)
  let item = heap.takeReady(size - 8, TAG_ITEM)
  if (item === 0) {
    t.lockHeap()
    try {
      item = heap.allocLocked(size - 8, TAG_ITEM, CHARGED)
    } finally {
      heap.unlock()
    }
  }
  if (item <= 0) throw storeFull(heap.chargedBytes(), heap.refusedBytes, s.cfg.maxStoreBytes)
  fillItem(s, item, id, p, seq, ts, expires)
  let added = heap.sizeOf(item) // may exceed `size` by a remainder too small to split
  fault('insert:allocated')
  // index arrays allocated for this append (0: none), and the ones they replace
  let freshEnt = 0
  let freshTab = 0
  let stale: number[] | null = null
  let published = false
  try {
    // The entries tail is full: copy the live entries into a fresh array (same size when at
    // most half full, else double).
    const oldEnt = i32[rec + S_ENT_REF]
    let ent = oldEnt
    let entCap = i32[rec + S_ENT_CAP]
    let entStart = i32[rec + S_ENT_START]
    if (ent === 0 || entStart + count >= entCap) {
      entCap = Math.max(4, count + 1 > entCap / 2 ? entCap * 2 : entCap)
      ent = freshEnt = t.allocOrFull(entCap * 4, TAG_ENTRIES, CHARGED)
      if (count > 0) i32.copyWithin(ent * 2 + 2, idx.entW(rec) + entStart, idx.entW(rec) + entStart + count)
      entStart = 0
    }
    // the new item's seq is lastSeq + 1: past the last live one when the newest items were deleted
    const first = count > 0 ? f64[r2 + S_FIRST_SEQ_F] : seq
    const holes = count > 0 ? holesOf(first, seq, count + 1) : 0
    // The id table would pass 0.8 load (tombstones count), or has no free slot within the probe
    // bound for this id: rehash every live id (from its bytes) and this one into a fresh table.
    const oldTab = i32[rec + S_ID_REF]
    let tab = oldTab
    let tabCap = i32[rec + S_ID_CAP]
    let used = i32[rec + S_ID_USED]
    // `free` (from IdTable.probe) is the slot the id takes in the current table; a fresh table gets its own.
    let idSlot = id === null ? -1 : -1 - free
    if (id !== null && (idSlot === 0 || idTableFull(used, tabCap))) {
      const { ids } = s
      const n = ids.gather(rec, count)
      ids.pair(n, h, item)
      tabCap = ids.build(n + 1, idCapRoomy(count + 1), false)
      tab = freshTab = t.allocOrFull(tabCap * 4, TAG_IDTAB, CHARGED)
      ids.install(tab, tabCap)
      used = n + 1
      idSlot = tab * 2 + 2 + ids.lastSlot
    }
    if (freshEnt !== 0 || freshTab !== 0) {
      stale = []
      if (freshEnt !== 0) {
        added += heap.sizeOf(freshEnt)
        if (oldEnt !== 0) stale.push(oldEnt)
      }
      if (freshTab !== 0) {
        added += heap.sizeOf(freshTab)
        if (oldTab !== 0) stale.push(oldTab)
      }
      added -= sumSizes(heap, stale)
      if (stale.length > 0) heap.retire(stale) // the last wait: after the publish nothing may fail
    }
    fault('insert:indexed')
    // the oldest item a drop-oldest append drops, and the slot of its id in the table it leaves
    let dropped: number[] | null = null
    let dropHashes: number[] = []
    let dropBytes = 0
    let dropSlot = -1
    if (drop > 0) {
      dropped = [idx.refAt(rec, 0)]
      dropHashes = idHashes(s, dropped)
      dropBytes = heap.sizeOf(dropped[0])
      // (a fresh table is private until the window: the old one stays as the undo snapshot names it)
      if (freshTab === 0 && dropHashes[0] !== 0) dropSlot = s.ids.slotOfItem(rec, dropped[0], dropHashes[0])
      heap.retire(dropped) // (with the stale arrays': the last wait before the publish)
    }
    // The entry goes past the live window (invisible until S_COUNT moves); the id slots are
    // words outside the record, so the undo record keeps their old values: the new id's, and the
    // dropped item's (tombstoned in the window) — so a dead writer's append and its drop are both undone.
    t.undo(rec, UNDO_RESTORE)
    if (idSlot >= 0) t.patch(0, idSlot)
    if (dropSlot >= 0) t.patch(1, dropSlot)
    published = true // from here on the blocks belong to the scope, even if the window throws
    // the publish window, inline (see publish)
    t.openWindow(rec)
    try {
      fault('publish:open')
      i32[ent * 2 + 2 + entStart + count] = item
      if (id !== null) {
        if (i32[idSlot] === 0) used++
        i32[idSlot] = s.ids.slotOf(h, item)
        i32[rec + S_ID_REF] = tab
        i32[rec + S_ID_CAP] = tabCap
        i32[rec + S_ID_USED] = used
      }
      i32[rec + S_ENT_REF] = ent
      i32[rec + S_ENT_CAP] = entCap
      i32[rec + S_ENT_START] = entStart
      f64[r2 + S_FIRST_SEQ_F] = first
      i32[rec + S_HOLES] = holes
      i32[rec + S_COUNT] = count + 1
      f64[r2 + S_LAST_SEQ_F] = seq
      if (bumpScopeWrite) f64[r2 + S_LAST_WRITE_TS_F] = ts
      if (expires > 0) noteExpiryLocked(s, rec, expires, 1)
      chargeScope(s, rec, added)
      if (dropped === null) s.addItems(1)
      else {
        // the tables in the record are the new ones by now: the dropped ids go from them
        trimLocked(s, rec, dropped, dropHashes, dropBytes)
        fault('ring:dropped')
      }
    } catch (e) {
      t.tornWindow(rec)
      throw e
    } finally {
      t.closeWindow(rec)
    }
    fault('write:published')
    if (stale !== null && stale.length > 0) t.freeRetired(stale)
    if (dropped !== null) {
      t.freeRetired(dropped)
      add64(i32, H_DROPPED_LO, 1)
    }
  } catch (e) {
    if (!published) {
      const refs: number[] = []
      if (freshEnt !== 0) refs.push(freshEnt)
      if (freshTab !== 0) refs.push(freshTab)
      refs.push(item)
      t.dropUnpublished(refs)
    }
    throw e
  }
  t.bumpLastWrite(ts)
  return { scope, id, seq, ts }
}


/**
 * Replaces a live item's payload in place: same seq, new ts (`keepTs` > 0: that one). Its expiry:
 * `keepExpires` (> 0, or -1 for none), else `ttl` ms from now, else the scope's default.
 */
export function replaceLocked(
  t: Txn, scope: string, rec: number, old: number, id: string | null, idWord: number, p: Prepared, size0: number, bumpScopeWrite = true,
  ttl = 0, keepExpires = 0, keepTs = 0,
): ItemMeta {
  const s = t.s
  const { i32, f64, heap } = s
  const seq = s.idx.seqOf(old)
  const ts = keepTs > 0 ? keepTs : s.now()
  const expires = keepExpires !== 0 ? Math.max(0, keepExpires) : expiresAt(s, rec, ts, ttl)
  const size = withExpiry(s, size0, expires)
  const expDelta = (expires > 0 ? 1 : 0) - (expiryOf(s, old) > 0 ? 1 : 0)
  const oldSize = heap.sizeOf(old)
  const spare = t.spare
  let item: number
  let swapped = false
  if (spare !== 0 && heap.sizeOf(spare) === oldSize && (oldSize === size || oldSize === size + 8)) {
    // No allocator round: the spare (a block of old's size) becomes the item, old the spare to be
    item = spare
    t.spare = 0
    heap.swapSpare(item, old, TAG_ITEM)
    swapped = true
  } else {
    // One allocator round: the new block, charged if the budget holds it net of the old one,
    // the old one retired (PENDING, ours), and the spare freed
    t.lockHeap()
    try {
      item = heap.allocReplacingLocked(size - 8, TAG_ITEM, old)
    } finally {
      heap.unlock()
    }
    if (item <= 0) throw storeFull(heap.chargedBytes(), heap.refusedBytes - (item === ALLOC_OVER_BUDGET ? oldSize : 0), s.cfg.maxStoreBytes)
  }
  let published = false
  try {
    fillItem(s, item, id, p, seq, ts, expires)
    fault('insert:allocated')
    const pos = s.idx.findSeq(rec, seq)
    const entWord = s.idx.entW(rec) + i32[rec + S_ENT_START] + pos
    t.undo(rec, UNDO_RESTORE)
    t.patch(0, entWord)
    if (idWord >= 0) t.patch(1, idWord)
    published = true
    t.openWindow(rec)
    try {
      fault('publish:open')
      i32[entWord] = item
      if (idWord >= 0) i32[idWord] = s.ids.slotOf(i32[idWord], item) // same id: same tag
      if (bumpScopeWrite) f64[(rec >> 1) + S_LAST_WRITE_TS_F] = ts
      if (expires > 0 || expDelta !== 0) noteExpiryLocked(s, rec, expires, expDelta)
      chargeScope(s, rec, heap.sizeOf(item) - oldSize)
    } catch (e) {
      t.tornWindow(rec)
      throw e
    } finally {
      t.closeWindow(rec)
    }
  } catch (e) {
    // not published (only a fault hook or a stack overflow throws here): take the swap back
    if (!published) {
      if (swapped) {
        heap.unswapSpare(item, old)
        t.spare = item
      } else t.unreplaceOrDirty(item, old)
    }
    throw e
  }
  fault('write:published')
  // old (retired above) becomes the spare: a later replace reuses it, a later allocation frees it
  t.spare = old
  if (!swapped) Atomics.add(i32, s.slotW + T_DEFERRED_B8, oldSize >> 3) // (swapped: same size out and in)
  t.bumpLastWrite(ts)
  return { scope, id, seq, ts }
}


/**
 * IdTable.probe (the id's slot, or -1 − the free slot it would take) that sees an expired item as
 * absent: one the write's reclaim left (it stops at its bound) is removed first.
 */
function liveProbe(t: Txn, rec: number, id: string, h: number): number {
  const at = t.s.ids.probe(rec, id, h)
  if (at < 0 || t.s.i32[rec + S_EXP_ITEMS] === 0 || !dropIfExpiredLocked(t, rec, t.s.ids.refOf(t.s.i32[at]))) return at
  return t.s.ids.probe(rec, id, h)
}

/** findLocked that sees an expired item as absent (and removes it). */
function findLive(t: Txn, rec: number, by: string | number): number {
  const item = findLocked(t.s, rec, by)
  return item < 0 || t.s.i32[rec + S_EXP_ITEMS] === 0 || !dropIfExpiredLocked(t, rec, item) ? item : -1
}

/** The live item with this id or seq in a locked scope, or -1. */
export function findLocked(s: Store, rec: number, by: string | number): number {
  if (typeof by === 'string') {
    const at = s.ids.find(rec, by, s.hashId(by))
    return at < 0 ? -1 : s.ids.refOf(s.i32[at])
  }
  const pos = s.idx.findSeq(rec, by)
  return pos < 0 ? -1 : s.idx.refAt(rec, pos)
}

export function readPayloadText(s: Store, item: number): string {
  const a = s.idx.idStart(item) + s.idx.idLen(item)
  return s.buf.utf8Slice(a, a + s.idx.payloadLen(item))
}
