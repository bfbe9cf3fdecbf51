/**
 * Query strings as Go's `r.URL.Query()` reads them: form decoding (`+` is a space, `%XX` a byte),
 * the first of repeated parameters wins, an empty value counts as absent, a pair with a malformed
 * escape is dropped. Unlike URLSearchParams, bytes that are not valid UTF-8 are not replaced
 * with U+FFFD: the parameter reads as INVALID_UTF8 so the endpoint can answer 400.
 * Plain ASCII values without escapes (the common case) are returned as slices, no decoding.
 */
import { badRequest } from './errors.js'

export const INVALID_UTF8 = '\u0000invalid-utf8'

export type Query = Map<string, string>

// ignoreBOM: a leading U+FEFF is part of the value (a scope may start with one), not a marker to strip
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const EMPTY: Query = new Map()

const hex = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1

/** The decoded component, INVALID_UTF8, or undefined for a malformed escape. */
function decode(s: string): string | undefined {
  let plain = true
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25 || c === 0x2b || c > 0x7e) {
      plain = false
      break
    }
  }
  if (plain) return s
  const bytes = new Uint8Array(s.length)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2b) bytes[n++] = 0x20
    else if (c === 0x25) {
      const h = i + 2 < s.length ? hex(s.charCodeAt(i + 1)) : -1
      const l = h < 0 ? -1 : hex(s.charCodeAt(i + 2))
      if (l < 0) return undefined
      bytes[n++] = (h << 4) | l
      i += 2
    } else if (c > 0xff) return INVALID_UTF8
    else bytes[n++] = c // the request line's raw bytes arrive as latin1 code units
  }
  try {
    return decoder.decode(bytes.subarray(0, n))
  } catch {
    return INVALID_UTF8
  }
}

/** url[a, b) is `name`. */
function sameAt(url: string, a: number, b: number, name: string): boolean {
  if (b - a !== name.length) return false
  for (let i = 0; i < name.length; i++) if (url.charCodeAt(a + i) !== name.charCodeAt(i)) return false
  return true
}

/** No `%`, `+` or non-ASCII in search[a, b): the component decodes to itself. */
function plainRange(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25 || c === 0x2b || c > 0x7e) return false
  }
  return true
}

/** Parses the part of a request URL after `?` (or '' for none). */
export function parseQuery(search: string): Query {
  if (search === '') return EMPTY
  const q: Query = new Map()
  let a = 0
  while (a <= search.length) {
    let b = search.indexOf('&', a)
    if (b < 0) b = search.length
    if (b > a) {
      const eq = search.indexOf('=', a)
      const rawKey = eq < 0 || eq > b ? search.slice(a, b) : search.slice(a, eq)
      const rawValue = eq < 0 || eq > b ? '' : search.slice(eq + 1, b)
      const key = decode(rawKey)
      const value = decode(rawValue)
      if (key !== undefined && value !== undefined && !q.has(key)) q.set(key, value)
    }
    a = b + 1
  }
  return q
}

/**
 * The parameters `names` of the query string `url[from…]` (from: just after the `?`), without
 * building the whole Query: `out[i]` gets what `param(parseQuery(url.slice(from)), names[i])` would
 * return (the first pair whose key and value both decode wins; '' reads as absent). Pairs are found
 * with indexOf; a key is compared in place (one that is not a wanted name is decoded only when it
 * holds an escape or `+`), and only the values of wanted keys are sliced and decoded. The scan stops
 * once every name has its first pair.
 */
export function readParams(url: string, from: number, names: readonly string[], out: (string | undefined)[]): void {
  const n = names.length
  let left = n
  for (let i = 0; i < n; i++) out[i] = undefined
  let seen = 0 // bit i: names[i] has its first pair (possibly empty)
  const len = url.length
  let a = from
  while (a < len && left > 0) {
    let b = url.indexOf('&', a)
    if (b < 0) b = len
    if (b > a) {
      let eq = url.indexOf('=', a)
      if (eq < 0 || eq > b) eq = b
      let i = 0
      while (i < n && !sameAt(url, a, eq, names[i])) i++ // a plain key equal to a name
      if (i === n && !plainRange(url, a, eq)) {
        // a key with escapes may decode to a name
        const key = decode(url.slice(a, eq))
        i = 0
        while (i < n && key !== names[i]) i++
      }
      if (i < n && (seen & (1 << i)) === 0) {
        const value = eq === b ? '' : decode(url.slice(eq + 1, b))
        if (value !== undefined) {
          seen |= 1 << i
          left--
          out[i] = value === '' ? undefined : value
        }
      }
    }
    a = b + 1
  }
}

/** A parameter's value; '' (empty) reads as absent. */
export const param = (q: Query, name: string): string | undefined => {
  const v = q.get(name)
  return v === '' ? undefined : v
}

const UINT = /^[0-9]+$/
const INT = /^[+-]?[0-9]+$/
const UINT64_MAX = 18446744073709551615n
const INT64_MAX = 9223372036854775807n

/**
 * A base-10 unsigned 64-bit integer (no sign, leading zeros allowed), or undefined when absent.
 * Values past 2^53−1 (no seq can be that high) come back as Infinity.
 */
export function uintParam(q: Query, name: string, message: string): number | undefined {
  return uintValue(param(q, name), message)
}

/** uintParam over a value already read (undefined: absent). */
export function uintValue(v: string | undefined, message: string): number | undefined {
  if (v === undefined) return undefined
  if (!UINT.test(v)) throw badRequest(message)
  const n = Number(v)
  if (Number.isSafeInteger(n)) return n
  if (BigInt(v) > UINT64_MAX) throw badRequest(message)
  return Infinity
}

/** A signed 64-bit decimal integer (a leading `+` allowed), or undefined when absent; past 2^53−1 reads as Infinity. */
export function intParam(q: Query, name: string, message: string): number | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (!INT.test(v)) throw badRequest(message)
  const n = Number(v)
  if (Number.isSafeInteger(n)) return n === 0 ? 0 : n
  const big = BigInt(v)
  if (big > INT64_MAX || big < -INT64_MAX - 1n) throw badRequest(message)
  return n > 0 ? Infinity : -Infinity
}
