/**
 * The `items` of a /warm or /rebuild body, read straight off the body's bytes into the batch the
 * core takes. The body was validated in one scan that allocates nothing per value (json-body.ts);
 * the array is then walked element by element, so a body's heap cost is what the batch keeps:
 * an invalid body fails at its first bad element having built nothing (a 100 MiB body of `{}`
 * costs no heap per element), and a valid one keeps one small item per element whose payload
 * is a view of the body's bytes, never a parsed value nor a string: the body's scan has checked
 * it, so the core takes the bytes without scanning them again (json-body.ts `payloadJson`).
 *
 * Two walks give the reference's first error (write-fields.ts): (1) every element is an object and
 * every field it reads has its JSON type, else "valid JSON" (Go's decode, before any rule); (2) per
 * item, in order: its scope's rule when the scope is first seen (bare, as the reference validates
 * a scope before its items: `scopecache: invalid input: the 'scope' field …`), then the item's own
 * rules and its size, wrapped as `scope 's', item at index i: …` with i counted within its scope;
 * then the item is added. A duplicate id and the caps stay with the core (`cache.warm`/`rebuild`),
 * which checks them after every item, capacity first.
 */
import { itemBytes, MESSAGES, type WarmItem } from '@scopecache/core'
import { badField, badJson, HttpError, INVALID } from './errors.js'
import { forEachElement, getArray, keyIs, Kind, payloadJson, spanInteger, spanString, type Bytes, type JsonObject } from './json-body.js'
import { ttlText } from './beyond.js'
import { bodyKeyProblem, itemProblem, requiredMessage } from './write-fields.js'

// Field slots of one element: kind (0 = absent or null), value start, value end; the last one wins.
const SCOPE = 0
const ID = 3
const SEQ = 6
const TS = 9
const PAYLOAD = 12
const TTL = 15 // ttl_ms (beyond ScopeCache)
const f = new Float64Array(18)

/** A member callback that reads the members of an element the batch cares about into `f` (cleared by the element's callback once used). */
const fieldsOf = (s: Bytes) => (ks: number, ke: number, kind: Kind, vs: number, ve: number): void => {
  const at = keyIs(s, ks, ke, 'scope') ? SCOPE : keyIs(s, ks, ke, 'id') ? ID : keyIs(s, ks, ke, 'seq') ? SEQ
    : keyIs(s, ks, ke, 'ts') ? TS : keyIs(s, ks, ke, 'payload') ? PAYLOAD : keyIs(s, ks, ke, 'ttl_ms') ? TTL : -1
  if (at < 0) return
  f[at] = kind === Kind.Null ? 0 : kind
  f[at + 1] = vs
  f[at + 2] = ve
}

const str = (s: Bytes, at: number): string | undefined => (f[at] === 0 ? undefined : spanString(s, f[at], f[at + 1], f[at + 2]))
const int = (s: Bytes, at: number, unsigned: boolean): number => (f[at] === 0 ? 0 : spanInteger(s, f[at], f[at + 1], f[at + 2], unsigned))

/** The reference's bulk wording (the core's MESSAGES.bulkItem), i counted within the scope. */
const itemError = (scope: string, i: number, reason: string, code: 'invalid_input' | 'too_large' = 'invalid_input'): HttpError =>
  new HttpError(code, MESSAGES.bulkItem(scope, i, reason))

/** Whether s[a, b) holds the same bytes as s[c, d). */
function sameBytes(s: Bytes, a: number, b: number, c: number, d: number): boolean {
  if (b - a !== d - c) return false
  for (let k = 0; k < b - a; k++) if (s[a + k] !== s[c + k]) return false
  return true
}

/** The `items` of a warm/rebuild body as core bulk items; absent or null is none. */
export function bulkItems(b: JsonObject, path: string, maxItemBytes: number): WarmItem[] {
  const items = getArray(b, 'items')
  if (items === undefined) return []
  const s = b.bytes
  const fields = fieldsOf(s)
  f.fill(0)
  // (1) every element an object, every field read of its type
  forEachElement(b, items, (start) => {
    if (s[start] !== 0x7b) throw badJson()
    str(s, SCOPE)
    str(s, ID)
    int(s, SEQ, true)
    int(s, TS, false)
    f.fill(0)
  }, fields)
  // (2) the rules, item by item, each scope's before its first item's; then the item joins the batch
  const out: WarmItem[] = []
  const groups = new Map<string, number>()
  const counts: number[] = []
  let scope = ''
  let g = -1
  let scopeStart = 0
  let scopeEnd = 0
  forEachElement(b, items, () => {
    if (g < 0 || !sameBytes(s, f[SCOPE + 1], f[SCOPE + 2], scopeStart, scopeEnd)) {
      // consecutive items of one scope share one string
      scope = str(s, SCOPE) ?? ''
      scopeStart = f[SCOPE + 1]
      scopeEnd = f[SCOPE + 2]
      const known = groups.get(scope)
      if (known === undefined) {
        const sp = scope === '' ? requiredMessage('scope', path) : bodyKeyProblem(b, scope, scopeStart, scopeEnd, 'scope')
        if (sp !== null) throw badField(sp)
        g = counts.length
        groups.set(scope, g)
        counts.push(0)
      } else g = known
    }
    const k = counts[g]++
    const raw = str(s, ID)
    const problem = itemProblem(b, path, raw, f[ID + 1], f[ID + 2], f[PAYLOAD] as Kind | 0, f[PAYLOAD + 1], f[PAYLOAD + 2], int(s, SEQ, true), int(s, TS, false))
    if (problem !== null) throw itemError(scope, k, problem)
    const id = raw === undefined || raw === '' ? null : raw
    // the new field after the reference's: its rule, then the size with its 8 bytes
    let ttlMs = 0
    if (f[TTL] !== 0) {
      try {
        ttlMs = ttlText(s.toString('latin1', f[TTL + 1], f[TTL + 2]))
      } catch (e) {
        throw itemError(scope, k, (e as Error).message.replace(INVALID, ''))
      }
    }
    const size = itemBytes(id === null ? 0 : Buffer.byteLength(id), f[PAYLOAD + 2] - f[PAYLOAD + 1], ttlMs > 0)
    if (size > maxItemBytes) throw itemError(scope, k, MESSAGES.itemTooLarge(size, maxItemBytes), 'too_large')
    const payload = payloadJson(s, f[PAYLOAD + 1], f[PAYLOAD + 2])
    out.push(ttlMs > 0 ? { scope, id, payload, ttlMs } : { scope, id, payload })
    f.fill(0)
  }, fields)
  return out
}
