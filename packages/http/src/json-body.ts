/**
 * JSON request bodies without a parse tree and without a string of the whole body: one scan over
 * the body's bytes (json-walk.ts, on the core's byte scanner) validates it and records, for the top-level object only, where
 * each member's value starts and ends. Field values are then decoded on demand and payloads are
 * handed on as the exact source bytes (a view of the body, `payloadJson`), so the bytes a client sent
 * are the bytes the store keeps, neither decoded nor scanned again.
 * Arrays of objects (`items`, `targets`) are walked element by element when asked for
 * (`forEachElement`, `forEachMember`), so a bulk body costs no heap per element it is not kept for.
 *
 * Field names match exactly (a departure from the reference's case-insensitive match);
 * unknown fields are ignored; a repeated field's last value wins; `null` counts as absent.
 * A value of the wrong JSON type is "the request body must contain valid JSON", as in Go.
 * Invalid UTF-8 is not refused here: it matters only in the values an endpoint reads (scope, id,
 * payload), whose rules say so (`spanUtf8`); anywhere else it is ignored, as the reference ignores
 * whatever an unknown field holds.
 */
import { Buffer, isUtf8 } from 'node:buffer'
import { scannedJson } from '@scopecache/core/scanner'
import type { RawJson } from '@scopecache/core'
import { badJson, HttpError, MSG } from './errors.js'
import { isDigit, Kind, Loose, stringAt, walkArray, walkObject, ws, type Bytes, type Span } from './json-walk.js'

export { keyIs, Kind, MAX_DEPTH, type Bytes, type Span } from './json-walk.js'

/** One JSON object of the body: the body's bytes, whether all of them are UTF-8, and the value span of each member. */
export interface JsonObject {
  bytes: Bytes
  utf8: boolean
  members: Map<string, Span>
}

/** Parses the object at s[i] (`{` there), `depth` levels deep; returns it and the index after it. */
function objectFrom(s: Bytes, i: number, n: number, depth: number, utf8: boolean, loose: boolean): [JsonObject, number] {
  const members = new Map<string, Span>()
  const end = walkObject(s, i, n, depth, loose ? Loose.PayloadAndElements : Loose.None, (ks, ke, kind, start, end) => members.set(stringAt(s, ks, ke), { kind, start, end }))
  return [{ bytes: s, utf8, members }, end]
}

const asBuffer = (b: Uint8Array | string): Bytes =>
  typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)

/**
 * The body as its top-level object. Empty or not an object: "valid JSON"; anything but whitespace
 * after it (a second value or garbage) is "exactly one JSON value", as Go's second `Decode`
 * answers it. UTF-8 is checked once on the bytes (`utf8`); where it is not valid, the values read
 * are checked one by one (`spanUtf8`). (A string is encoded first: for tests and callers with text.)
 */
export function parseBody(body: Uint8Array | string): JsonObject {
  const s = asBuffer(body)
  const n = s.length
  const i = ws(s, 0, n)
  if (i >= n || s[i] !== 0x7b) {
    // a valid non-object value is a type error; anything else a syntax error: both "valid JSON"
    throw badJson()
  }
  const [obj, end] = objectFrom(s, i, n, 1, isUtf8(s), true)
  const j = ws(s, end, n)
  if (j !== n) throw new HttpError('invalid_input', MSG.oneValue)
  return obj
}

// ------------------------------------------------------------------------ typed fields ----

const present = (o: JsonObject, name: string): Span | undefined => {
  const v = o.members.get(name)
  return v === undefined || v.kind === Kind.Null ? undefined : v
}

export const has = (o: JsonObject, name: string): boolean => present(o, name) !== undefined

/** The string value at a validated span; any other JSON type is 400. */
export function spanString(s: Bytes, kind: Kind, start: number, end: number): string {
  if (kind !== Kind.String) throw badJson()
  return stringAt(s, start, end)
}

const U64_MAX = 2n ** 64n - 1n
const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/**
 * An integer literal (no fraction or exponent) within Go's uint64 (`unsigned`: no sign) or int64
 * range, as the reference decodes `seq`, `max_seq` and `ts`; outside it, 400 "valid JSON". The
 * number is exact up to 2^53−1; a larger one is a number above 2^53−1 (which no seq reaches), so
 * comparisons with any safe integer stay exact.
 */
