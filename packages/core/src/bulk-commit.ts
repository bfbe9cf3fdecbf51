/**
 * warm/rebuild after their batch is prepared (bulk.ts): build every scope's blocks beside the live
 * data, then under the directory lock and every touched scope's lock charge the budget against
 * the final state, swap everything in within one directory change (the touched records saved in
 * an undo block first), and settle the blocks of either side if the swap is rolled back.
 */
import { PENDING } from './alloc.js'
import { carveGroup, prepareBatch, releaseBatch, reseqGroup, tableGroup, throwFirstDuplicate, type Built, type BulkBatch, type BulkGroup } from './bulk.js'
import { ScopeCacheError, storeFull, tooLarge } from './errors.js'
import { evictAfter, EVICT_ROUNDS } from './evict.js'
import { fault } from './fault.js'
import { raiseFloor, startFence } from './fences.js'
import {
  B_TAG, EXPIRY_BYTES, H_ITEMS, H_SCOPES, S_EXP_ITEMS, S_EXP_MIN_F, S_TTL_F, S_BYTES_B8, S_COUNT, S_ENT_CAP, S_ENT_REF, S_ENT_START, S_FIRST_SEQ_F, S_GEN, S_HOLES, S_ID_CAP,
  S_ID_REF, S_ID_USED, S_LAST_SEQ_F, S_LAST_WRITE_TS_F, S_LOCK, S_NAME_REF, S_STATE, S_VER, SCOPE_FREE,
  SCOPE_RECORD_BYTES, SCOPE_WORDS, T_UNDO_A, T_UNDO_OP, T_UNDO_REC, TAG_ENTRIES, TAG_IDTAB, TAG_NAME, TAG_PENDING,
  TAG_UNDO, UNDO_BULK,
} from './layout.js'
import { release } from './lock.js'
import { MESSAGES } from './limits.js'
import { collectBlocks, initRecord } from './scope-edit.js'
import type { Store } from './store.js'
import { ensureStack, type Txn } from './txn.js'
import type { WarmItem } from './types.js'
import { utf8Length } from './validate.js'

export function prepareBulk(s: Store, items: readonly WarmItem[], op: 'warm' | 'rebuild'): BulkBatch {
  const { cfg, heap } = s
  const batch = prepareBatch(items, op, {
    maxItemBytes: cfg.maxItemBytes, scopeMaxItems: cfg.scopeMaxItems, maxScopes: cfg.maxScopes, maxStoreBytes: cfg.maxStoreBytes,
    chargedBytes: () => heap.chargedBytes(),
  })
  try {
    if (op === 'warm') applyScopeTtls(s, batch)
  } catch (e) {
    releaseBatch(batch)
    throw e
  }
  return batch
}

/**
 * warm keeps its scopes: an item without ttlMs gets its scope's default TTL (setScopeTtl) as read
 * now, without the scope's lock (a setScopeTtl racing the warm may or may not apply to it).
 * rebuild makes every scope new, defaults included.
 */
function applyScopeTtls(s: Store, b: BulkBatch): void {
  const { dir, f64 } = s
  const dflt = b.groups.map((g) => {
    const slot = dir.resolve(g.scope)
    const ttl = slot >= 0 ? f64[(dir.rec(slot) >> 1) + S_TTL_F] : 0
    return Number.isSafeInteger(ttl) && ttl > 0 ? ttl : 0
  })
  if (!dflt.some((d) => d > 0)) return
  const ttl = (b.ttl ??= new Float64Array(b.n))
  for (let i = 0; i < b.n; i++) {
    const g = b.grp[i]
    if (g < 0 || ttl[i] > 0 || dflt[g] === 0) continue
    ttl[i] = dflt[g]
    b.size[i] += EXPIRY_BYTES
    b.groups[g].itemBytes += EXPIRY_BYTES
    if (b.size[i] > s.cfg.maxItemBytes) throw tooLarge(b.size[i], s.cfg.maxItemBytes)
  }
}

