/**
 * The walk over a request body's objects, on the core's JSON byte scanner (`@scopecache/core/scanner`,
 * the same grammar and depth cap the store checks payloads with): a value is validated by one
 * `jsonValueEnd` pass that builds nothing; an object's members are walked key by key so that
 * json-body.ts can record where each value starts and ends. Bytes that are not UTF-8 are not
 * refused here (the scan runs with `utf8: false`): json-body.ts checks UTF-8 once per body and
 * the field rules say where it matters.
 *
 * One place follows the reference's decoder rather than RFC 8259, so that the field rules, not the
 * body, answer (ScopeCache v0.8.32's decoder): a `payload` member (of the body, or of an element of a
 * top-level array: `/warm` items) is delimited loosely, as Go's decoder skips a raw value (a string
 * to its closing quote, a number to the end of its characters, a container to its matching
 * bracket), and is `Kind.Bad` when it is not valid JSON: "the 'payload' field must be a valid JSON
 * value", in its turn among the field rules.
 */
import type { Buffer } from 'node:buffer'
import { JSON_SYNTAX, jsonStringEnd, jsonValueEnd, jsonWs, MAX_JSON_DEPTH } from '@scopecache/core/scanner'
import { badJson } from './errors.js'

export const MAX_DEPTH = MAX_JSON_DEPTH

export const enum Kind {
  String = 1,
  Number,
  Object,
  Array,
  True,
  False,
  Null,
  /** a loosely delimited `payload` that is not valid JSON */
  Bad,
}

export interface Span {
  kind: Kind
  start: number
  end: number
}

/** The body's bytes (a Buffer view, for decoding slices). */
export type Bytes = Buffer

/** How walkObject reads `payload` members: as any value, loosely, or loosely in the elements of array members too. */
export const enum Loose {
  None = 0,
  Payload,
  PayloadAndElements,
}

// The key literal memberKey last read: [keyStart, keyEnd).
let keyStart = 0
let keyEnd = 0

export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

export const ws = jsonWs

/** Validates the value starting at s[i] (no leading whitespace), inside `level` containers; the index after it. 400 if it is not JSON or nests too deep. */
export function skipValue(s: Bytes, i: number, n: number, level: number): number {
  const end = jsonValueEnd(s, i, n, level, false)
  if (end < 0) throw badJson()
  return end
}

/** At a member's key: skips `"key" :` and whitespace, returning where the value starts (the key: keyStart, keyEnd). */
function memberKey(s: Bytes, i: number, n: number): number {
  if (i >= n || s[i] !== 0x22) throw badJson()
  keyStart = i
  i = jsonStringEnd(s, i, n, false)
  if (i === JSON_SYNTAX) throw badJson()
  keyEnd = i
  i = ws(s, i, n)
  if (i >= n || s[i] !== 0x3a) throw badJson()
  return ws(s, i + 1, n)
}

const isPayloadKey = (s: Bytes): boolean => keyIs(s, keyStart, keyEnd, 'payload')

// ------------------------------------------------------------------ loose payloads ----

/** Whether the last payloadValue was not valid JSON. */
let badPayload = false

/** A byte Go's decoder takes as part of a number: digits, `+ - . e E`. */
const isNumberByte = (c: number): boolean => isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e || (c | 0x20) === 0x65

/**
 * A `payload` value at s[i], inside `level` containers: strictly if it is valid JSON, else
 * delimited as the reference's decoder delimits a raw value (sets badPayload). Nesting over
 * MAX_DEPTH and a value no JSON value starts like are the body's 400 ("valid JSON") either way.
 */
function payloadValue(s: Bytes, i: number, n: number, level: number): number {
  badPayload = false
  const c = s[i]
  const numeric = c === 0x2d || isDigit(c)
  const end = jsonValueEnd(s, i, n, level, false)
  if (end >= 0 && (!numeric || end >= n || !isNumberByte(s[end]))) return end
  // not valid JSON: delimit it loosely
  badPayload = true
  if (numeric) {
    while (i < n && isNumberByte(s[i])) i++
    return i
  }
  if (c === 0x22) return looseString(s, i, n)
  if (c !== 0x7b && c !== 0x5b) throw badJson() // a literal the strict scan refused (`nul`, `tru`)
  // a container to its matching bracket (brackets of the other kind count only for depth), strings skipped
  const close = c === 0x7b ? 0x7d : 0x5d
  let own = 0
  let depth = level
  for (; i < n; i++) {
    const d = s[i]
    if (d === 0x22) {
      i = looseString(s, i, n) - 1
    } else if (d === 0x7b || d === 0x5b) {
      if (++depth > MAX_DEPTH) throw badJson()
      if (d === c) own++
    } else if (d === 0x7d || d === 0x5d) {
      depth--
      if (d === close && --own === 0) return i + 1
    }
  }
  throw badJson()
}

