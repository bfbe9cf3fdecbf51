/**
 * JSON request bodies without a parse tree and without a string of the whole body: one iterative
 * scan over the body's bytes validates it (well-formed UTF-8, RFC 8259, nesting ≤ 10 000 like
 * Go's decoder, exactly one value) and records, for the top-level object only, where each
 * member's value starts and ends. Field values are then decoded on demand and payloads are
 * handed on as the exact source slice, so the bytes a client sent are the bytes the store keeps.
 * Arrays of objects (`items`, `targets`) are walked element by element when asked for
 * (`forEachElement`, `forEachMember`), so a bulk body costs no heap per element it is not kept
 * for. Structural characters are ASCII, so scanning UTF-8 bytes is the same grammar as text.
 *
 * Field names match exactly (CONTRACT.md departs from the reference's case-insensitive match);
 * unknown fields are ignored; a repeated field's last value wins; `null` counts as absent.
 * A value of the wrong JSON type is "the request body must contain valid JSON", as in Go.
 */
import { Buffer, isUtf8 } from 'node:buffer'
import { badJson, HttpError, MSG } from './errors.js'

export const MAX_DEPTH = 10_000

export const enum Kind {
  String = 1,
  Number,
  Object,
  Array,
  True,
  False,
  Null,
}

export interface Span {
  kind: Kind
  start: number
  end: number
}

/** The body's bytes (a Buffer view, for decoding slices). */
export type Bytes = Buffer

/** One JSON object of the body: the body's bytes and the value span of each member. */
export interface JsonObject {
  bytes: Bytes
  members: Map<string, Span>
}

// Container kinds of the iterative scanner; shared, the scanner never calls out.
const ARR = 1
const OBJ = 2
const stack = new Uint8Array(MAX_DEPTH + 1)

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)

function ws(s: Bytes, i: number, n: number): number {
  while (i < n && isWs(s[i])) i++
  return i
}

/** s[i] is `"`: the index after the closing quote, or -1. */
function skipString(s: Bytes, i: number, n: number): number {
  for (i++; i < n; i++) {
    const c = s[i]
    if (c === 0x22) return i + 1
    if (c < 0x20) return -1
    if (c === 0x5c) {
      const d = s[++i]
      if (d === 0x75) {
        if (i + 4 >= n || !isHex(s[i + 1]) || !isHex(s[i + 2]) || !isHex(s[i + 3]) || !isHex(s[i + 4])) return -1
        i += 4
      } else if (!(d === 0x22 || d === 0x5c || d === 0x2f || d === 0x62 || d === 0x66 || d === 0x6e || d === 0x72 || d === 0x74)) return -1
    }
  }
  return -1
}

/** A number per the JSON grammar starting at i: the index after it, or -1. */
function skipNumber(s: Bytes, i: number, n: number): number {
  if (s[i] === 0x2d) i++
  if (i >= n) return -1
  if (s[i] === 0x30) i++
  else if (isDigit(s[i])) while (i < n && isDigit(s[i])) i++
  else return -1
  if (i < n && s[i] === 0x2e) {
    i++
    if (i >= n || !isDigit(s[i])) return -1
    while (i < n && isDigit(s[i])) i++
  }
  if (i < n && (s[i] | 0x20) === 0x65) {
    i++
    if (i < n && (s[i] === 0x2b || s[i] === 0x2d)) i++
    if (i >= n || !isDigit(s[i])) return -1
    while (i < n && isDigit(s[i])) i++
  }
  return i
}

function literal(s: Bytes, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (s[i + k] !== word.charCodeAt(k)) return -1
  return i + word.length
}

/**
 * Validates the value starting at s[i] (no leading whitespace), nested `outer` levels deep, and
 * returns the index after it. Throws the 400 on a syntax error or nesting over MAX_DEPTH.
 */
