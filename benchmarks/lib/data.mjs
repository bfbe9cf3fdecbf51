// The data every suite reads: 50 000 ids `item:000123` (11 bytes), each with a JSON payload of
// exactly 100 bytes, and a pre-generated random lookup stream from a seeded PRNG (the same in
// every thread and run, so RNG cost stays out of the timed loops and peers read the same keys).
import { Buffer } from 'node:buffer'

export const N = 50_000
export const PAYLOAD_BYTES = 100
export const ID_LEN = 11
export const STREAM_LEN = 1 << 20
export const MASK = STREAM_LEN - 1

export const idOf = (i) => `item:${String(i).padStart(6, '0')}`

const ALPHA = 'abcdefghijklmnopqrstuvwxyz'.repeat(5)

/** {"user":"u123","text":"…"}: exactly PAYLOAD_BYTES bytes of JSON, distinct per i. */
export function payloadOf(i) {
  const user = `u${i}`
  const pad = PAYLOAD_BYTES - '{"user":"","text":""}'.length - user.length
  return { user, text: ALPHA.slice(i % 26, (i % 26) + pad) }
}

/** mulberry32: small, fast, seedable. */
export function mulberry32(seed) {
  let a = seed | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Indices 0 … n-1 in a seeded random order, STREAM_LEN of them. */
export function randomStream(n = N, seed = 0x5eed1234, len = STREAM_LEN) {
  const rnd = mulberry32(seed)
  const s = new Int32Array(len)
  for (let i = 0; i < len; i++) s[i] = Math.floor(rnd() * n)
  return s
}

/** The dataset: ids, payload objects and texts, the random stream, and fresh (never hashed) key strings. */
export function dataset(n = N, seed = 0x5eed1234) {
  const ids = Array.from({ length: n }, (_, i) => idOf(i))
  const payloads = ids.map((_, i) => payloadOf(i))
  const texts = payloads.map((p) => JSON.stringify(p))
  const idBytes = Buffer.from(ids.join(''), 'latin1')
  // A new string per call, as a request parser would produce: V8 caches a string's hash in the
  // string, so a reused key skips hashing that a real lookup pays.
  const freshKey = (k) => idBytes.latin1Slice(k * ID_LEN, k * ID_LEN + ID_LEN)
  return { n, ids, payloads, texts, freshKey, stream: randomStream(n, seed) }
}

/**
 * Keys as a request handler builds them: KEY_PREFIX + a number, concatenated per lookup, so every
 * lookup (of every peer alike) hashes a new string. ids[i] === KEY_PREFIX + i; payloads as above.
 */
export const KEY_PREFIX = 'item:'
export function prefixedSet(n, seed = 0x5eed1234) {
  const ids = Array.from({ length: n }, (_, i) => KEY_PREFIX + i)
  const payloads = ids.map((_, i) => payloadOf(i))
  return { n, ids, payloads, texts: payloads.map((p) => JSON.stringify(p)), stream: randomStream(n, seed) }
}