export function spanInteger(s: Bytes, kind: Kind, start: number, end: number, unsigned: boolean): number {
  if (kind !== Kind.Number) throw badJson()
  let i = start
  if (s[i] === 0x2d) {
    if (unsigned) throw badJson()
    i++
  }
  for (let k = i; k < end; k++) if (!isDigit(s[k])) throw badJson()
  const text = s.toString('latin1', start, end)
  if (end - i > 15) {
    const big = BigInt(text)
    if (unsigned ? big > U64_MAX : big < I64_MIN || big > I64_MAX) throw badJson()
  }
  const value = Number(text)
  return value === 0 ? 0 : value
}

/** Whether the bytes of the span are well-formed UTF-8 (checked once for the whole body, else per value). */
export const spanUtf8 = (o: Pick<JsonObject, 'bytes' | 'utf8'>, start: number, end: number): boolean =>
  o.utf8 || isUtf8(o.bytes.subarray(start, end))

export function getString(o: JsonObject, name: string): string | undefined {
  const v = present(o, name)
  return v === undefined ? undefined : spanString(o.bytes, v.kind, v.start, v.end)
}

/** getString, or null when the member's bytes are not well-formed UTF-8 (for a field whose rule refuses that). */
export function getUtf8String(o: JsonObject, name: string): string | null | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  return spanUtf8(o, v.start, v.end) ? spanString(o.bytes, v.kind, v.start, v.end) : null
}

function integer(o: JsonObject, name: string, unsigned: boolean): number | undefined {
  const v = present(o, name)
  return v === undefined ? undefined : spanInteger(o.bytes, v.kind, v.start, v.end, unsigned)
}

export const getUint = (o: JsonObject, name: string): number | undefined => integer(o, name, true)
export const getInt = (o: JsonObject, name: string): number | undefined => integer(o, name, false)

/** The member's exact JSON text (for payloads), or undefined when absent or `null`. */
export function getRaw(o: JsonObject, name: string): string | undefined {
  const v = present(o, name)
  return v === undefined ? undefined : o.bytes.toString('utf8', v.start, v.end)
}

/**
 * A payload member's bytes for the store, after its rules passed (payloadProblem: not absent, not
 * `null`, not Kind.Bad, valid UTF-8): the body scan has checked them, so they go as a view of the
 * body, marked scanned — no string, no second scan.
 */
export const payloadJson = (s: Bytes, start: number, end: number): RawJson => scannedJson(s.subarray(start, end))

/** The span of an array member; absent or null is undefined; any other type is 400. */
export function getArray(o: JsonObject, name: string): Span | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  if (v.kind !== Kind.Array) throw badJson()
  return v
}

/**
 * Calls `fn(start, end, index)` for each element of the validated array `a` of `o`, in order
 * (`end` is exclusive), and before it, for an object element, `member` with each of its members
 * as forEachMember does (one walk for both). Nothing is allocated per element.
 */
export function forEachElement(
  o: JsonObject, a: Span, fn: (start: number, end: number, index: number) => void, member?: (ks: number, ke: number, kind: Kind, vs: number, ve: number) => void,
): void {
  walkArray(o.bytes, a.start, a.end, 1, fn, member)
}

/**
 * Calls `fn(ks, ke, kind, start, end)` for each member of the validated object at s[start]
 * (an element of a top-level array: 3 levels deep), where [ks, ke) is the key's literal (quotes
 * included; `keyIs` compares it with a name) and a `payload` member that is not valid JSON is Kind.Bad.
 */
export function forEachMember(s: Bytes, start: number, end: number, fn: (ks: number, ke: number, kind: Kind, vs: number, ve: number) => void): void {
  walkObject(s, start, end, 3, Loose.PayloadAndElements, fn)
}

/** The elements of an array member as objects; absent or null is undefined; any non-object is 400. */
export function getObjects(o: JsonObject, name: string): JsonObject[] | undefined {
  const a = getArray(o, name)
  if (a === undefined) return undefined
  const out: JsonObject[] = []
  forEachElement(o, a, (start, end) => {
    if (o.bytes[start] !== 0x7b) throw badJson()
    out.push(objectFrom(o.bytes, start, end, 3, o.utf8, true)[0])
  })
  return out
}