/**
 * Builds every group's blocks beside the live data (PENDING), then, holding the directory lock
 * and the lock of every scope involved, checks the budget against the final state and swaps
 * everything in within one directory change. `replaceAll` (rebuild) drops every other scope
 * too and makes every listed scope new; warm keeps existing scopes' records and seq counters.
 * Everything O(items) — seqs, tag words, old-block lists — happens before the change opens,
 * so readers of other scopes that must look a name up wait only for the pointer swaps.
 */
/**
 * warm's commit. Under whenFull 'evict' a warm that does not fit evicts other scopes and commits
 * again (rebuild replaces every scope anyway: it has nothing to evict).
 */
export function warmCommit(t: Txn, batch: BulkBatch): void {
  for (let round = 0; ; round++) {
    try {
      return bulkCommit(t, batch, false)
    } catch (e) {
      const scopes = (e as ScopeCacheError).details === undefined ? batch.groups.length : 0 // over maxScopes
      if (round >= EVICT_ROUNDS || !evictAfter(t, e, -1, scopes)) throw e
    }
  }
}

export function bulkCommit(t: Txn, batch: BulkBatch, replaceAll: boolean): void {
  const st = t.s
  const { i32, f64, heap, dir } = st
  const { groups } = batch
  const pending: number[] = [] // names, entries, id tables; the items are in `built`
  const built: Built = { refs: batch.refs, n: 0 }
  let committed = false
  let undoRef = 0
  let old: Int32Array = new Int32Array(0) // the replaced blocks (the first nOld), then spare names and the undo block
  let nOld = 0
  let spareNames: number[] = []
  try {
    let ts = st.now()
    try {
      for (const g of groups) buildGroup(t, batch, g, pending, built, replaceAll, ts)
    } catch (e) {
      // a duplicate id earlier in the batch than what stopped the build is the first problem
      if (e instanceof ScopeCacheError) throwFirstDuplicate(batch, batch.n)
      throw e
    }
    fault('bulk:built')
    dir.lock()
    try {
      const names = groups.map((g) => g.scope)
      const existing = names.map((s) => (replaceAll ? -1 : dir.findLocked(s)))
      const touched = replaceAll ? dir.liveSlots() : existing.filter((s) => s >= 0).sort((a, b) => a - b)
      const created = existing.filter((s) => s < 0).length
      if ((replaceAll ? 0 : Atomics.load(i32, H_SCOPES)) + created > st.cfg.maxScopes) {
        throw new ScopeCacheError('store_full', MESSAGES.scopeTableFull(st.cfg.maxScopes))
      }
      const locked: number[] = []
      try {
        for (const s of touched) {
          t.lockScope(dir.rec(s))
          locked.push(s)
        }
        // heap bytes: warm keeps an existing scope's name block and drops the built one
        let newHeap = 0
        let oldHeap = 0
        spareNames = []
        groups.forEach((g, i) => {
          newHeap += g.bytes
          if (existing[i] >= 0) {
            newHeap -= g.nameSize
            spareNames.push(g.name)
          }
        })
        for (const s of touched) {
          const rec = dir.rec(s)
          oldHeap += i32[rec + S_BYTES_B8] * 8 - SCOPE_RECORD_BYTES - (replaceAll ? 0 : heap.sizeOf(i32[rec + S_NAME_REF]))
        }
        const records = (created - (replaceAll ? touched.length : 0)) * SCOPE_RECORD_BYTES
        // Every wait comes before the commit: after it, the swap must not fail. The undo record is
        // the touched records as they are (locked: they cannot change), so a reaper can put them back.
        undoRef = bulkUndo(st, touched)
        ensureStack()
        heap.lock()
        let ok: boolean
        const charged = heap.chargedBytes()
        try {
          ok = heap.commitLocked(newHeap, oldHeap, records)
        } finally {
          heap.unlock()
        }
        if (!ok) throw storeFull(replaceAll ? 0 : charged, newHeap - oldHeap + records, st.cfg.maxStoreBytes)
        committed = true
        // The counters moved in commitLocked; the tag words follow (the directory lock keeps the
        // reaper from seeing them disagree). Old blocks become ours to free, as PENDING; so do
        // the spare name blocks, which stay PENDING.
        const spare = new Set(spareNames)
        for (const b of pending) if (!spare.has(b)) heap.markPending(b, false)
        const { refs } = built
        for (let k = 0; k < built.n; k++) i32[refs[k] * 2 + B_TAG] &= ~TAG_PENDING
        old = collectOld(st, touched, replaceAll, spareNames.length + 1)
        nOld = old.length - spareNames.length - 1
        for (let k = 0; k < nOld; k++) {
          heap.adopt(old[k])
          heap.markPending(old[k], true)
        }
        // The items were numbered (and stamped) at build time after each scope's lastSeq as it was then;
        // a locked scope's lastSeq is stable: renumber a group whose scope moved on meanwhile, and
        // restamp everything if a scope was written after `ts` (its last write time must not go back).
        let late = false
        for (let i = 0; i < groups.length; i++) {
          if (existing[i] >= 0 && f64[(dir.rec(existing[i]) >> 1) + S_LAST_WRITE_TS_F] > ts) late = true
        }
        if (late) ts = Math.max(st.now(), ...existing.map((s) => (s >= 0 ? f64[(dir.rec(s) >> 1) + S_LAST_WRITE_TS_F] : 0)))
        groups.forEach((g, i) => {
          const lastSeq = existing[i] >= 0 ? f64[(dir.rec(existing[i]) >> 1) + S_LAST_SEQ_F] : 0
          if (late || lastSeq !== g.lastSeq) reseqGroup(i32, g, lastSeq, ts)
        })
        i32[st.slotW + T_UNDO_OP] = UNDO_BULK
        i32[st.slotW + T_UNDO_A] = undoRef
        Atomics.store(i32, st.slotW + T_UNDO_REC, undoRef > 0 ? 1 : 0)
        try {
          swapLocked(t, names, groups, existing, touched, created, replaceAll, ts)
        } catch (e) {
          // rolled back (or scopes emptied): settle every block of either side against the records
          settleBlocks(t, pending.concat(Array.from(built.refs.subarray(0, built.n)), Array.from(old.subarray(0, nOld))), records)
          nOld = 0
          spareNames = []
          throw e
        }
        if (replaceAll) for (const s of touched) dir.putSlotLocked(s)
      } finally {
        for (const s of locked) release(i32, dir.rec(s) + S_LOCK, st.token)
      }
    } finally {
      dir.unlock()
    }
    t.bumpLastWrite(ts)
  } catch (e) {
    if (!committed) t.freeRetired(pending.concat(Array.from(built.refs.subarray(0, built.n)))) // PENDING and ours: deferred if the allocator is busy
    if (undoRef > 0) t.freeRetired([undoRef])
    throw e
  }
  let n = nOld
  for (const b of spareNames) old[n++] = b
  if (undoRef > 0) old[n++] = undoRef
  t.freeRetired(old.subarray(0, n), true) // a warm-built scope's items are heap neighbours: freed as runs
}

