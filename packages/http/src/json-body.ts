/**
 * JSON request bodies without a parse tree: one iterative scan validates the whole text (RFC 8259,
 * nesting ≤ 10 000 like Go's decoder, exactly one value) and records, for the top-level object
 * only, where each member's value starts and ends. Field values are then decoded on demand and
 * payloads are handed on as the exact source slice, so the bytes a client sent are the bytes the
 * store keeps. Arrays of objects (`items`, `targets`) are walked the same way when asked for.
 *
 * Field names match exactly (CONTRACT.md departs from the reference's case-insensitive match);
 * unknown fields are ignored; a repeated field's last value wins; `null` counts as absent.
 * A value of the wrong JSON type is "the request body must contain valid JSON", as in Go.
 */
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

/** One JSON object of the body: its text and the value span of each member. */
export interface JsonObject {
  text: string
  members: Map<string, Span>
}

// Container kinds of the iterative scanner; shared, the scanner never calls out.
const ARR = 1
const OBJ = 2
const stack = new Uint8Array(MAX_DEPTH + 1)

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)

function ws(s: string, i: number, n: number): number {
  while (i < n && isWs(s.charCodeAt(i))) i++
  return i
}

/** s[i] is `"`: the index after the closing quote, or -1. */
function skipString(s: string, i: number, n: number): number {
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) return i + 1
    if (c < 0x20) return -1
    if (c === 0x5c) {
      const d = s.charCodeAt(++i)
      if (d === 0x75) {
        if (i + 4 >= n || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2)) || !isHex(s.charCodeAt(i + 3)) || !isHex(s.charCodeAt(i + 4))) return -1
        i += 4
      } else if (!(d === 0x22 || d === 0x5c || d === 0x2f || d === 0x62 || d === 0x66 || d === 0x6e || d === 0x72 || d === 0x74)) return -1
    }
  }
  return -1
}

