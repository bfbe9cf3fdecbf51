/**
 * The byte scanner behind json-body.ts: one iterative pass over a JSON value's UTF-8 bytes that
 * validates it (RFC 8259, nesting ≤ 10 000 like Go's decoder) without building anything, and the
 * walk over one object's members. Structural characters are ASCII, so scanning UTF-8 bytes is
 * the same grammar as text (and bytes that are not UTF-8 scan like any other).
 *
 * One place follows the reference's decoder rather than RFC 8259, so that the field rules, not the
 * body, answer (ScopeCache v0.8.32's decoder, issue 16): a `payload` member (of the body, or of an element of a
 * top-level array: `/warm` items) is delimited loosely, as Go's decoder skips a raw value (a string
 * to its closing quote, a number to the end of its characters, a container to its matching
 * bracket), and is `Kind.Bad` when it is not valid JSON: "the 'payload' field must be a valid JSON
 * value", in its turn among the field rules.
 */
import type { Buffer } from 'node:buffer'
import { LIMITS } from '@scopecache/core'
import { badJson } from './errors.js'

export const MAX_DEPTH = LIMITS.maxJsonDepth

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


// Container kinds of the iterative scanner, indexed by nesting level (shared: a nested scan, the
// strict try of a payload, uses the levels above its caller's).
const ARR = 1
const OBJ = 2
const stack = new Uint8Array(MAX_DEPTH + 1)
// The key literal memberKey last read: [keyStart, keyEnd).
let keyStart = 0
let keyEnd = 0

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)

export function ws(s: Bytes, i: number, n: number): number {
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
 * returns the index after it. Throws the 400 on a syntax error or nesting over MAX_DEPTH. The
 * `payload` members of objects opened at level `looseAt` are delimited loosely (payloadValue).
 */
export function skipValue(s: Bytes, i: number, n: number, outer: number, looseAt = -1): number {
  let depth = 0
  let loose = false
  for (;;) {
    if (i >= n) throw badJson()
    let c = s[i]
    if (loose) {
      loose = false
      i = payloadValue(s, i, n, outer + depth)
    } else if (c === 0x7b || c === 0x5b) {
      if (outer + depth >= MAX_DEPTH) throw badJson()
      const kind = c === 0x7b ? OBJ : ARR
      stack[outer + depth++] = kind
      i = ws(s, i + 1, n)
      if (i < n && s[i] === (kind === OBJ ? 0x7d : 0x5d)) {
        depth--
        i++
      } else {
        if (kind === OBJ) {
          i = memberKey(s, i, n)
          loose = outer + depth - 1 === looseAt && isPayloadKey(s)
        }
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
      const kind = stack[outer + depth - 1]
      if (c === 0x2c) {
        i = ws(s, i + 1, n)
        if (kind === OBJ) {
          i = memberKey(s, i, n)
          loose = outer + depth - 1 === looseAt && isPayloadKey(s)
        }
        break
      }
      if (c !== (kind === OBJ ? 0x7d : 0x5d)) throw badJson()
      depth--
      i++
    }
  }
}

/** At a member's key: skips `"key" :` and whitespace, returning where the value starts (the key: keyStart, keyEnd). */
function memberKey(s: Bytes, i: number, n: number): number {
  if (i >= n || s[i] !== 0x22) throw badJson()
  keyStart = i
  i = skipString(s, i, n)
  if (i < 0) throw badJson()
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
 * A `payload` value at s[i], `level` levels deep: strictly if it is valid JSON, else delimited as
 * the reference's decoder delimits a raw value (sets badPayload). Nesting over MAX_DEPTH and a
 * value no JSON value starts like are the body's 400 ("valid JSON") either way.
 */
function payloadValue(s: Bytes, i: number, n: number, level: number): number {
  badPayload = false
  const c = s[i]
  const numeric = c === 0x2d || isDigit(c)
  try {
    const end = skipValue(s, i, n, level)
    if (!numeric || end >= n || !isNumberByte(s[end])) return end
  } catch {
    // not valid JSON: delimit it loosely below
  }
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

/**
 * Walks the object at s[i] (`{` there), `depth` levels deep, calling `member` with each key's
 * literal span [ks, ke) (quotes included), the value's kind and its span; returns the index after
 * it. With `loose`, a `payload` member is delimited loosely (Kind.Bad when it is not valid JSON),
 * and the `payload` members of the elements of an array member too.
 */
export function walkObject(
  s: Bytes, i: number, n: number, depth: number, loose: boolean, member: (ks: number, ke: number, kind: Kind, start: number, end: number) => void,
): number {
  i = ws(s, i + 1, n)
  if (i < n && s[i] === 0x7d) return i + 1
  for (;;) {
    const start = memberKey(s, i, n)
    const ks = keyStart
    const ke = keyEnd
    if (start >= n) throw badJson()
    let kind: Kind
    if (loose && isPayloadKey(s)) {
      i = payloadValue(s, start, n, depth)
      kind = badPayload ? Kind.Bad : kindAt(s[start])
    } else {
      kind = kindAt(s[start])
      i = skipValue(s, start, n, depth, loose && kind === Kind.Array ? depth + 1 : -1)
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

/** Whether the key literal s[ks, ke) (quotes included) decodes to `name` (ASCII). */
export function keyIs(s: Bytes, ks: number, ke: number, name: string): boolean {
  for (let k = ks + 1; k < ke - 1; k++) if (s[k] === 0x5c) return stringAt(s, ks, ke) === name
  if (ke - ks - 2 !== name.length) return false
  for (let k = 0; k < name.length; k++) if (s[ks + 1 + k] !== name.charCodeAt(k)) return false
  return true
}
