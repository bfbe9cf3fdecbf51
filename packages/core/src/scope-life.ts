/**
 * A scope's life: running a write under its lock (creating the scope first if asked, and removing
 * it again if that write fails before anything reached it), and dropping scopes (dropScope,
 * dropPrefix, flush) inside one directory change.
 * Lock order: directory → scope(s, in slot order) → allocator. An eviction (evict.ts) takes its
 * victims' scope locks only by a compare-exchange from free, so it never waits for one.
 */
import { CHARGED } from './alloc.js'
import { nowMicros } from './clock.js'
import { ScopeCacheError, storeFull } from './errors.js'
import { reclaimBeforeWrite } from './expiry.js'
import { fault } from './fault.js'
import { evictAfter, evictLocked, EVICT_ROUNDS, finishEviction } from './evict.js'
import { H_SCOPES, S_CLOCK, S_EXP_ITEMS, S_GEN, S_LAST_SEQ_F, S_LOCK, S_STATE, SCOPE_LIVE, SCOPE_RECORD_BYTES, TAG_NAME, blockBytes } from './layout.js'
import { release } from './lock.js'
import { MESSAGES } from './limits.js'
import { dropSlotsLocked, finishDrop, type Dropped } from './scope-drop.js'
import { initRecord, nameOf } from './scope-edit.js'
import type { Txn } from './txn.js'
import { utf8Length } from './validate.js'

/**
 * Runs `fn` under the scope's writer lock. With `create`, a missing scope is created first
 * (and removed again if `fn` throws before anything was written to it); without, `fn` gets
 * rec = -1 for a missing scope.
 */
export function writeScope<T>(t: Txn, scope: string, create: boolean, fn: (slot: number, rec: number) => T, reclaim = true): T {
  t.enter(true) // not via busy(): no closure on the hot path
  try {
    return writeBusy(t, scope, create, fn, reclaim)
  } catch (e) {
    t.noteFailure(e)
    throw e
  } finally {
    t.leave()
  }
}

function writeBusy<T>(t: Txn, scope: string, create: boolean, fn: (slot: number, rec: number) => T, reclaim: boolean): T {
  const { i32, dir, token, cfg } = t.s
  // with whenFull 'evict': the scope this call created (kept, empty, across evict-and-retry rounds)
  let madeSlot = -1
  let madeGen = 0
  let rounds = 0
  for (;;) {
    let slot = dir.resolve(scope)
    let created = false
    if (slot < 0) {
      if (!create) return fn(-1, -1)
      slot = createScope(t, scope)
      created = true
    }
    const gen = dir.gen
    const rec = dir.rec(slot)
    if (created) {
      madeSlot = slot
      madeGen = gen
    }
    try {
      t.lockScope(rec)
    } catch (e) {
      if (madeSlot >= 0) rollbackCreated(t, madeSlot, madeGen) // may time out too: then an empty scope stays
      throw e
    }
    if (i32[rec + S_GEN] !== gen || i32[rec + S_STATE] !== SCOPE_LIVE) {
      release(i32, rec + S_LOCK, token)
      dir.forget(scope)
      continue
    }
    fault('write:locked')
    t.created = created || (slot === madeSlot && gen === madeGen)
    // a write to a scope is an access (evict.ts); the write that creates one is not: a new scope
    // starts with its bit clear, so one never used again goes at the hand's next pass
    if (cfg.evict && !t.created && i32[rec + S_CLOCK] === 0) Atomics.store(i32, rec + S_CLOCK, 1)
    let result: T
    try {
      // expired items go first, in this lock hold: the write then sees only live ones (expiry.ts)
      if (reclaim && i32[rec + S_EXP_ITEMS] !== 0) reclaimBeforeWrite(t, rec)
      result = fn(slot, rec)
    } catch (e) {
      release(i32, rec + S_LOCK, token)
      // full, and the store evicts: make room with no lock of ours held (evict.ts), and try again
      let again = false
      try {
        again = cfg.evict && rounds++ < EVICT_ROUNDS && evictAfter(t, e, slot)
      } catch (e2) {
        if (madeSlot >= 0) rollbackCreated(t, madeSlot, madeGen) // (the eviction's lock wait ran out)
        throw e2
      }
      if (again) continue
      if (madeSlot >= 0) rollbackCreated(t, madeSlot, madeGen)
      throw e
    }
    release(i32, rec + S_LOCK, token)
    return result
  }
}


