/**
 * The `items` of a /warm or /rebuild body, read straight off the body's bytes into the batch the
 * core takes. The body was validated in one scan that allocates nothing per value (json-body.ts);
 * the array is then walked element by element, so a body's heap cost is what the batch keeps:
 * an invalid body fails at its first bad element having built nothing (a 100 MiB body of `{}`
 * costs no heap per element), and a valid one keeps one small item per element whose payload
 * is its exact text (short ones) or a view of the body's bytes, never a parsed value.
 *
 * Three walks keep the order in which errors were reported when every element was first parsed
 * into an object: (1) every element is an object, else "valid JSON"; (2) per item, in order, the
 * HTTP layer's field rules (types, `scope` required, `seq`/`ts` managed); (3) per item, in order,
 * the core's rules that need no batch state (scope and id keys, payload present), then the item
 * is added. Duplicate ids, item sizes and the caps stay with the core (`cache.warm`/`rebuild`),
 * whose messages are the reference's.
 */
import { keyProblem, rawJson, type RawJson, type WarmItem } from '@scopecache/core'
import { badJson, HttpError, INVALID } from './errors.js'
import { forEachElement, forEachMember, getArray, keyIs, Kind, spanInteger, spanString, type Bytes, type JsonObject } from './json-body.js'

// Field slots of one element: kind (0 = absent or null), value start, value end; the last one wins.
const SCOPE = 0
const ID = 3
const SEQ = 6
const TS = 9
const PAYLOAD = 12
const f = new Float64Array(15)

/** Reads the members of the element s[start, end) the batch cares about into `f`. */
function fields(s: Bytes, start: number, end: number): void {
  f.fill(0)
  forEachMember(s, start, end, (ks, ke, kind, vs, ve) => {
    const at = keyIs(s, ks, ke, 'scope') ? SCOPE : keyIs(s, ks, ke, 'id') ? ID : keyIs(s, ks, ke, 'seq') ? SEQ
      : keyIs(s, ks, ke, 'ts') ? TS : keyIs(s, ks, ke, 'payload') ? PAYLOAD : -1
    if (at < 0) return
    f[at] = kind === Kind.Null ? 0 : kind
    f[at + 1] = vs
    f[at + 2] = ve
  })
}

const str = (s: Bytes, at: number): string | undefined => (f[at] === 0 ? undefined : spanString(s, f[at], f[at + 1], f[at + 2]))
const int = (s: Bytes, at: number, unsigned: boolean): number => (f[at] === 0 ? 0 : spanInteger(s, f[at], f[at + 1], f[at + 2], unsigned))

/** The reference's bulk wording: `scope 's', item at index i: scopecache: invalid input: …`. */
const itemError = (scope: string, i: number, reason: string): HttpError =>
  new HttpError('invalid_input', `scope '${scope}', item at index ${i}: ${INVALID}${reason}`)

/** Whether s[a, b) holds the same bytes as s[c, d). */
function sameBytes(s: Bytes, a: number, b: number, c: number, d: number): boolean {
  if (b - a !== d - c) return false
  for (let k = 0; k < b - a; k++) if (s[a + k] !== s[c + k]) return false
  return true
}

// A view of the body costs ~100 bytes of heap whatever its length; a short payload is cheaper as text.
const SHORT = 64

/** The payload s[a, b) as raw JSON: a short one as its text, a longer one as a view of the body. */
function payloadAt(s: Bytes, a: number, b: number): RawJson {
  if (b - a > SHORT) return rawJson(s.subarray(a, b))
  for (let k = a; k < b; k++) if (s[k] > 0x7f) return rawJson(s.toString('utf8', a, b))
  return rawJson(s.toString('latin1', a, b))
}

/** The `items` of a warm/rebuild body as core bulk items; absent or null is none. */
export function bulkItems(b: JsonObject, path: string): WarmItem[] {
  const items = getArray(b, 'items')
  if (items === undefined) return []
  const s = b.bytes
  // (1) every element an object
  forEachElement(b, items, (start) => {
    if (s[start] !== 0x7b) throw badJson()
  })
  // (2) the HTTP layer's field rules, item by item
  forEachElement(b, items, (start, end, i) => {
    fields(s, start, end)
    const scope = str(s, SCOPE) ?? ''
    if (scope === '') throw itemError('', i, `the 'scope' field is required for the '${path}' endpoint`)
    if (int(s, SEQ, true) !== 0) throw itemError(scope, i, `the 'seq' field is managed by the cache and must not be provided to the '${path}' endpoint`)
    if (int(s, TS, false) !== 0) throw itemError(scope, i, `the 'ts' field is managed by the cache and must not be provided to the '${path}' endpoint`)
    str(s, ID)
  })
  // (3) the core's per-item key and payload rules; then the item joins the batch
  const out: WarmItem[] = []
  let scope = ''
  let scopeStart = 0
  let scopeEnd = 0
  forEachElement(b, items, (start, end, i) => {
    fields(s, start, end)
    if (!sameBytes(s, f[SCOPE + 1], f[SCOPE + 2], scopeStart, scopeEnd)) {
      // consecutive items of one scope share one string
      scope = str(s, SCOPE) as string
      scopeStart = f[SCOPE + 1]
      scopeEnd = f[SCOPE + 2]
      const sp = keyProblem(scope, 'scope')
      if (sp !== null) throw itemError(scope, i, sp)
    }
    const raw = str(s, ID)
    const id = raw === undefined || raw === '' ? null : raw
    if (id !== null) {
      const ip = keyProblem(id, 'id')
      if (ip !== null) throw itemError(scope, i, ip)
    }
    if (f[PAYLOAD] === 0) throw itemError(scope, i, "the 'payload' field is required")
    out.push({ scope, id, payload: payloadAt(s, f[PAYLOAD + 1], f[PAYLOAD + 2]) })
  })
  return out
}