/**
 * The touched scopes' blocks (items in order, entries, id table, and with `name` the name block),
 * as collectBlocks lists them, followed by `extra` unused slots.
 */
function collectOld(st: Store, touched: number[], name: boolean, extra: number): Int32Array {
  const { i32, dir, idx } = st
  let total = extra
  for (const s of touched) total += i32[dir.rec(s) + S_COUNT] + 3
  const refs = new Int32Array(total)
  let n = 0
  for (const s of touched) {
    const rec = dir.rec(s)
    const count = i32[rec + S_COUNT]
    const e = count > 0 ? idx.entW(rec) + i32[rec + S_ENT_START] : 0
    for (let k = 0; k < count; k++) refs[n++] = i32[e + k]
    if (i32[rec + S_ENT_REF] !== 0) refs[n++] = i32[rec + S_ENT_REF]
    if (i32[rec + S_ID_REF] !== 0) refs[n++] = i32[rec + S_ID_REF]
    if (name) refs[n++] = i32[rec + S_NAME_REF]
  }
  return refs.subarray(0, n + extra)
}

/**
 * The swap of a warm/rebuild: one directory change with every touched scope's window odd.
 * A throw inside (a stack overflow: nothing else throws here) closes every window and the
 * change, rolling the swap back from the undo record (abortDirChange); the caller then settles
 * the blocks (settleBlocks).
 */
