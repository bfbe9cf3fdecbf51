/**
 * JSON checks for payloads. Payload bytes are stored verbatim and never re-serialised, so the
 * check must be exact (one RFC 8259 value, well-formed text) and cheap: a hand-written iterative
 * scanner, one pass, no parse tree, no recursion, no allocation per character (JSON.parse would
 * build the whole value only to throw it away). Depth is capped at 10 000 like Go's encoding/json:
 * JSON.parse accepts far deeper input, and a later JSON.stringify of a parsed payload that deep
 * would blow the stack.
 *
 * Bytes go through the byte scanner (json-bytes.ts, shared with the HTTP body parser); text has
 * the same state machine written over charCodeAt below, so that neither pays for an indirect
 * read per character; the tests check that they agree. When both a syntax/depth problem and an
 * encoding problem are present, the encoding problem is reported: a payload that is not valid
 * UTF-8 is not text at all.
 */
import { JSON_TOO_DEEP, jsonValueEnd, jsonWs, MAX_JSON_DEPTH, validUtf8 } from './json-bytes.js'
import { MESSAGES } from './limits.js'

export { MAX_JSON_DEPTH }

const { payloadNotJson: NOT_JSON, payloadBadUtf8: BAD_UTF8, payloadTooDeep: TOO_DEEP } = MESSAGES

// Kinds of the open containers, innermost at stack[depth - 1]. Shared by every call: the
// scanner never calls out, so a call cannot interleave with another on the same thread.
const ARRAY = 1
const OBJECT = 2
const stack = new Uint8Array(MAX_JSON_DEPTH)

// Result codes of the scanners; -1 from a token helper means "syntax error".
const VALID = 0
const SYNTAX = 1
const DEPTH = 2

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
// The characters allowed after a backslash, other than `u`: " \ / b f n r t.
const isSimpleEscape = (c: number): boolean =>
  c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74

/** Indices of `text` without its leading/trailing JSON whitespace (space, tab, LF, CR). */
export function trimJson(text: string): [start: number, end: number] {
  let a = 0
  let b = text.length
  while (a < b && isWs(text.charCodeAt(a))) a++
  while (b > a && isWs(text.charCodeAt(b - 1))) b--
  return [a, b]
}

// A fast path for the common payload: a scalar, or an object/array nested at most two deep, with
// no surrogate in its strings. One regex test runs as native code (~1 ns/char, ~2.5× the
// charCodeAt scanner here); it accepts a subset of what the scanner accepts (the grammar below
// is RFC 8259's, surrogates excluded), and anything it does not match goes to the scanner,
// which gives the answer and the reason. `$` without the m flag matches only at the end.
// Only for short texts: the regex's backtrack stack grows with the input (10 MB of string
// throws a RangeError) and long arrays of numbers scan slower than with the scanner.
const SIMPLE_MAX_CHARS = 1024
const WS = '[ \\t\\n\\r]*'
const STR = '"(?:[^"\\\\\\x00-\\x1f\\ud800-\\udfff]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"'
const NUM = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?'
const SCALAR = `(?:${STR}|${NUM}|true|false|null)`
const obj = (v: string): string => `\\{${WS}(?:${STR}${WS}:${WS}${v}${WS}(?:,${WS}${STR}${WS}:${WS}${v}${WS})*)?\\}`
const arr = (v: string): string => `\\[${WS}(?:${v}${WS}(?:,${WS}${v}${WS})*)?\\]`
const SHALLOW = `(?:${SCALAR}|${obj(SCALAR)}|${arr(SCALAR)})`
const SIMPLE_JSON = new RegExp(`^${WS}(?:${obj(SHALLOW)}|${arr(SHALLOW)}|${SCALAR})${WS}$`)

/** Whether the fast path alone accepts `text` (false: ask the scanner). Exported for the tests. */
export const simpleJson = (text: string): boolean => text.length <= SIMPLE_MAX_CHARS && SIMPLE_JSON.test(text)

/** null when `text` is exactly one JSON value (whitespace around it allowed), well-formed, depth ≤ 10 000; else the reason. */
export function jsonTextProblem(text: string): string | null {
  if (text.length <= SIMPLE_MAX_CHARS && SIMPLE_JSON.test(text)) return null
  const r = scanText(text)
  if (r === VALID) return null
  // The scanner stopped early; a lone surrogate further on still takes precedence.
  if (!text.isWellFormed()) return BAD_UTF8
  return r === DEPTH ? TOO_DEEP : NOT_JSON
}

/** The same check over the UTF-8 bytes u8[start, end), which must also be valid UTF-8 (works on SharedArrayBuffer views). */
export function jsonBytesProblem(u8: Uint8Array, start: number, end: number): string | null {
  const r = jsonValueEnd(u8, jsonWs(u8, start, end), end, 0, true)
  if (r >= 0 && jsonWs(u8, r, end) === end) return null
  if (!validUtf8(u8, start, end)) return BAD_UTF8
  return r === JSON_TOO_DEEP ? TOO_DEEP : NOT_JSON
}

// ---------------------------------------------------------------------------------------------
// Text scanner. Outside string literals only ASCII is legal, so well-formedness needs checking
// only inside them (the error path rechecks the whole text).