/** A string from s[i] (`"`) to its closing quote, whatever it holds; the index after it. */
function looseString(s: Bytes, i: number, n: number): number {
  for (i++; i < n; i++) {
    const c = s[i]
    if (c === 0x22) return i + 1
    if (c === 0x5c) i++
  }
  throw badJson()
}

export function kindAt(c: number): Kind {
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
export function stringAt(s: Bytes, a: number, b: number): string {
  for (let k = a + 1; k < b - 1; k++) if (s[k] === 0x5c) return JSON.parse(s.toString('utf8', a, b)) as string
  return s.toString('utf8', a + 1, b - 1)
}

type Member = (ks: number, ke: number, kind: Kind, start: number, end: number) => void
const ignore: Member = () => undefined

/**
 * Walks the object at s[i] (`{` there), whose members' values sit `depth` containers deep,
 * calling `member` with each key's literal span [ks, ke) (quotes included), the value's kind and
 * its span; returns the index after it. `loose` says which `payload` members are delimited
 * loosely (Kind.Bad when not valid JSON): this object's, and with PayloadAndElements those of
 * the object elements of its array members too.
 */
export function walkObject(s: Bytes, i: number, n: number, depth: number, loose: Loose, member: Member = ignore): number {
  if (depth > MAX_DEPTH) throw badJson() // the object itself would be one container too many
  i = ws(s, i + 1, n)
  if (i < n && s[i] === 0x7d) return i + 1
  for (;;) {
    const start = memberKey(s, i, n)
    const ks = keyStart
    const ke = keyEnd
    if (start >= n) throw badJson()
    let kind: Kind
    if (loose !== Loose.None && isPayloadKey(s)) {
      i = payloadValue(s, start, n, depth)
      kind = badPayload ? Kind.Bad : kindAt(s[start])
    } else {
      kind = kindAt(s[start])
      i = loose === Loose.PayloadAndElements && kind === Kind.Array ? walkArray(s, start, n, depth) : skipValue(s, start, n, depth)
    }
    member(ks, ke, kind, start, i)
    i = ws(s, i, n)
    if (i >= n) throw badJson()
    const c = s[i]
    if (c === 0x7d) return i + 1
    if (c !== 0x2c) throw badJson()
    i = ws(s, i + 1, n)
  }
}

/**
 * Walks the array at s[i] (`[` there), inside `level` containers, whose object elements have
 * loose `payload` members, calling `element(start, end, index)` for each; the index after it.
 */
export function walkArray(s: Bytes, i: number, n: number, level: number, element?: (start: number, end: number, index: number) => void, member: Member = ignore): number {
  if (level >= MAX_DEPTH) throw badJson()
  i = ws(s, i + 1, n)
  if (i < n && s[i] === 0x5d) return i + 1
  for (let k = 0; ; k++) {
    if (i >= n) throw badJson()
    const start = i
    i = s[i] === 0x7b ? walkObject(s, i, n, level + 2, Loose.Payload, member) : skipValue(s, i, n, level + 1)
    element?.(start, i, k)
    i = ws(s, i, n)
    if (i >= n) throw badJson()
    if (s[i] === 0x5d) return i + 1
    if (s[i] !== 0x2c) throw badJson()
    i = ws(s, i + 1, n)
  }
}

/** Whether the key literal s[ks, ke) (quotes included) decodes to `name` (ASCII). */
export function keyIs(s: Bytes, ks: number, ke: number, name: string): boolean {
  for (let k = ks + 1; k < ke - 1; k++) if (s[k] === 0x5c) return stringAt(s, ks, ke) === name
  if (ke - ks - 2 !== name.length) return false
  for (let k = 0; k < name.length; k++) if (s[ks + 1 + k] !== name.charCodeAt(k)) return false
  return true
}
