/**
 * One stream entry: what a write publishes, and how another node applies it. Fields (short: they
 * travel with every write):
 *
 *   p  previous scripted entry id (set by the script)    f  the scope's new fence (set by the script)
 *   n  writer node id    t  the writer's token for the write    w  writer's clock (ms, for latency)
 *   s  scope    o  op    i  id (when the write names an item)    v  the item's JSON text (replicate)
 *
 * Applying is decided by the entry alone: with `v` the item is written (replicate); without it,
 * an entry that names an item (`i`) invalidates that item, any other invalidates the whole scope.
 * Seq-addressed writes never name an item: seqs are local to each store.
 */
import { keyProblem, rawJson, type ScopeCache } from '@scopecache/core'

export const OPS = ['append', 'upsert', 'update', 'delete', 'invalidate', 'drop', 'trim'] as const
export type Op = (typeof OPS)[number]

export interface Entry {
  id: string
  prev: string
  fence: number
  node: string
  token: string
  wallMs: number
  scope: string
  op: Op
  itemId: string | null
  value: string | null
}

/** A malformed entry: why, and the scope it names if that much could be read (to drop it: never stale). */
export interface BadEntry {
  id: string
  bad: string
  scope: string | null
  /** Not written by the group's script (no `p`): not a link of the chain. */
  unchained: boolean
}

const ID = /^\d+-\d+$/

export function decodeEntry(id: string, raw: unknown, maxItemBytes: number): Entry | BadEntry {
  const f = new Map<string, string>()
  if (Array.isArray(raw)) for (let k = 0; k + 1 < raw.length; k += 2) f.set(String(raw[k]), String(raw[k + 1]))
  const s = f.get('s')
  const scope = s !== undefined && keyProblem(s, 'scope') === null ? s : null
  const prev = f.get('p')
  const unchained = prev === undefined || !ID.test(prev)
  const out = (bad: string): BadEntry => ({ id, bad, scope, unchained })
  if (unchained) return out('no previous-entry link (not written by the group script)')
  if (scope === null) return out(s === undefined ? 'no scope' : 'invalid scope')
  const fence = Number(f.get('f'))
  if (!Number.isSafeInteger(fence) || fence < 1) return out('invalid fence')
  const op = f.get('o') as Op
  if (!OPS.includes(op)) return out(`unknown op '${String(f.get('o'))}'`)
  const itemId = f.get('i') ?? null
  if (itemId !== null && keyProblem(itemId, 'id') !== null) return out('invalid id')
  const value = f.get('v') ?? null
  if (value !== null) {
    if (op !== 'append' && op !== 'upsert' && op !== 'update') return out(`op '${op}' carries an item`)
    if (op !== 'append' && itemId === null) return out(`${op} without an id`)
    if (Buffer.byteLength(value) > maxItemBytes) return out(`item of ${Buffer.byteLength(value)} bytes over maxItemBytes ${maxItemBytes}`)
  }
  return { id, prev: prev as string, fence, node: f.get('n') ?? '', token: f.get('t') ?? '', wallMs: Number(f.get('w') ?? NaN), scope, op, itemId, value }
}

export const isBad = (e: Entry | BadEntry): e is BadEntry => 'bad' in e

/** Applies another node's entry to the local store. Throws what the store throws (the caller drops the scope). */
export function applyRemote(cache: ScopeCache, e: Entry): void {
  if (e.value !== null) {
    const payload = rawJson(e.value) // validated JSON text: a malformed one throws invalid_input
    if (e.op === 'append') cache.append(e.scope, payload, e.itemId === null ? undefined : { id: e.itemId })
    else if (e.op === 'upsert') cache.upsert(e.scope, e.itemId as string, payload)
    else cache.update(e.scope, { id: e.itemId as string }, payload) // absent here: nothing to make stale
    return
  }
  // invalidate, not delete: it also moves the local fence, so a local load racing it is not stored
  if (e.itemId !== null && e.op !== 'append' && e.op !== 'drop' && e.op !== 'trim') cache.invalidate(e.scope, { id: e.itemId })
  else cache.invalidate(e.scope)
}
