/**
 * The key rules (scope, id, prefix, after) for values that arrive in a query string, where the
 * core is permissive (an invalid key simply misses) but the reference answers 400. The rules are
 * the core's own validator; a query value that was not valid UTF-8 arrives as INVALID_UTF8.
 * Writes are validated by the core itself. Like every query-parsing message of the reference, a
 * query value's broken rule is answered without the `scopecache: invalid input: ` prefix that the
 * same rule carries when it comes from a body.
 */
import { keyProblem as coreKeyProblem, MAX_KEY_BYTES, MESSAGES, type KeyField } from '@scopecache/core'
import { badRequest } from './errors.js'
import { INVALID_UTF8 } from './query.js'

export { MAX_KEY_BYTES, type KeyField } from '@scopecache/core'

/** Throws the reference's 400 (unprefixed: a query value) when `s` (non-empty) breaks a key rule. */
export function checkKey(s: string, field: KeyField): void {
  if (printable(s)) return
  const problem = keyProblem(s, field)
  if (problem !== null) throw badRequest(problem)
}

/**
 * The common valid key, checked in one cheap pass: printable ASCII (spaces inside only), at most
 * MAX_KEY_BYTES long. Anything else goes through the full rules.
 */
function printable(s: string): boolean {
  const n = s.length
  if (n === 0 || n > MAX_KEY_BYTES || s.charCodeAt(0) === 0x20 || s.charCodeAt(n - 1) === 0x20) return false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) return false
  }
  return true
}

/** The broken rule (without the error prefix), or null when `s` (non-empty) is a valid key. */
export function keyProblem(s: string, field: KeyField): string | null {
  if (s === INVALID_UTF8) return MESSAGES.badUtf8(field)
  return coreKeyProblem(s, field)
}