function skipValue(s: Bytes, i: number, n: number, outer: number): number {
  let depth = 0
  for (;;) {
    if (i >= n) throw badJson()
    let c = s[i]
    if (c === 0x7b || c === 0x5b) {
      if (outer + depth >= MAX_DEPTH) throw badJson()
      const kind = c === 0x7b ? OBJ : ARR
      stack[depth++] = kind
      i = ws(s, i + 1, n)
      if (i < n && s[i] === (kind === OBJ ? 0x7d : 0x5d)) {
        depth--
        i++
      } else {
        if (kind === OBJ) i = memberKey(s, i, n)
        continue
      }
    } else {
      i = c === 0x22 ? skipString(s, i, n)
        : c === 0x2d || isDigit(c) ? skipNumber(s, i, n)
        : c === 0x74 ? literal(s, i, 'true')
        : c === 0x66 ? literal(s, i, 'false')
        : c === 0x6e ? literal(s, i, 'null')
        : -1
      if (i < 0) throw badJson()
    }
    // a value ended at i: close containers until one continues
    for (;;) {
      if (depth === 0) return i
      i = ws(s, i, n)
      if (i >= n) throw badJson()
      c = s[i]
      const kind = stack[depth - 1]
      if (c === 0x2c) {
        i = ws(s, i + 1, n)
        if (kind === OBJ) i = memberKey(s, i, n)
        break
      }
      if (c !== (kind === OBJ ? 0x7d : 0x5d)) throw badJson()
      depth--
      i++
    }
  }
}

/** At a member's key: skips `"key" :` and whitespace, returning where the value starts. */
function memberKey(s: Bytes, i: number, n: number): number {
  if (i >= n || s[i] !== 0x22) throw badJson()
  i = skipString(s, i, n)
  if (i < 0) throw badJson()
  i = ws(s, i, n)
  if (i >= n || s[i] !== 0x3a) throw badJson()
  return ws(s, i + 1, n)
}

function kindAt(c: number): Kind {
  switch (c) {
    case 0x22: return Kind.String
    case 0x7b: return Kind.Object
    case 0x5b: return Kind.Array
    case 0x74: return Kind.True
    case 0x66: return Kind.False
    case 0x6e: return Kind.Null
    default: return Kind.Number
  }
}

/** Decodes a validated string literal s[a, b) (quotes included). */
function stringAt(s: Bytes, a: number, b: number): string {
  for (let k = a + 1; k < b - 1; k++) if (s[k] === 0x5c) return JSON.parse(s.toString('utf8', a, b)) as string
  return s.toString('utf8', a + 1, b - 1)
}

/**
 * Walks the object at s[i] (`{` there), `depth` levels deep, calling `member` with each key's
 * literal span [ks, ke) (quotes included) and the value's span; returns the index after it.
 */
function walkObject(s: Bytes, i: number, n: number, depth: number, member: (ks: number, ke: number, start: number, end: number) => void): number {
  i = ws(s, i + 1, n)
  if (i < n && s[i] === 0x7d) return i + 1
  for (;;) {
    if (i >= n || s[i] !== 0x22) throw badJson()
    const ks = i
    const ke = skipString(s, i, n)
    if (ke < 0) throw badJson()
    i = ws(s, ke, n)
    if (i >= n || s[i] !== 0x3a) throw badJson()
    i = ws(s, i + 1, n)
    if (i >= n) throw badJson()
    const start = i
    i = skipValue(s, i, n, depth)
    member(ks, ke, start, i)
    i = ws(s, i, n)
    if (i >= n) throw badJson()
    const c = s[i]
    if (c === 0x7d) return i + 1
    if (c !== 0x2c) throw badJson()
    i = ws(s, i + 1, n)
  }
}

/** Parses the object at s[i] (`{` there), `depth` levels deep; returns it and the index after it. */
function objectFrom(s: Bytes, i: number, n: number, depth: number): [JsonObject, number] {
  const members = new Map<string, Span>()
  const end = walkObject(s, i, n, depth, (ks, ke, start, end) => members.set(stringAt(s, ks, ke), { kind: kindAt(s[start]), start, end }))
  return [{ bytes: s, members }, end]
}

const asBuffer = (b: Uint8Array | string): Bytes =>
  typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)

