import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidKey, keyProblem, MAX_KEY_BYTES, utf8Length, type KeyField } from '../src/validate.js'

const RUNS = 2000

const tooLong = (f: KeyField) => `the '${f}' field must not exceed 256 bytes`
const spaced = (f: KeyField) => `the '${f}' field must not have leading or trailing whitespace`
const control = (f: KeyField) => `the '${f}' field must not contain control characters`
const utf8 = (f: KeyField) => `the '${f}' field must be valid UTF-8`

// Go's unicode.IsSpace, written out as a character class.
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const EDGE_SPACE = new RegExp(`^${GO_SPACE}|${GO_SPACE}$`)
const CONTROL = /[\x00-\x1f\x7f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const encoder = new TextEncoder()

/** The rules written the obvious way, as the property tests' oracle. */
function referenceKeyProblem(s: string, f: KeyField): string | null {
  if (encoder.encode(s).length > 256) return tooLong(f)
  if (EDGE_SPACE.test(s)) return spaced(f)
  if (CONTROL.test(s)) return control(f)
  if (LONE_SURROGATE.test(s)) return utf8(f)
  return null
}

// Characters that sit on a rule's edge, plus arbitrary code units and code points.
const special = fc.constantFrom(
  'a', 'Z', '~', ':', '/', '"', '\\', ' ', '\t', '\n', '\v', '\f', '\r', '\x00', '\x1f', '\x7f', '\x80', '\x84',
  '\x85', '\x90', '\x9f', '\xa0', '\xa1', '\u1680', '\u2000', '\u200a', '\u200b', '\u2028', '\u2029', '\u202f',
  '\u205f', '\u3000', '\ufeff', '\u180e', 'é', 'ÿ', '߿', 'ࠀ', '中', '\uffff', '😀', '\u{10ffff}', '\ud800',
  '\udbff', '\udc00', '\udfff',
)
const unit = fc.oneof(
  { arbitrary: special, weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 1 },
)
const shortKey = fc.array(unit, { minLength: 1, maxLength: 12 }).map((a) => a.join(''))
// Keys whose byte length lands near 256: a run of one filler character plus a few random units.
const nearLimitKey = fc
  .tuple(
    fc.array(unit, { maxLength: 3 }),
    fc.constantFrom(['a', 1], ['é', 2], ['中', 3], ['😀', 4]) as fc.Arbitrary<[string, number]>,
    fc.integer({ min: -12, max: 6 }),
    fc.array(unit, { maxLength: 3 }),
  )
  .map(([pre, [fill, w], delta, post]) => pre.join('') + fill.repeat(Math.max(1, Math.floor(256 / w) + delta)) + post.join(''))
const anyKey = fc.oneof(shortKey, nearLimitKey)
const field = fc.constantFrom<KeyField>('scope', 'id', 'prefix', 'after')

describe('utf8Length', () => {
  it('counts UTF-8 bytes', () => {
    expect(utf8Length('')).toBe(0)
    expect(utf8Length('abc')).toBe(3)
    expect(utf8Length('\x7f\x80')).toBe(3)
    expect(utf8Length('߿ࠀ')).toBe(5)
    expect(utf8Length('\uffff')).toBe(3)
    expect(utf8Length('😀')).toBe(4)
    expect(utf8Length('a😀b')).toBe(6)
  })

  it('counts a lone surrogate as 3 bytes, like TextEncoder', () => {
    expect(utf8Length('\ud800')).toBe(3)
    expect(utf8Length('\udc00\ud800')).toBe(6)
    expect(utf8Length('\ud800a')).toBe(4)
    expect(utf8Length('a\ud83d')).toBe(4)
    expect(utf8Length('\ud83d\ud83d\ude00')).toBe(7)
  })

  it('equals Buffer.byteLength for well-formed strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), anyKey.filter((s) => s.isWellFormed())), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'))
      }),
      { numRuns: RUNS },
    )
  })

  it('equals the TextEncoder length for any string', () => {
    fc.assert(
      fc.property(anyKey, (s) => {
        expect(utf8Length(s)).toBe(encoder.encode(s).length)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('keyProblem', () => {
  it('accepts ordinary keys', () => {
    for (const s of ['a', 'user:42', 'a/b\\c"d', 'héllo wörld', '中文', '😀', 'a b', '\ufeffbom', 'bom\ufeff', 'x\u0090y', '\x80', '\x9f']) {
      expect(keyProblem(s, 'scope'), JSON.stringify(s)).toBeNull()
      expect(isValidKey(s)).toBe(true)
    }
    expect(MAX_KEY_BYTES).toBe(256)
  })

  it('allows exactly 256 bytes and rejects 257, counting multi-byte characters', () => {
    const cases: [string, boolean][] = [
      ['a'.repeat(256), true],
      ['a'.repeat(257), false],
      ['é'.repeat(128), true],
      ['é'.repeat(128) + 'a', false],
      ['a' + 'é'.repeat(127) + 'a', true],
      ['中'.repeat(85) + 'a', true],
      ['中'.repeat(85) + 'ab', false],
      ['中'.repeat(86), false],
      ['😀'.repeat(64), true],
      ['😀'.repeat(64) + 'a', false],
      ['a'.repeat(253) + '\ud800', true], // the lone surrogate counts 3 bytes, and is reported as UTF-8
    ]
    for (const [s, fits] of cases) {
      const p = keyProblem(s, 'id')
      if (fits) expect(p, `${utf8Length(s)} bytes`).not.toBe(tooLong('id'))
      else expect(p, `${utf8Length(s)} bytes`).toBe(tooLong('id'))
    }
    expect(keyProblem('é'.repeat(128), 'id')).toBeNull()
    expect(keyProblem('a'.repeat(253) + '\ud800', 'id')).toBe(utf8('id'))
    expect(keyProblem('a'.repeat(254) + '\ud800', 'id')).toBe(tooLong('id'))
  })

  it('rejects Go unicode.IsSpace at either end, not U+FEFF', () => {
    const spaces = ['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']
    for (const w of spaces) {
      expect(keyProblem(w + 'a', 'scope'), escape(w)).toBe(spaced('scope'))
      expect(keyProblem('a' + w, 'scope'), escape(w)).toBe(spaced('scope'))
      expect(keyProblem(w, 'scope'), escape(w)).toBe(spaced('scope'))
      expect(isValidKey('a' + w)).toBe(false)
    }
    // Not spaces in Go's sense: BOM, zero-width space, Mongolian vowel separator, NEL's neighbours.
    for (const c of ['\ufeff', '\u200b', '\u180e', '\u0084', '\u0086', '\u00a1', '\u2027', '\u202a']) {
      expect(keyProblem(c + 'a' + c, 'scope'), escape(c)).toBeNull()
    }
    // Inside the key, Unicode spaces are fine (ASCII ones other than space are control characters).
    expect(keyProblem('a\u0085\u00a0\u3000 b', 'scope')).toBeNull()
  })

  it('rejects C0 controls and DEL anywhere, allows C1 controls inside', () => {
    expect(keyProblem('a\tb', 'id')).toBe(control('id'))
    expect(keyProblem('a\x00b', 'id')).toBe(control('id'))
    expect(keyProblem('a\x1bb', 'id')).toBe(control('id'))
    expect(keyProblem('a\x1fb', 'id')).toBe(control('id'))
    expect(keyProblem('\x00', 'id')).toBe(control('id'))
    expect(keyProblem('a\x7f', 'id')).toBe(control('id'))
    expect(keyProblem('\x7fa', 'id')).toBe(control('id'))
    expect(keyProblem('a\x7fb', 'id')).toBe(control('id'))
    expect(keyProblem('a\u0090b', 'id')).toBeNull()
    expect(keyProblem('\u0080a\u009f', 'id')).toBeNull()
    expect(isValidKey('a\x7fb')).toBe(false)
    expect(isValidKey('a\u0090b')).toBe(true)
  })

  it('rejects lone surrogates, accepts pairs', () => {
    for (const s of ['\ud800', 'a\ud800', '\udc00a', 'a\udfffb', '\ude00\ud83d', 'a\ud83d\ud83d']) {
      expect(keyProblem(s, 'after'), escape(s)).toBe(utf8('after'))
      expect(isValidKey(s)).toBe(false)
    }
    for (const s of ['😀', 'a😀b', '\u{10000}', '\u{10ffff}', '𝄞x']) {
      expect(keyProblem(s, 'after'), escape(s)).toBeNull()
      expect(isValidKey(s)).toBe(true)
    }
  })

  it('reports in the order length, whitespace, control characters, UTF-8', () => {
    expect(keyProblem(' ' + '\x00'.repeat(300) + '\ud800', 'prefix')).toBe(tooLong('prefix'))
    expect(keyProblem(' a\x00\ud800', 'prefix')).toBe(spaced('prefix'))
    expect(keyProblem('\ud800a\x00 ', 'prefix')).toBe(spaced('prefix'))
    expect(keyProblem('\ud800a\x00', 'prefix')).toBe(control('prefix'))
    expect(keyProblem('a\ud800\x7f', 'prefix')).toBe(control('prefix'))
    expect(keyProblem('a\ud800', 'prefix')).toBe(utf8('prefix'))
  })

  it('names the field it was given', () => {
    for (const f of ['scope', 'id', 'prefix', 'after'] as const) expect(keyProblem('a'.repeat(300), f)).toBe(tooLong(f))
  })

  it('isValidKey rejects the empty string', () => {
    expect(isValidKey('')).toBe(false)
  })

  it('agrees with a reference implementation', () => {
    fc.assert(
      fc.property(anyKey, field, (s, f) => {
        const expected = referenceKeyProblem(s, f)
        expect(keyProblem(s, f)).toBe(expected)
        expect(isValidKey(s)).toBe(expected === null)
      }),
      { numRuns: RUNS },
    )
  })
})

function escape(s: string): string {
  return [...s].map((c) => 'U+' + c.codePointAt(0)!.toString(16).padStart(4, '0')).join(' ')
}
