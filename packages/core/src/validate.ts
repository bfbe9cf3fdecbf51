/**
 * Key rules for scope names and ids (ScopeCache v0.8.32 §4): 1–256 UTF-8 bytes, well-formed,
 * no C0 control characters or DEL, no leading/trailing whitespace in Go's unicode.IsSpace sense
 * (which, unlike JS trim(), includes U+0085 and excludes U+FEFF). Checked in this order:
 * length, whitespace, control characters, UTF-8.
 */
export const MAX_KEY_BYTES = 256

export type KeyField = 'scope' | 'id' | 'prefix' | 'after'

/** UTF-8 byte length of a JS string (a lone surrogate counts 3, as U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2
      i++
    } else n += 2
  }
  return n
}

const isGoSpace = (c: number): boolean =>
  (c >= 9 && c <= 13) || c === 32 || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000

/** null when the non-empty string `s` is a valid key, else the reason. */
export function keyProblem(s: string, field: KeyField): string | null {
  if (utf8Length(s) > MAX_KEY_BYTES) return `the '${field}' field must not exceed ${MAX_KEY_BYTES} bytes`
  if (isGoSpace(s.charCodeAt(0)) || isGoSpace(s.charCodeAt(s.length - 1))) return `the '${field}' field must not have leading or trailing whitespace`
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return `the '${field}' field must not contain control characters`
  }
  if (!s.isWellFormed()) return `the '${field}' field must be valid UTF-8`
  return null
}

/** The same rules as a boolean, for read paths (empty is invalid). */
export function isValidKey(s: string): boolean {
  return s.length > 0 && keyProblem(s, 'scope') === null
}
