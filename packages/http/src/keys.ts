/**
 * The key rules (scope, id, prefix, after) for values that arrive in a query string, where the
 * core is permissive (an invalid key simply misses) but the reference answers 400. The same rules
 * as the core's validator, which the core does not export: 1–256 UTF-8 bytes, no C0 control
 * character or DEL, no Go-unicode.IsSpace whitespace at either end, well-formed UTF-16.
 * Writes are validated by the core itself.
 */
import { badField } from './errors.js'
import { INVALID_UTF8 } from './query.js'

export const MAX_KEY_BYTES = 256

const isGoSpace = (c: number): boolean =>
  c <= 0x20 ? c === 0x20 || (c >= 0x09 && c <= 0x0d)
    : c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
      c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000

export type KeyField = 'scope' | 'id' | 'prefix' | 'after'

/** Throws the reference's 400 when `s` (non-empty) breaks a key rule. */
export function checkKey(s: string, field: KeyField): void {
  const problem = keyProblem(s, field)
  if (problem !== null) throw badField(problem)
}

/** The broken rule (without the error prefix), or null when `s` (non-empty) is a valid key. */
export function keyProblem(s: string, field: KeyField): string | null {
  if (s === INVALID_UTF8) return `the '${field}' field must be valid UTF-8`
  const n = s.length
  let bytes = n
  let control = false
  let lone = false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) control = true
    } else if (c < 0x800) bytes += 1
    else {
      bytes += 2
      if ((c & 0xf800) === 0xd800) {
        if (c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
        else lone = true
      }
    }
  }
  if (bytes > MAX_KEY_BYTES) return `the '${field}' field must not exceed ${MAX_KEY_BYTES} bytes`
  if (isGoSpace(s.charCodeAt(0)) || isGoSpace(s.charCodeAt(n - 1))) return `the '${field}' field must not have leading or trailing whitespace`
  if (control) return `the '${field}' field must not contain control characters`
  if (lone) return `the '${field}' field must be valid UTF-8`
  return null
}
