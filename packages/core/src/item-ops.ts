/**
 * The item writes other than append and upsert (whose hot path keeps its arguments in
 * write-args.ts): update, delete, trim, counters and touch. Each checks its arguments before any lock is
 * taken, then runs its locked body (item-write.ts) inside writeScope.
 */
import { checkCounter, checkKey, checkOptions, checkRef, checkScope, checkTrim } from './args.js'
import { nowMicros } from './clock.js'
import { invalid } from './errors.js'
import { expiredAt, noteExpiryLocked, ttlArg, ttlOption } from './expiry.js'
import { checkFence, ifVersionOpt } from './fences.js'
import { checkSize, counterLocked, deleteLocked, findLocked, readPayloadText, replaceLocked, trimItemsLocked, updateLocked } from './item-write.js'
import { expiryIndex } from './item-record.js'
import { I_EXPIRES, I_TS_HI, IF_ASCII, IF_STRING, itemBytes, UNDO_RESTORE } from './layout.js'
import { preparePayload, type Prepared } from './payload.js'
import { readId } from './scope-edit.js'
import { writeScope } from './scope-life.js'
import type { Txn } from './txn.js'
import type { FenceOptions, ItemRef, PayloadInput, TrimOptions, WriteOptions } from './types.js'

export function updateItem<P>(t: Txn, scope: string, ref: ItemRef, payload: PayloadInput<P>, opts: WriteOptions | null | undefined): 0 | 1 {
  if (opts != null) checkOptions(opts, 'update')
  checkScope(scope)
  const by = checkRef(ref)
  if (typeof by === 'string') checkKey(by, 'id')
  const ifv = ifVersionOpt(opts?.ifVersion)
  const ttl = opts == null ? 0 : ttlOption(opts.ttlMs)
  const p = preparePayload(payload)
  checkSize(t.s, typeof by === 'string' ? by : null, p, ttl)
  return writeScope(t, scope, false, (_slot, rec) => {
    checkFence(t, rec, ifv)
    return updateLocked(t, scope, rec, by, p, ttl)
  })
}

export function deleteItem(t: Txn, scope: string, ref: ItemRef, opts: FenceOptions | null | undefined): 0 | 1 {
  if (opts != null) checkOptions(opts, 'delete')
  checkScope(scope)
  const by = checkRef(ref)
  if (typeof by === 'string') checkKey(by, 'id')
  const ifv = ifVersionOpt(opts?.ifVersion)
  const n = writeScope(t, scope, false, (_slot, rec) => {
    checkFence(t, rec, ifv)
    return deleteLocked(t, rec, by)
  })
  if (n > 0) t.bumpLastWrite(nowMicros())
  return n
}

export function trimItems(t: Txn, scope: string, opts: TrimOptions): number {
  checkScope(scope)
  const { maxSeq, keep } = checkTrim(opts)
  const n = writeScope(t, scope, false, (_slot, rec) => trimItemsLocked(t, rec, maxSeq, keep))
  if (n > 0) t.bumpLastWrite(nowMicros())
  return n
}

export function addToCounter(t: Txn, scope: string, id: string, by: number): { created: boolean; value: number } {
  checkScope(scope)
  checkCounter(id, by)
  const h = t.s.hashId(id)
  return writeScope(t, scope, true, (_slot, rec) => counterLocked(t, scope, rec, id, h, by))
}

export function touchItem(t: Txn, scope: string, ref: ItemRef, opts: { ttlMs: number }): 0 | 1 {
  checkScope(scope)
  const by = checkRef(ref)
  if (typeof by === 'string') checkKey(by, 'id')
  if (opts === null || typeof opts !== 'object') throw invalid('touch needs { ttlMs }')
  checkOptions(opts, 'touch')
  const ttl = ttlArg(opts.ttlMs)
  return writeScope(t, scope, false, (_slot, rec) => touchLocked(t, scope, rec, by, ttl))
}

/** touch: a new expiry `ttl` ms from now for the live item `by`; 0 when there is none (or it has expired). */
export function touchLocked(t: Txn, scope: string, rec: number, by: string | number, ttl: number): 0 | 1 {
  const s = t.s
  if (rec < 0) return 0
  const item = findLocked(s, rec, by)
  const now = s.now()
  if (item < 0 || expiredAt(s, item, now)) return 0
  const expires = now + ttl * 1000
  const { i32, f64 } = s
  if ((i32[item * 2 + I_TS_HI] & I_EXPIRES) !== 0) {
    // in place: the block keeps its payload; its expiry's two words are the undo record's patches
    const at = expiryIndex(item, i32[item * 2])
    t.undo(rec, UNDO_RESTORE)
    t.patch(0, at * 2)
    t.patch(1, at * 2 + 1)
    t.publish(rec, () => {
      f64[at] = expires
      noteExpiryLocked(s, rec, expires, 0)
    })
    return 1
  }
  // no room for an expiry in its block: a copy with one (same seq and ts, like the in-place case)
  const id = readId(s, item)
  const text = readPayloadText(s, item)
  const flags = s.idx.flags(item)
  const len = s.idx.payloadLen(item)
  const p: Prepared = {
    text, bytes: null, start: 0, end: 0, byteLength: len, ascii: (flags & IF_ASCII) !== 0, isString: (flags & IF_STRING) !== 0,
  }
  const idWord = id === null ? -1 : s.ids.find(rec, id, s.hashId(id))
  replaceLocked(t, scope, rec, item, id, idWord, p, itemBytes(s.idx.idLen(item), len), false, 0, expires, s.idx.tsOf(item))
  return 1
}
