/**
 * The JSON byte scanner: one iterative pass over a value's UTF-8 bytes that checks it against
 * RFC 8259 and the depth cap without building anything (no parse tree, no recursion, no
 * allocation per byte). Structural characters are ASCII, so scanning bytes is the same grammar
 * as scanning text. The core's payload check (json.ts) and the HTTP package's request-body
 * parser (through `@scopecache/core/scanner`) both run on it, so there is one grammar to get
 * right. Works on SharedArrayBuffer views too.
 *
 * `utf8`: whether the bytes inside string literals must be valid UTF-8 (a failure is a syntax
 * error). The HTTP parser passes false: it checks UTF-8 on its own, once per body, so that an
 * encoding problem is reported as one, in its turn among the field rules.
 */
import { LIMITS } from './limits.js'

/** Containers a payload may nest, like Go's encoding/json (JSON.stringify of deeper would blow the stack). */
export const MAX_JSON_DEPTH = LIMITS.maxJsonDepth

/** jsonValueEnd/jsonStringEnd: not JSON (including, with `utf8`, bytes that are not UTF-8 in a string). */
export const JSON_SYNTAX = -1
/** jsonValueEnd: more than MAX_JSON_DEPTH containers deep. */
export const JSON_TOO_DEEP = -2

// Kinds of the open containers, innermost at stack[depth - 1]. Shared by every call: the scanner
// never calls out, so a call cannot interleave with another on the same thread.
const ARRAY = 1
const OBJECT = 2
const stack = new Uint8Array(MAX_JSON_DEPTH)

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
// The characters allowed after a backslash, other than `u`: " \ / b f n r t.
const isSimpleEscape = (c: number): boolean =>
  c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74

/** The index of the first byte at or after i (before n) that is not JSON whitespace. */
export function jsonWs(u8: Uint8Array, i: number, n: number): number {
  while (i < n && isWs(u8[i])) i++
  return i
}

/**
 * The value starting exactly at u8[i] (no whitespace skipped), inside `level` enclosing
 * containers (0 for a value on its own): the index after it, or JSON_SYNTAX / JSON_TOO_DEEP.
 * Nothing after the value is looked at.
 */
export function jsonValueEnd(u8: Uint8Array, i: number, n: number, level: number, utf8: boolean): number {
  let depth = 0
  for (;;) {
    // A value starts at i.
    if (i >= n) return JSON_SYNTAX
    let c = u8[i]
    if (c === 0x7b || c === 0x5b) {
      if (level + depth >= MAX_JSON_DEPTH) return JSON_TOO_DEEP
      const kind = c === 0x5b ? ARRAY : OBJECT
      stack[depth++] = kind
      i = jsonWs(u8, i + 1, n)
      if (i < n && u8[i] === (kind === ARRAY ? 0x5d : 0x7d)) {
        depth-- // empty container: it is the value just finished
        i++
      } else {
        if (kind === OBJECT) {
          i = memberKey(u8, i, n, utf8)
          if (i < 0) return JSON_SYNTAX
        }
        continue
      }
    } else if (c === 0x22) {
      i = jsonStringEnd(u8, i, n, utf8)
      if (i < 0) return JSON_SYNTAX
    } else if (c === 0x2d || isDigit(c)) {
      i = numberEnd(u8, i, n)
      if (i < 0) return JSON_SYNTAX
    } else if (c === 0x74) {
      if (i + 3 >= n || u8[i + 1] !== 0x72 || u8[i + 2] !== 0x75 || u8[i + 3] !== 0x65) return JSON_SYNTAX
      i += 4
    } else if (c === 0x66) {
      if (i + 4 >= n || u8[i + 1] !== 0x61 || u8[i + 2] !== 0x6c || u8[i + 3] !== 0x73 || u8[i + 4] !== 0x65) return JSON_SYNTAX
      i += 5
    } else if (c === 0x6e) {
      if (i + 3 >= n || u8[i + 1] !== 0x75 || u8[i + 2] !== 0x6c || u8[i + 3] !== 0x6c) return JSON_SYNTAX
      i += 4
    } else return JSON_SYNTAX
    // A value ended at i: close containers until one continues with a comma.
    for (;;) {
      if (depth === 0) return i
      i = jsonWs(u8, i, n)
      if (i >= n) return JSON_SYNTAX
      c = u8[i]
      const kind = stack[depth - 1]
      if (c === 0x2c) {
        i = jsonWs(u8, i + 1, n)
        if (kind === OBJECT) {
          i = memberKey(u8, i, n, utf8)
          if (i < 0) return JSON_SYNTAX
        }
        break
      }
      if (c !== (kind === ARRAY ? 0x5d : 0x7d)) return JSON_SYNTAX
      depth--
      i++
    }
  }
}