function scanText(s: string): number {
  const n = s.length
  let depth = 0
  let i = wsText(s, 0, n)
  for (;;) {
    // A value starts at i.
    if (i >= n) return SYNTAX
    let c = s.charCodeAt(i)
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_JSON_DEPTH) return DEPTH
      const kind = c === 0x5b ? ARRAY : OBJECT
      stack[depth++] = kind
      i = wsText(s, i + 1, n)
      if (i < n && s.charCodeAt(i) === (kind === ARRAY ? 0x5d : 0x7d)) {
        depth-- // empty container: it is the value just finished
        i++
      } else {
        if (kind === OBJECT) {
          i = memberKeyText(s, i, n)
          if (i < 0) return SYNTAX
        }
        continue
      }
    } else if (c === 0x22) {
      i = stringText(s, i, n)
      if (i < 0) return SYNTAX
    } else if (c === 0x2d || isDigit(c)) {
      i = numberText(s, i, n)
      if (i < 0) return SYNTAX
    } else if (c === 0x74) {
      if (i + 3 >= n || s.charCodeAt(i + 1) !== 0x72 || s.charCodeAt(i + 2) !== 0x75 || s.charCodeAt(i + 3) !== 0x65) return SYNTAX
      i += 4
    } else if (c === 0x66) {
      if (
        i + 4 >= n || s.charCodeAt(i + 1) !== 0x61 || s.charCodeAt(i + 2) !== 0x6c || s.charCodeAt(i + 3) !== 0x73 ||
        s.charCodeAt(i + 4) !== 0x65
      ) return SYNTAX
      i += 5
    } else if (c === 0x6e) {
      if (i + 3 >= n || s.charCodeAt(i + 1) !== 0x75 || s.charCodeAt(i + 2) !== 0x6c || s.charCodeAt(i + 3) !== 0x6c) return SYNTAX
      i += 4
    } else return SYNTAX
    // A value ended at i: close containers until one continues with a comma.
    for (;;) {
      i = wsText(s, i, n)
      if (depth === 0) return i === n ? VALID : SYNTAX
      if (i >= n) return SYNTAX
      c = s.charCodeAt(i)
      const kind = stack[depth - 1]
      if (c === 0x2c) {
        i = wsText(s, i + 1, n)
        if (kind === OBJECT) {
          i = memberKeyText(s, i, n)
          if (i < 0) return SYNTAX
        }
        break
      }
      if (c !== (kind === ARRAY ? 0x5d : 0x7d)) return SYNTAX
      depth--
      i++
    }
  }
}

function wsText(s: string, i: number, n: number): number {
  while (i < n && isWs(s.charCodeAt(i))) i++
  return i
}

/** `"key"` `:` with the whitespace after each; the index of the member's value, or -1. */
function memberKeyText(s: string, i: number, n: number): number {
  if (i >= n || s.charCodeAt(i) !== 0x22) return -1
  i = stringText(s, i, n)
  if (i < 0) return -1
  i = wsText(s, i, n)
  if (i >= n || s.charCodeAt(i) !== 0x3a) return -1
  return wsText(s, i + 1, n)
}

/** A string literal starting at the quote at i: the index after its closing quote, or -1. */
function stringText(s: string, i: number, n: number): number {
  i++
  while (i < n) {
    const c = s.charCodeAt(i++)
    if (c === 0x22) return i
    if (c === 0x5c) {
      if (i >= n) return -1
      const e = s.charCodeAt(i++)
      if (e === 0x75) {
        if (i + 4 > n || !isHex(s.charCodeAt(i)) || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2)) || !isHex(s.charCodeAt(i + 3))) return -1
        i += 4
      } else if (!isSimpleEscape(e)) return -1
    } else if (c < 0x20) return -1
    else if ((c & 0xf800) === 0xd800) {
      // A surrogate must be a high one followed by a low one.
      if (c > 0xdbff || i >= n || (s.charCodeAt(i) & 0xfc00) !== 0xdc00) return -1
      i++
    }
  }
  return -1
}

/** A number starting at i (`-` or a digit): the index after it, or -1. */
function numberText(s: string, i: number, n: number): number {
  if (s.charCodeAt(i) === 0x2d) i++
  if (i >= n) return -1
  let c = s.charCodeAt(i)
  if (c === 0x30) i++
  else if (c >= 0x31 && c <= 0x39) {
    i++
    while (i < n && isDigit(s.charCodeAt(i))) i++
  } else return -1
  if (i < n && s.charCodeAt(i) === 0x2e) {
    i++
    if (i >= n || !isDigit(s.charCodeAt(i))) return -1
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  if (i < n && (s.charCodeAt(i) | 0x20) === 0x65) {
    i++
    if (i < n) {
      c = s.charCodeAt(i)
      if (c === 0x2b || c === 0x2d) i++
    }
    if (i >= n || !isDigit(s.charCodeAt(i))) return -1
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  return i
}

// ---------------------------------------------------------------------------------------------

/** Whether already-valid JSON text (e.g. JSON.stringify output) nests deeper than `max` arrays/objects. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  const n = text.length
  // Depth d needs d opening and d closing brackets: a shorter text cannot pass `max`.
  if (n <= 2 * max + 1) return false
  let depth = 0
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // Skip the string literal; a backslash always escapes the next code unit.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/** The value of a JSON integer (`-?(0|[1-9][0-9]*)`, no fraction/exponent) within ±(2^53−1), else undefined; `-0` is 0. */
export function parseJsonInteger(text: string): number | undefined {
  const n = text.length
  let i = text.charCodeAt(0) === 0x2d ? 1 : 0
  if (i >= n) return undefined
  // At most 16 digits can be safe (2^53 − 1 has 16); "0" may not be followed by more digits.
  if (n - i > 16 || (text.charCodeAt(i) === 0x30 && n - i > 1)) return undefined
  for (; i < n; i++) if (!isDigit(text.charCodeAt(i))) return undefined
  const v = Number(text)
  if (!Number.isSafeInteger(v)) return undefined
  return v === 0 ? 0 : v
}
