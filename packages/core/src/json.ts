/**
 * JSON checks for payloads. Payload bytes are stored verbatim and never re-serialised, so the
 * check must be exact (one RFC 8259 value, well-formed text) and cheap (one pass, no parse
 * tree). Depth is capped at 10 000 like Go's encoding/json: JSON.parse accepts far deeper
 * input, and a later JSON.stringify of it would blow the stack.
 */
import { isUtf8 } from 'node:buffer'

export const MAX_JSON_DEPTH = 10_000

const NOT_JSON = "the 'payload' field must be a valid JSON value"
const BAD_UTF8 = "the 'payload' field must be valid UTF-8"
const TOO_DEEP = `the 'payload' field exceeds the maximum nesting depth of ${MAX_JSON_DEPTH}`

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

/** Indices of `text` without its leading/trailing JSON whitespace. */
export function trimJson(text: string): [start: number, end: number] {
  let a = 0
  let b = text.length
  while (a < b && isWs(text.charCodeAt(a))) a++
  while (b > a && isWs(text.charCodeAt(b - 1))) b--
  return [a, b]
}

/** null when `text` is exactly one JSON value (whitespace around it allowed), else the reason. */
export function jsonTextProblem(text: string): string | null {
  if (!text.isWellFormed()) return BAD_UTF8
  return scan(text)
}

/** The same check over UTF-8 bytes [start, end), which must also be valid UTF-8. */
export function jsonBytesProblem(u8: Uint8Array, start: number, end: number): string | null {
  const view = u8.subarray(start, end)
  if (!isUtf8(view)) return BAD_UTF8
  return scan(new TextDecoder().decode(view))
}

/** An iterative scanner: a stack of open containers, no recursion, no allocation per char. */
function scan(s: string): string | null {
  const n = s.length
  const stack = new Uint8Array(MAX_JSON_DEPTH + 1) // 1 = array, 2 = object
  let depth = 0
  let i = 0
  const ws = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++
  }
  // states: expect a value; after a value
  ws()
  for (;;) {
    // ---- a value ----
    if (i >= n) return NOT_JSON
    let c = s.charCodeAt(i)
    if (c === 123 || c === 91) {
      if (depth >= MAX_JSON_DEPTH) return TOO_DEEP
      stack[++depth] = c === 91 ? 1 : 2
      i++
      ws()
      if (i < n && s.charCodeAt(i) === (c === 91 ? 93 : 125)) {
        depth--
        i++
      } else if (c === 123) {
        if (!str()) return NOT_JSON
        ws()
        if (s.charCodeAt(i) !== 58) return NOT_JSON
        i++
        ws()
        continue
      } else continue
    } else if (c === 34) {
      if (!str()) return NOT_JSON
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      if (!num()) return NOT_JSON
    } else if (s.startsWith('true', i)) i += 4
    else if (s.startsWith('false', i)) i += 5
    else if (s.startsWith('null', i)) i += 4
    else return NOT_JSON
    // ---- after a value: close containers or continue them ----
    for (;;) {
      ws()
      if (depth === 0) return i === n ? null : NOT_JSON
      c = s.charCodeAt(i)
      const kind = stack[depth]
      if (c === 44) {
        i++
        ws()
        if (kind === 2) {
          if (!str()) return NOT_JSON
          ws()
          if (s.charCodeAt(i) !== 58) return NOT_JSON
          i++
          ws()
        }
        break
      }
      if ((kind === 1 && c === 93) || (kind === 2 && c === 125)) {
        depth--
        i++
        continue
      }
      return NOT_JSON
    }
  }

  function str(): boolean {
    if (s.charCodeAt(i) !== 34) return false
    i++
    while (i < n) {
      const c = s.charCodeAt(i++)
      if (c === 34) return true
      if (c < 0x20) return false
      if (c === 92) {
        const e = s.charCodeAt(i++)
        if (e === 117) {
          for (let k = 0; k < 4; k++, i++) {
            const h = s.charCodeAt(i)
            if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) return false
          }
        } else if (!(e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116)) return false
      }
    }
    return false
  }

  function num(): boolean {
    if (s.charCodeAt(i) === 45) i++
    const c = s.charCodeAt(i)
    if (c === 48) i++
    else if (c >= 49 && c <= 57) while (i < n && isDigit(s.charCodeAt(i))) i++
    else return false
    if (s.charCodeAt(i) === 46) {
      i++
      if (!isDigit(s.charCodeAt(i))) return false
      while (i < n && isDigit(s.charCodeAt(i))) i++
    }
    const e = s.charCodeAt(i)
    if (e === 101 || e === 69) {
      i++
      const sign = s.charCodeAt(i)
      if (sign === 43 || sign === 45) i++
      if (!isDigit(s.charCodeAt(i))) return false
      while (i < n && isDigit(s.charCodeAt(i))) i++
    }
    return true
  }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57

/** True when already-valid JSON text nests deeper than `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inStr = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inStr) {
      if (c === 92) i++
      else if (c === 34) inStr = false
    } else if (c === 34) inStr = true
    else if (c === 91 || c === 123) {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** The value of a JSON integer (no fraction/exponent) within ±(2^53−1), else undefined. */
export function parseJsonInteger(text: string): number | undefined {
  if (!/^-?(0|[1-9][0-9]*)$/.test(text)) return undefined
  const v = Number(text)
  return Number.isSafeInteger(v) ? (v === 0 ? 0 : v) : undefined
}