function swapLocked(
  t: Txn, names: string[], groups: BulkGroup[], existing: number[], touched: number[], created: number,
  replaceAll: boolean, ts: number,
): void {
  const st = t.s
  const { i32, f64, heap, dir } = st
  const fresh: number[] = []
  let itemDelta = 0
  let itemsDone = false
  raiseFloor(f64, touched.map((s) => dir.rec(s))) // replaced content gets fences above the old ones
  dir.beginChange()
  try {
    for (const s of touched) Atomics.add(i32, dir.rec(s) + S_VER, 1)
    fault('bulk:swapping')
    if (replaceAll) {
      for (const s of touched) {
        const rec = dir.rec(s)
        itemDelta -= i32[rec + S_COUNT]
        i32[rec + S_COUNT] = 0
        Atomics.store(i32, rec + S_STATE, SCOPE_FREE)
        Atomics.add(i32, rec + S_GEN, 1)
      }
      dir.clearLocked()
    }
    names.forEach((scope, i) => {
      const g = groups[i]
      itemDelta += g.count
      if (existing[i] >= 0) {
        const rec = dir.rec(existing[i])
        itemDelta -= i32[rec + S_COUNT]
        installGroup(st, rec, g, ts, f64[(rec >> 1) + S_LAST_SEQ_F])
        startFence(f64, rec)
        i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + heap.sizeOf(i32[rec + S_NAME_REF]) + g.bytes - g.nameSize) >> 3
      } else {
        const slot = dir.takeSlotLocked()
        const rec = dir.rec(slot)
        // odd until installed: a death in between leaves it visibly torn for the reaper
        Atomics.add(i32, rec + S_VER, 1)
        fresh.push(slot)
        initRecord(st, rec, g.name, utf8Length(scope), g.nameSize, ts)
        installGroup(st, rec, g, ts, 0)
        i32[rec + S_BYTES_B8] = (SCOPE_RECORD_BYTES + g.bytes) >> 3
        dir.insertLocked(slot, dir.hash(scope))
      }
    })
    Atomics.add(i32, H_SCOPES, created - (replaceAll ? touched.length : 0))
    Atomics.add(i32, H_ITEMS, itemDelta)
    itemsDone = true
    for (const s of touched) Atomics.add(i32, dir.rec(s) + S_VER, 1)
    for (const s of fresh) Atomics.add(i32, dir.rec(s) + S_VER, 1)
    dir.endChange()
    Atomics.store(i32, st.slotW + T_UNDO_REC, 0)
  } catch (e) {
    if (itemsDone) Atomics.sub(i32, H_ITEMS, itemDelta)
    t.abortDirChange(touched.concat(fresh))
    throw e
  }
}

/**
 * After a swap was rolled back: of `blocks` (both sides, all ours), those the scopes reach
 * again are charged, the rest are freed, and the swap's record charge is refunded — the
 * accounting as it was before the commit. If the allocator stays busy, the sweep of a reap does it.
 */
function settleBlocks(t: Txn, blocks: number[], records: number): void {
  const st = t.s
  const { heap, dir, i32 } = st
  const reached: number[] = []
  // every live scope, not only the touched ones: a scope the swap was creating may have been
  // emptied rather than dropped (no undo block). Other scopes cannot reach our blocks.
  for (const s of dir.liveSlots()) collectBlocks(st, dir.rec(s), reached, true)
  const live = new Set(reached)
  const revived = blocks.filter((b) => live.has(b))
  const dead = blocks.filter((b) => !live.has(b))
  try {
    heap.lock()
  } catch (e) {
    t.dirty = true
    throw e
  }
  try {
    for (const b of dead) heap.freeLocked(b)
    let bytes = 0
    for (const b of revived) {
      if ((i32[b * 2 + B_TAG] & TAG_PENDING) === 0) continue
      bytes += heap.sizeOf(b)
      heap.markPending(b, false)
    }
    heap.commitLocked(bytes, 0, -records)
  } finally {
    heap.unlock()
  }
}

