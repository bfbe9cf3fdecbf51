/**
 * Key rules for scope names, ids, prefixes and cursors (ScopeCache v0.8.32 §4): 1–256 UTF-8
 * bytes, well-formed, no C0 control character or DEL anywhere, no leading/trailing whitespace in
 * Go's unicode.IsSpace sense (which, unlike JS trim(), includes U+0085 and excludes U+FEFF).
 * This runs on every write and every keyed read, so it is one charCodeAt pass with no allocation;
 * only a failing key builds its message.
 */
import { LIMITS, MESSAGES } from './limits.js'

export const MAX_KEY_BYTES = LIMITS.maxKeyBytes

export type KeyField = 'scope' | 'id' | 'prefix' | 'after' | 'name'

const OK = 0
const TOO_LONG = 1
const SPACE = 2
const CONTROL = 3
const BAD_UTF8 = 4

/** UTF-8 byte length of a JS string (a lone surrogate counts 3, as TextEncoder's U+FFFD). */
export function utf8Length(s: string): number {
  const n = s.length
  let bytes = n
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) {
      bytes += 1
      continue
    }
    bytes += 2
    // A high surrogate followed by a low one: 2 + 1 + 1 = 4 bytes over the two code units.
    if (c <= 0xdbff && c >= 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
  }
  return bytes
}

/** Go's unicode.IsSpace for one UTF-16 code unit (every such space is in the BMP). */
function isGoSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0x85) return false
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  )
}

/**
 * One pass over a non-empty key. The reported problem follows the reference's order:
 * length, then leading/trailing whitespace, then control characters, then UTF-8.
 * Every code unit is at least one UTF-8 byte, so more than 256 code units is too long at once.
 */
function keyCode(s: string): number {
  const n = s.length
  if (n > MAX_KEY_BYTES) return TOO_LONG
  let bytes = n
  let control = false
  let lone = false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) control = true
      continue
    }
    if (c < 0x800) {
      bytes += 1
      continue
    }
    bytes += 2
    if ((c & 0xf800) === 0xd800) {
      if (c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
      else lone = true
    }
  }
  if (bytes > MAX_KEY_BYTES) return TOO_LONG
  if (isGoSpace(s.charCodeAt(0)) || isGoSpace(s.charCodeAt(n - 1))) return SPACE
  if (control) return CONTROL
  if (lone) return BAD_UTF8
  return OK
}

/** null when the non-empty string `s` is a valid key, else the reason (without the error prefix). */
export function keyProblem(s: string, field: KeyField): string | null {
  switch (keyCode(s)) {
    case OK:
      return null
    case TOO_LONG:
      return MESSAGES.keyTooLong(field)
    case SPACE:
      return MESSAGES.keySpace(field)
    case CONTROL:
      return MESSAGES.keyControl(field)
    default:
      return MESSAGES.badUtf8(field)
  }
}

/** The same rules as a boolean, for read paths; the empty string is invalid. */
export function isValidKey(s: string): boolean {
  return s.length > 0 && keyCode(s) === OK
}