/** Creates a scope (record + name); returns its slot with its gen in dir.gen. */
function createScope(t: Txn, scope: string): number {
  const { i32, dir, heap, cfg } = t.s
  const nameBytes = utf8Length(scope)
  const evicted: Dropped[] = []
  dir.lock()
  try {
    const found = dir.findLocked(scope)
    if (found >= 0) return found
    const added = SCOPE_RECORD_BYTES + blockBytes(nameBytes)
    let nameRef = 0
    for (let round = 0; nameRef === 0; round++) {
      // whenFull 'evict': room for one more scope and its record and name, under this directory lock
      if (cfg.evict) {
        const d = evictLocked(t, added, 1, -1, round > 0)
        if (d !== null) evicted.push(d)
      }
      const charged = heap.chargedBytes()
      if (Atomics.load(i32, H_SCOPES) >= cfg.maxScopes) {
        throw new ScopeCacheError('store_full', MESSAGES.scopeTableFull(cfg.maxScopes), {
          storeBytes: charged, addedBytes: SCOPE_RECORD_BYTES, maxStoreBytes: cfg.maxStoreBytes,
        })
      }
      heap.lock()
      try {
        if (!heap.chargeLocked(SCOPE_RECORD_BYTES)) {
          if (cfg.evict && round < EVICT_ROUNDS) continue // (the finally unlocks)
          throw storeFull(charged, added, cfg.maxStoreBytes)
        }
        nameRef = heap.allocLocked(nameBytes, TAG_NAME, CHARGED)
        if (nameRef <= 0) {
          heap.chargeLocked(-SCOPE_RECORD_BYTES)
          nameRef = 0
          if (cfg.evict && round < EVICT_ROUNDS) continue
          throw storeFull(charged, SCOPE_RECORD_BYTES + heap.refusedBytes, cfg.maxStoreBytes)
        }
      } finally {
        heap.unlock()
      }
    }
    fault('scope:creating')
    const slot = dir.takeSlotLocked()
    if (slot < 0) {
      heap.lock()
      try {
        heap.chargeLocked(-SCOPE_RECORD_BYTES)
        heap.freeLocked(nameRef)
      } finally {
        heap.unlock()
      }
      throw storeFull(heap.chargedBytes(), added, cfg.maxStoreBytes)
    }
    t.s.v.buf.write(scope, nameRef * 8 + 8, nameBytes, 'utf8')
    const rec = dir.rec(slot)
    dir.beginChange()
    initRecord(t.s, rec, nameRef, nameBytes, heap.sizeOf(nameRef), nowMicros())
    dir.insertLocked(slot, dir.hash(scope))
    dir.endChange()
    Atomics.add(i32, H_SCOPES, 1)
    dir.gen = i32[rec + S_GEN]
    return slot
  } finally {
    dir.unlock()
    if (evicted.length > 0) finishEviction(t, evicted)
  }
}

/**
 * A write that created its scope failed: remove the scope if nothing else was written to it.
 * Best effort within the call's deadline: if a lock stays busy the empty scope stays, and the
 * caller still throws its own error.
 */
function rollbackCreated(t: Txn, slot: number, gen: number): void {
  try {
    dropIfUnwritten(t, slot, gen)
  } catch (e) {
    if (!(e instanceof ScopeCacheError)) throw e
  }
}

function dropIfUnwritten(t: Txn, slot: number, gen: number): void {
  const { i32, f64, dir, token } = t.s
  const rec = dir.rec(slot)
  dir.lock()
  let dropped: Dropped | null = null
  try {
    t.lockScope(rec)
    // lastSeq 0 with the scope locked: no write has reached it since it was created
    if (i32[rec + S_GEN] === gen && i32[rec + S_STATE] === SCOPE_LIVE && f64[(rec >> 1) + S_LAST_SEQ_F] === 0) {
      dropped = dropSlotsLocked(t, [slot], true)
    } else {
      release(i32, rec + S_LOCK, token)
    }
  } finally {
    dir.unlock()
  }
  if (dropped !== null) finishDrop(t, dropped, false)
}

// ------------------------------------------------------------------------------ drops ----

/** dropScope's body (busy): the scope goes with all its items. */
export function dropScopeBusy(t: Txn, scope: string): { found: boolean; items: number } {
  const { dir } = t.s
  dir.lock()
  let slot: number
  let dropped: Dropped
  try {
    slot = dir.findLocked(scope)
    if (slot < 0) return { found: false, items: 0 }
    dropped = dropSlotsLocked(t, [slot])
  } finally {
    dir.unlock()
  }
  finishDrop(t, dropped)
  return { found: true, items: dropped.items }
}

/** dropPrefix's body (busy): every scope whose name starts with `prefix` goes. */
export function dropPrefixBusy(t: Txn, prefix: string): { scopes: number; items: number } {
  const { dir } = t.s
  dir.lock()
  let dropped: Dropped
  try {
    const slots = dir.liveSlots().filter((s) => nameOf(t.s, s).startsWith(prefix))
    if (slots.length === 0) return { scopes: 0, items: 0 }
    dropped = dropSlotsLocked(t, slots)
  } finally {
    dir.unlock()
  }
  finishDrop(t, dropped)
  return { scopes: dropped.scopes, items: dropped.items }
}

/** flush's body (busy): every scope goes. */
export function flushBusy(t: Txn): { scopes: number; items: number; bytes: number } {
  const { dir } = t.s
  dir.lock()
  let dropped: Dropped
  const bytes = t.s.usedBytes()
  try {
    dropped = dropSlotsLocked(t, dir.liveSlots())
  } finally {
    dir.unlock()
  }
  finishDrop(t, dropped)
  t.bumpLastWrite(nowMicros())
  return { scopes: dropped.scopes, items: dropped.items, bytes }
}
