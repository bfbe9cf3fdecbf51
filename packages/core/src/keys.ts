/**
 * Hashing and comparing keys (scope names, ids) straight from the JS string: no temporary
 * buffers on the read path. Hashing charCodeAt costs ~24 ns for an 11-char key, encoding to
 * bytes first adds 30–50 ns, measured). The hash is seeded per store, so keys chosen to
 * collide on one store do not collide on another.
 */

/**
 * FNV-1a over UTF-16 code units, seeded, then murmur3's finaliser. Tables take the low bits as the
 * bucket, and FNV's low bits depend only on the low bits of the seed and of each unit, so without
 * the finaliser keys that differ only in high bits ('a' vs '\u8061') share a bucket for every seed
 * and can be crafted offline to flood one. The finaliser folds every bit into the low ones.
 */
export function hashKey(s: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  }
  return fmix(h)
}

/**
 * hashKey of a key stored as UTF-8 bytes [off, off+len), without building the string when it is
 * ASCII (byte = code unit); otherwise decoded first. What an id table rehash uses (id-table.ts).
 */
export function hashStoredKey(u8: Uint8Array, buf: { utf8Slice(a: number, b: number): string }, off: number, len: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < len; i++) {
    const c = u8[off + i]
    if (c >= 0x80) return hashKey(buf.utf8Slice(off, off + len), seed)
    h = Math.imul(h ^ c, 0x01000193)
  }
  return fmix(h)
}

/** murmur3's finaliser. */
function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** True when bytes [off, off+len) are the UTF-8 encoding of the well-formed string `s`. */
export function utf8Equals(u8: Uint8Array, off: number, len: number, s: string): boolean {
  const n = s.length
  if (len < n) return false
  let p = off
  const end = off + len
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      if (p >= end || u8[p] !== c) return false
      p += 1
    } else if (c < 0x800) {
      if (p + 2 > end || u8[p] !== (0xc0 | (c >> 6)) || u8[p + 1] !== (0x80 | (c & 63))) return false
      p += 2
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const cp = ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00) + 0x10000
      if (
        p + 4 > end ||
        u8[p] !== (0xf0 | (cp >> 18)) ||
        u8[p + 1] !== (0x80 | ((cp >> 12) & 63)) ||
        u8[p + 2] !== (0x80 | ((cp >> 6) & 63)) ||
        u8[p + 3] !== (0x80 | (cp & 63))
      ) return false
      p += 4
    } else {
      if (p + 3 > end || u8[p] !== (0xe0 | (c >> 12)) || u8[p + 1] !== (0x80 | ((c >> 6) & 63)) || u8[p + 2] !== (0x80 | (c & 63))) return false
      p += 3
    }
  }
  return p === end
}

/** Byte-wise comparison of two UTF-8 strings given as JS strings (UTF-8 order = code point order). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    // Code point order differs from UTF-16 order only when one side is a surrogate
    // (U+10000..) and the other is U+E000..U+FFFF: lift surrogates above the BMP.
    if (x >= 0xd800 && x <= 0xdfff) x += 0x2000
    else if (x >= 0xe000) x -= 0x800
    if (y >= 0xd800 && y <= 0xdfff) y += 0x2000
    else if (y >= 0xe000) y -= 0x800
    return x - y
  }
  return a.length - b.length
}

/**
 * True when bytes [off, off+len) are the UTF-8 of `s`. As many bytes as units means `s` must be
 * ASCII (any other unit takes 2–4 bytes): a plain loop; otherwise the general compare.
 */
export function idEquals(u8: Uint8Array, off: number, len: number, s: string): boolean {
  const n = s.length
  if (len !== n) return len > n && utf8Equals(u8, off, len, s)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80 || u8[off + i] !== c) return false
  }
  return true
}