/**
 * The body as its top-level object. Invalid UTF-8 anywhere: 400 "must be valid UTF-8" (checked
 * on the bytes: a body too large for a JS string is answered like any other). Empty or not an
 * object: "valid JSON"; anything but whitespace after it (a second value or garbage) is "exactly
 * one JSON value", as Go's second `Decode` answers it. (A string is encoded first: for tests and
 * callers with text.)
 */
export function parseBody(body: Uint8Array | string): JsonObject {
  const s = asBuffer(body)
  if (!isUtf8(s)) throw new HttpError('invalid_input', MSG.badUtf8Body)
  const n = s.length
  const i = ws(s, 0, n)
  if (i >= n || s[i] !== 0x7b) {
    // a valid non-object value is a type error; anything else a syntax error: both "valid JSON"
    throw badJson()
  }
  const [obj, end] = objectFrom(s, i, n, 1)
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

/** An integer literal (no fraction or exponent), within ±(2^53−1); `unsigned` refuses a sign. */
export function spanInteger(s: Bytes, kind: Kind, start: number, end: number, unsigned: boolean): number {
  if (kind !== Kind.Number) throw badJson()
  let i = start
  if (s[i] === 0x2d) {
    if (unsigned) throw badJson()
    i++
  }
  for (let k = i; k < end; k++) if (!isDigit(s[k])) throw badJson()
  const value = Number(s.toString('latin1', start, end))
  if (!Number.isSafeInteger(value)) throw badJson()
  return value === 0 ? 0 : value
}

export function getString(o: JsonObject, name: string): string | undefined {
  const v = present(o, name)
  return v === undefined ? undefined : spanString(o.bytes, v.kind, v.start, v.end)
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

/** The span of an array member; absent or null is undefined; any other type is 400. */
export function getArray(o: JsonObject, name: string): Span | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  if (v.kind !== Kind.Array) throw badJson()
  return v
}

/**
 * Calls `fn(start, end, index)` for each element of the validated array `a` of `o`, in order
 * (`end` is exclusive). Nothing is allocated per element.
 */
export function forEachElement(o: JsonObject, a: Span, fn: (start: number, end: number, index: number) => void): void {
  const s = o.bytes
  let i = ws(s, a.start + 1, a.end)
  if (s[i] === 0x5d) return
  for (let k = 0; ; k++) {
    const start = i
    i = skipValue(s, i, a.end, 2)
    fn(start, i, k)
    i = ws(s, i, a.end)
    if (s[i] === 0x5d) return
    i = ws(s, i + 1, a.end) // a comma: the scan already validated the array
  }
}

/**
 * Calls `fn(ks, ke, kind, start, end)` for each member of the validated object at s[start]
 * (an element of a top-level array: 3 levels deep), where [ks, ke) is the key's literal (quotes
 * included; `keyIs` compares it with a name).
 */
export function forEachMember(s: Bytes, start: number, end: number, fn: (ks: number, ke: number, kind: Kind, vs: number, ve: number) => void): void {
  walkObject(s, start, end, 3, (ks, ke, vs, ve) => fn(ks, ke, kindAt(s[vs]), vs, ve))
}

/** Whether the key literal s[ks, ke) (quotes included) decodes to `name` (ASCII). */
export function keyIs(s: Bytes, ks: number, ke: number, name: string): boolean {
  for (let k = ks + 1; k < ke - 1; k++) if (s[k] === 0x5c) return stringAt(s, ks, ke) === name
  if (ke - ks - 2 !== name.length) return false
  for (let k = 0; k < name.length; k++) if (s[ks + 1 + k] !== name.charCodeAt(k)) return false
  return true
}

/** The elements of an array member as objects; absent or null is undefined; any non-object is 400. */
export function getObjects(o: JsonObject, name: string): JsonObject[] | undefined {
  const a = getArray(o, name)
  if (a === undefined) return undefined
  const out: JsonObject[] = []
  forEachElement(o, a, (start, end) => {
    if (o.bytes[start] !== 0x7b) throw badJson()
    out.push(objectFrom(o.bytes, start, end, 3)[0])
  })
  return out
}