/**
 * Copies the records a bulk swap will change into a PENDING block of this thread's:
 * [count, (record word index, its SCOPE_WORDS words) × count]. 0 when the heap has no room (the swap then
 * goes on without an undo record: a death inside it empties those scopes instead).
 */
function bulkUndo(s: Store, slots: number[]): number {
  const { i32, dir } = s
  const ref = s.heap.alloc((1 + slots.length * (1 + SCOPE_WORDS)) * 4, TAG_UNDO, PENDING)
  if (ref <= 0) return 0
  let w = ref * 2 + 2
  i32[w++] = slots.length
  for (const slot of slots) {
    const rec = dir.rec(slot)
    i32[w++] = rec
    i32.copyWithin(w, rec, rec + SCOPE_WORDS)
    w += SCOPE_WORDS
  }
  return ref
}

/**
 * Allocates a group's name, entries, items and id table as PENDING blocks; the items are carved
 * from large blocks and numbered after the scope's lastSeq as read now (checked under its lock).
 */
function buildGroup(t: Txn, batch: BulkBatch, g: BulkGroup, pending: number[], built: Built, replaceAll: boolean, ts: number): void {
  const st = t.s
  const { i32, f64, heap, dir } = st
  const nameBytes = utf8Length(g.scope)
  g.name = t.allocOrFull(nameBytes, TAG_NAME, PENDING)
  pending.push(g.name)
  st.v.buf.write(g.scope, g.name * 8 + 8, nameBytes, 'utf8')
  g.nameSize = heap.sizeOf(g.name)
  const n = g.count
  g.entCap = Math.max(4, 2 ** Math.ceil(Math.log2(Math.max(1, n))))
  g.ent = t.allocOrFull(g.entCap * 4, TAG_ENTRIES, PENDING)
  pending.push(g.ent)
  if (!replaceAll) {
    const slot = dir.resolve(g.scope)
    g.lastSeq = slot >= 0 ? f64[(dir.rec(slot) >> 1) + S_LAST_SEQ_F] : 0 // a guess: no lock held
    if (!Number.isSafeInteger(g.lastSeq) || g.lastSeq < 0) g.lastSeq = 0
  }
  const itemBlocks = carveGroup({ i32, f64, u8: st.v.u8, buf: st.v.buf, heap }, batch, g, ts, built)
  if (itemBlocks < 0) throw storeFull(heap.chargedBytes(), heap.refusedBytes, st.cfg.maxStoreBytes)
  if (g.idCount > 0) {
    g.tabCap = tableGroup(i32, st.ids, batch, g, (id) => st.hashId(id))
    if (g.tabCap < 0) {
      throwFirstDuplicate(batch, batch.n)
      throw new Error('scopecache: duplicate id not found again (internal bug)')
    }
    g.tab = t.allocOrFull(g.tabCap * 4, TAG_IDTAB, PENDING)
    pending.push(g.tab)
    st.ids.install(g.tab, g.tabCap)
  }
  g.bytes = g.nameSize + heap.sizeOf(g.ent) + (g.tab !== 0 ? heap.sizeOf(g.tab) : 0) + itemBlocks
}

/** Points a scope record at a built group (inside its publish window). */
function installGroup(s: Store, rec: number, g: BulkGroup, ts: number, lastSeq: number): void {
  const { i32, f64 } = s
  const r2 = rec >> 1
  const n = g.count
  i32[rec + S_ENT_REF] = g.ent
  i32[rec + S_ENT_CAP] = g.entCap
  i32[rec + S_ENT_START] = 0
  f64[r2 + S_FIRST_SEQ_F] = lastSeq + 1
  i32[rec + S_HOLES] = 0
  i32[rec + S_ID_REF] = g.tab
  i32[rec + S_ID_CAP] = g.tabCap
  i32[rec + S_ID_USED] = g.idCount
  i32[rec + S_COUNT] = n
  f64[r2 + S_LAST_SEQ_F] = lastSeq + n
  f64[r2 + S_LAST_WRITE_TS_F] = ts
  i32[rec + S_EXP_ITEMS] = g.expCount
  f64[r2 + S_EXP_MIN_F] = g.expMin
}