/** `"key"` `:` with the whitespace after each; the index of the member's value, or -1. */
function memberKey(u8: Uint8Array, i: number, n: number, utf8: boolean): number {
  if (i >= n || u8[i] !== 0x22) return -1
  i = jsonStringEnd(u8, i, n, utf8)
  if (i < 0) return -1
  i = jsonWs(u8, i, n)
  if (i >= n || u8[i] !== 0x3a) return -1
  return jsonWs(u8, i + 1, n)
}

/** The string literal starting at the quote u8[i]: the index after its closing quote, or JSON_SYNTAX. */
export function jsonStringEnd(u8: Uint8Array, i: number, n: number, utf8: boolean): number {
  i++
  while (i < n) {
    const c = u8[i++]
    if (c === 0x22) return i
    if (c === 0x5c) {
      if (i >= n) return JSON_SYNTAX
      const e = u8[i++]
      if (e === 0x75) {
        if (i + 4 > n || !isHex(u8[i]) || !isHex(u8[i + 1]) || !isHex(u8[i + 2]) || !isHex(u8[i + 3])) return JSON_SYNTAX
        i += 4
      } else if (!isSimpleEscape(e)) return JSON_SYNTAX
    } else if (c < 0x20) return JSON_SYNTAX
    else if (c >= 0x80 && utf8) {
      i = utf8Tail(u8, c, i, n)
      if (i < 0) return JSON_SYNTAX
    }
  }
  return JSON_SYNTAX
}

/** A number starting at i (`-` or a digit): the index after it, or -1. */
function numberEnd(u8: Uint8Array, i: number, n: number): number {
  if (u8[i] === 0x2d) i++
  if (i >= n) return -1
  let c = u8[i]
  if (c === 0x30) i++
  else if (c >= 0x31 && c <= 0x39) {
    i++
    while (i < n && isDigit(u8[i])) i++
  } else return -1
  if (i < n && u8[i] === 0x2e) {
    i++
    if (i >= n || !isDigit(u8[i])) return -1
    while (i < n && isDigit(u8[i])) i++
  }
  if (i < n && (u8[i] | 0x20) === 0x65) {
    i++
    if (i < n) {
      c = u8[i]
      if (c === 0x2b || c === 0x2d) i++
    }
    if (i >= n || !isDigit(u8[i])) return -1
    while (i < n && isDigit(u8[i])) i++
  }
  return i
}

/**
 * The continuation bytes of a sequence whose lead byte `c` (≥ 0x80) was just read; i is the
 * index after the lead. Returns the index after the sequence, or -1 for an invalid one: a stray
 * continuation byte, an overlong form (C0, C1, E0 80–9F, F0 80–8F), a surrogate (ED A0–BF),
 * a code point above U+10FFFF (F4 90–, F5–FF), or a sequence cut off by `n`. (Unicode table 3-7.)
 */
function utf8Tail(u8: Uint8Array, c: number, i: number, n: number): number {
  if (c < 0xc2) return -1
  if (c < 0xe0) {
    if (i >= n || (u8[i] & 0xc0) !== 0x80) return -1
    return i + 1
  }
  if (c < 0xf0) {
    if (i + 1 >= n) return -1
    const b1 = u8[i]
    if (c === 0xe0 ? b1 < 0xa0 || b1 > 0xbf : c === 0xed ? b1 < 0x80 || b1 > 0x9f : (b1 & 0xc0) !== 0x80) return -1
    if ((u8[i + 1] & 0xc0) !== 0x80) return -1
    return i + 2
  }
  if (c < 0xf5) {
    if (i + 2 >= n) return -1
    const b1 = u8[i]
    if (c === 0xf0 ? b1 < 0x90 || b1 > 0xbf : c === 0xf4 ? b1 < 0x80 || b1 > 0x8f : (b1 & 0xc0) !== 0x80) return -1
    if ((u8[i + 1] & 0xc0) !== 0x80 || (u8[i + 2] & 0xc0) !== 0x80) return -1
    return i + 3
  }
  return -1
}

/** Whether u8[start, end) is valid UTF-8 (the error path's full check). */
export function validUtf8(u8: Uint8Array, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const c = u8[i++]
    if (c < 0x80) continue
    i = utf8Tail(u8, c, i, end)
    if (i < 0) return false
  }
  return true
}