/** A number per the JSON grammar starting at i: the index after it, or -1. */
function skipNumber(s: string, i: number, n: number): number {
  if (s.charCodeAt(i) === 0x2d) i++
  if (i >= n) return -1
  if (s.charCodeAt(i) === 0x30) i++
  else if (isDigit(s.charCodeAt(i))) while (i < n && isDigit(s.charCodeAt(i))) i++
  else return -1
  if (i < n && s.charCodeAt(i) === 0x2e) {
    i++
    if (i >= n || !isDigit(s.charCodeAt(i))) return -1
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  if (i < n && (s.charCodeAt(i) | 0x20) === 0x65) {
    i++
    if (i < n && (s.charCodeAt(i) === 0x2b || s.charCodeAt(i) === 0x2d)) i++
    if (i >= n || !isDigit(s.charCodeAt(i))) return -1
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  return i
}

function literal(s: string, i: number, word: string): number {
  return s.startsWith(word, i) ? i + word.length : -1
}

/**
 * Validates the value starting at s[i] (no leading whitespace), nested `outer` levels deep, and
 * returns the index after it. Throws the 400 on a syntax error or nesting over MAX_DEPTH.
 */
function skipValue(s: string, i: number, n: number, outer: number): number {
  let depth = 0
  for (;;) {
    if (i >= n) throw badJson()
    let c = s.charCodeAt(i)
    if (c === 0x7b || c === 0x5b) {
      if (outer + depth >= MAX_DEPTH) throw badJson()
      const kind = c === 0x7b ? OBJ : ARR
      stack[depth++] = kind
      i = ws(s, i + 1, n)
      if (i < n && s.charCodeAt(i) === (kind === OBJ ? 0x7d : 0x5d)) {
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
      c = s.charCodeAt(i)
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
function memberKey(s: string, i: number, n: number): number {
  if (i >= n || s.charCodeAt(i) !== 0x22) throw badJson()
  i = skipString(s, i, n)
  if (i < 0) throw badJson()
  i = ws(s, i, n)
  if (i >= n || s.charCodeAt(i) !== 0x3a) throw badJson()
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
const stringAt = (s: string, a: number, b: number): string => {
  const inner = s.slice(a + 1, b - 1)
  return inner.indexOf('\\') < 0 ? inner : (JSON.parse(s.slice(a, b)) as string)
}

/** Parses the object at s[i] (`{` there), `depth` levels deep; returns it and the index after it. */
function objectFrom(s: string, i: number, n: number, depth: number): [JsonObject, number] {
  const members = new Map<string, Span>()
  i = ws(s, i + 1, n)
  if (i < n && s.charCodeAt(i) === 0x7d) return [{ text: s, members }, i + 1]
  for (;;) {
    if (i >= n || s.charCodeAt(i) !== 0x22) throw badJson()
    const k = skipString(s, i, n)
    if (k < 0) throw badJson()
    const key = stringAt(s, i, k)
    i = ws(s, k, n)
    if (i >= n || s.charCodeAt(i) !== 0x3a) throw badJson()
    i = ws(s, i + 1, n)
    if (i >= n) throw badJson()
    const start = i
    i = skipValue(s, i, n, depth)
    members.set(key, { kind: kindAt(s.charCodeAt(start)), start, end: i })
    i = ws(s, i, n)
    if (i >= n) throw badJson()
    const c = s.charCodeAt(i)
    if (c === 0x7d) return [{ text: s, members }, i + 1]
    if (c !== 0x2c) throw badJson()
    i = ws(s, i + 1, n)
  }
}

/**
 * The body text as its top-level object. Empty or not an object: "valid JSON"; anything but
 * whitespace after it (a second value or garbage) is "exactly one JSON value", as Go's second
 * `Decode` answers it.
 */
export function parseBody(text: string): JsonObject {
  const n = text.length
  const i = ws(text, 0, n)
  if (i >= n || text.charCodeAt(i) !== 0x7b) {
    // a valid non-object value is a type error; anything else a syntax error: both "valid JSON"
    throw badJson()
  }
  const [obj, end] = objectFrom(text, i, n, 1)
  const j = ws(text, end, n)
  if (j !== n) throw new HttpError('invalid_input', MSG.oneValue)
  return obj
}

// ------------------------------------------------------------------------ typed fields ----

const present = (o: JsonObject, name: string): Span | undefined => {
  const v = o.members.get(name)
  return v === undefined || v.kind === Kind.Null ? undefined : v
}

export const has = (o: JsonObject, name: string): boolean => present(o, name) !== undefined

export function getString(o: JsonObject, name: string): string | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  if (v.kind !== Kind.String) throw badJson()
  return stringAt(o.text, v.start, v.end)
}

/** An integer literal (no fraction or exponent), within ±(2^53−1); `unsigned` refuses a sign. */
function integer(o: JsonObject, name: string, unsigned: boolean): number | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  if (v.kind !== Kind.Number) throw badJson()
  const s = o.text
  let i = v.start
  if (s.charCodeAt(i) === 0x2d) {
    if (unsigned) throw badJson()
    i++
  }
  for (let k = i; k < v.end; k++) if (!isDigit(s.charCodeAt(k))) throw badJson()
  const value = Number(s.slice(v.start, v.end))
  if (!Number.isSafeInteger(value)) throw badJson()
  return value === 0 ? 0 : value
}

export const getUint = (o: JsonObject, name: string): number | undefined => integer(o, name, true)
export const getInt = (o: JsonObject, name: string): number | undefined => integer(o, name, false)

/** The member's exact JSON text (for payloads), or undefined when absent or `null`. */
export function getRaw(o: JsonObject, name: string): string | undefined {
  const v = present(o, name)
  return v === undefined ? undefined : o.text.slice(v.start, v.end)
}

/** The elements of an array member as objects; absent or null is undefined; any non-object is 400. */
export function getObjects(o: JsonObject, name: string): JsonObject[] | undefined {
  const v = present(o, name)
  if (v === undefined) return undefined
  if (v.kind !== Kind.Array) throw badJson()
  const s = o.text
  const out: JsonObject[] = []
  let i = ws(s, v.start + 1, v.end)
  if (s.charCodeAt(i) === 0x5d) return out
  for (;;) {
    if (s.charCodeAt(i) !== 0x7b) throw badJson()
    const [el, end] = objectFrom(s, i, v.end, 3)
    out.push(el)
    i = ws(s, end, v.end)
    if (s.charCodeAt(i) === 0x5d) return out
    i = ws(s, i + 1, v.end) // a comma: the scan already validated the array
  }
}
