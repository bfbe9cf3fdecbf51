import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonBytesProblem, jsonDepthExceeds, jsonTextProblem, MAX_JSON_DEPTH, parseJsonInteger, simpleJson, trimJson } from '../src/json.js'

const RUNS = 2000

const NOT_JSON = "the 'payload' field must be a valid JSON value"
const BAD_UTF8 = "the 'payload' field must be valid UTF-8"
const TOO_DEEP = "the 'payload' field exceeds the maximum nesting depth of 10000"

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
const bytesProblem = (u8: Uint8Array): string | null => jsonBytesProblem(u8, 0, u8.length)
const parses = (s: string): boolean => {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

/** Checks text and its UTF-8 bytes alike (only for well-formed text). */
function both(s: string): string | null {
  const t = jsonTextProblem(s)
  expect(bytesProblem(bytes(s)), `bytes of ${JSON.stringify(s)}`).toBe(t)
  return t
}

const VALID = [
  '0', '-0', '1', '-1', '123', '0.5', '-0.5', '1e5', '1E5', '1e+5', '1e-5', '1.5e10', '-0e0', '0.0e-0', 'true', 'false', 'null', '""', '"abc"', '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u0041\\uFFFF\\uabcd"',
  '"\\ud800"', '"\\udc00\\ud800"', '"é中😀"', '"\u0085\u2028\u007f\u0080"', '[]', '{}', '[ ]', '{ }', '[1]',
  '[1,2,3]', '[[],[[]],{}]', '{"a":1}', '{"a":1,"b":[true,false,null],"c":{"d":"e"}}', '{"":""}',
  '{"a":1,"a":2}', ' 1', '1 ', ' \t\n\r[ 1 , 2 ]\r\n\t ', '{ "a" : 1 , "b" : 2 }', '[0,-0,1.0e-1]',
]

const INVALID = [
  '', ' ', '\t\n\r ', '01', '-', '+1', '1.', '.5', '1e', '1e+', '-a', '00', '-01', '0x10', 'NaN', 'Infinity',
  '1 2', 'tru', 'truee', 'True', 'nul', 'nulll', 'f', 'falsey', '"', '"abc', 'abc"', "'a'", '"\\"', '"\\x"',
  '"\\u12"', '"\\u12g4"', '"\\U0041"', '"a\tb"', '"a\nb"', '"\x00"', '"\x1f"', '[', ']', '[1', '[1,]', '[,1]',
  '[1 2]', '[1,,2]', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '{,"a":1}', '{a:1}', '{1:1}', '{"a" 1}',
  '{"a":1 "b":2}', '[}', '{]', '[1]]', '{}}', '[]{}', '"a""b"', '\f1', '1\f', '\u00a01', '1\u00a0', '\ufeff1',
  '\v1', '[1]x', '/* */1', '1//', '[1\u00a0]', 'é', '"a"é', '[é]',
]

describe('jsonTextProblem / jsonBytesProblem', () => {
  it('accepts single JSON values with surrounding JSON whitespace', () => {
    for (const s of VALID) {
      expect(parses(s), s).toBe(true) // the table itself is right
      expect(both(s), s).toBeNull()
    }
  })

  it('rejects everything else as not a JSON value', () => {
    for (const s of INVALID) {
      expect(parses(s), JSON.stringify(s)).toBe(false)
      expect(both(s), JSON.stringify(s)).toBe(NOT_JSON)
    }
  })

  it('rejects lone surrogates anywhere in text, accepts escaped ones', () => {
    for (const s of ['"\ud800"', '"\ud800a"', '"a\ud83dbc"', '"\ud800\ud800\udc00"', '"a\udc00"', '"\ud83d"', '"\ude00\ud83d"', '\ud800', '[1,\ud800]', '{"\udfff":1}', '1 \ud800', '"a"\ud800']) {
      expect(jsonTextProblem(s), escape(s)).toBe(BAD_UTF8)
    }
    expect(jsonTextProblem('"\ud83d\ude00"')).toBeNull()
    expect(jsonTextProblem('"\\ud800"')).toBeNull()
    expect(jsonTextProblem('{"\\udfff":"\\ud83d"}')).toBeNull()
  })

  it('prefers the UTF-8 reason over syntax and depth', () => {
    expect(jsonTextProblem('[1,,"\ud800"]')).toBe(BAD_UTF8)
    expect(jsonTextProblem('x\ud800')).toBe(BAD_UTF8)
    expect(jsonTextProblem('['.repeat(10_001) + '\ud800')).toBe(BAD_UTF8)
    expect(bytesProblem(Uint8Array.from([0x5b, 0x2c, 0x22, 0xff, 0x22, 0x5d]))).toBe(BAD_UTF8)
    expect(bytesProblem(Uint8Array.from([0x78, 0xc3, 0xa9]))).toBe(NOT_JSON) // valid UTF-8, not JSON
    expect(bytesProblem(Uint8Array.from([0xff]))).toBe(BAD_UTF8)
    expect(bytesProblem(new Uint8Array([...bytes('['.repeat(10_001)), 0xc0, 0x80]))).toBe(BAD_UTF8)
  })

  it('caps nesting at 10 000 arrays/objects', () => {
    expect(MAX_JSON_DEPTH).toBe(10_000)
    const arrays = (d: number) => '['.repeat(d) + ']'.repeat(d)
    const objects = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1)
    const mixed = (d: number) => '[{"k":'.repeat(d / 2) + '0' + '}]'.repeat(d / 2)
    expect(both(arrays(10_000))).toBeNull()
    expect(both(arrays(10_001))).toBe(TOO_DEEP)
    expect(both(objects(10_000))).toBeNull()
    expect(both(objects(10_001))).toBe(TOO_DEEP)
    expect(both(mixed(10_000))).toBeNull()
    expect(both(mixed(10_002))).toBe(TOO_DEEP)
    expect(both(' ' + arrays(10_000) + ' ')).toBeNull()
    // Depth is the number of open containers at once, not the total.
    expect(both('[' + arrays(9_999) + ',' + arrays(9_999) + ']')).toBeNull()
    expect(both('[' + arrays(9_999) + ',' + arrays(10_000) + ']')).toBe(TOO_DEEP)
    expect(both('[[1]]')).toBeNull()
    // The first problem met wins between syntax and depth.
    expect(both('['.repeat(10_001))).toBe(TOO_DEEP)
    expect(both('['.repeat(10_001) + '}')).toBe(TOO_DEEP)
    expect(both('[1,]' + '['.repeat(10_001))).toBe(NOT_JSON)
    expect(both('[' + ','.repeat(1) + '['.repeat(10_001))).toBe(NOT_JSON)
    // The shared container stack is left clean after a failure.
    expect(both(arrays(5) + '}')).toBe(NOT_JSON)
    expect(both('[{}]')).toBeNull()
  })

  it('rejects invalid UTF-8 in bytes', () => {
    const inString = (...b: number[]) => Uint8Array.from([0x22, ...b, 0x22])
    const bad: number[][] = [
      [0x80], [0xbf], [0x61, 0x80, 0x61], // stray continuation bytes
      [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], // overlong
      [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xed, 0xb0, 0x80], // encoded surrogates
      [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf7, 0xbf, 0xbf, 0xbf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe], // beyond U+10FFFF
      [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3, 0x41], [0xe2, 0x41, 0x82], [0xf0, 0x9f, 0x41, 0x80], // truncated
    ]
    for (const b of bad) {
      expect(bytesProblem(inString(...b)), hex(b)).toBe(BAD_UTF8)
      expect(bytesProblem(Uint8Array.from(b)), hex(b)).toBe(BAD_UTF8) // outside a string too
    }
    const good: number[][] = [
      [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xef, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf3, 0xbf, 0xbf, 0xbf], [0xef, 0xbb, 0xbf],
    ]
    for (const b of good) expect(bytesProblem(inString(...b)), hex(b)).toBeNull()
  })

  it('reads only [start, end)', () => {
    const u8 = bytes('xx[1,"é"]yy')
    expect(jsonBytesProblem(u8, 2, u8.length - 2)).toBeNull()
    expect(jsonBytesProblem(u8, 2, u8.length - 3)).toBe(NOT_JSON)
    expect(jsonBytesProblem(u8, 0, u8.length)).toBe(NOT_JSON)
    expect(jsonBytesProblem(u8, 3, 4)).toBeNull() // "1"
    expect(jsonBytesProblem(u8, 3, 3)).toBe(NOT_JSON)
    // A sequence cut off by `end` is invalid even though the byte after it would complete it.
    const cut = bytes('"é"')
    expect(jsonBytesProblem(cut, 0, 2)).toBe(BAD_UTF8)
    // Literals, numbers and strings may not run past `end`: each suffix would spoil the value if read.
    const cases: [string, string][] = [['true', 'x'], ['false', 'e'], ['null', 'l'], ['12', '.'], ['-0', '1'], ['1.5', 'e'], ['1e5', '.'], ['"\\u0041"', '"'], ['[1]', ']']]
    for (const [s, suffix] of cases) {
      const b = bytes(s + suffix)
      expect(parses(s + suffix), s + suffix).toBe(false)
      expect(jsonBytesProblem(b, 0, s.length), s).toBeNull()
      expect(jsonBytesProblem(b, 0, s.length - 1), s).toBe(parses(s.slice(0, -1)) ? null : NOT_JSON)
    }
  })

  it('works on a SharedArrayBuffer view', () => {
    const sab = new SharedArrayBuffer(64)
    const view = new Uint8Array(sab, 8, 32)
    const text = bytes(' {"a":["é",1]} ')
    view.set(text, 4)
    expect(jsonBytesProblem(view, 4, 4 + text.length)).toBeNull()
    view[4 + 8] = 0xff // the lead byte of é
    expect(jsonBytesProblem(view, 4, 4 + text.length)).toBe(BAD_UTF8)
  })

  // Strings that are close to JSON: fc.json() output, the same with random edits, and noise
  // over an alphabet of JSON punctuation, literals' letters and non-JSON whitespace.
  const noiseChar = fc.constantFrom(
    ...'{}[]",:0123456789-+.eEtrufalsn\\/u \t\n\rabcf'.split(''), '\f', '\v', '\u00a0', '\ufeff', '\x00', '\x1f', 'é', '😀',
  )
  const noise = fc.array(noiseChar, { maxLength: 24 }).map((a) => a.join(''))
  const edit = fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), noiseChar)
  const mutated = fc.tuple(fc.json({ maxDepth: 4 }), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
    for (const [at, op, c] of edits) {
      const k = s.length === 0 ? 0 : at % (s.length + 1)
      if (op === 'insert') s = s.slice(0, k) + c + s.slice(k)
      else if (op === 'delete') s = s.slice(0, k) + s.slice(k + 1)
      else s = s.slice(0, k) + c + s.slice(k + 1)
    }
    return s
  })
  const spacedJson = fc.tuple(fc.constantFrom('', ' ', '\n\t', '\r\n '), fc.json({ maxDepth: 5 }), fc.constantFrom('', ' ', '\t\r\n'))
    .map(([a, s, b]) => a + s + b)
  const jsonish = fc.oneof(fc.json({ maxDepth: 5 }), spacedJson, mutated, mutated, noise, fc.string({ unit: 'binary-ascii', maxLength: 16 }))
    .filter((s) => s.isWellFormed())

  it('accepts exactly what JSON.parse accepts (well-formed, shallow text)', () => {
    let accepted = 0
    fc.assert(
      fc.property(jsonish, (s) => {
        const ok = parses(s)
        if (ok) accepted++
        expect(jsonTextProblem(s)).toBe(ok ? null : NOT_JSON)
      }),
      { numRuns: RUNS },
    )
    expect(accepted).toBeGreaterThan(RUNS / 10) // both sides of the property were exercised
    expect(accepted).toBeLessThan(RUNS - RUNS / 10)
  })

  it('takes the fast path only for valid JSON, and for shallow JSON.stringify output', () => {
    let fast = 0
    const shallow = fc.tuple(fc.constantFrom('', ' ', '\r\n\t'), fc.json({ maxDepth: 2 }), fc.constantFrom('', ' \n')).map(([a, s, b]) => a + s + b)
    fc.assert(
      fc.property(fc.oneof(jsonish, shallow), (s) => {
        if (!simpleJson(s)) return
        fast++
        expect(parses(s), JSON.stringify(s)).toBe(true)
      }),
      { numRuns: RUNS },
    )
    expect(fast).toBeGreaterThan(RUNS / 4)
    for (const s of VALID) if (!/[\ud800-\udfff]/.test(s) && s !== '[[],[[]],{}]') expect(simpleJson(s), s).toBe(true)
    for (const s of INVALID) expect(simpleJson(s), JSON.stringify(s)).toBe(false)
    // a surrogate pair, escaped or not, and deeper nesting go to the scanner
    for (const s of ['"😀"', '[[[1]]]', '{"a":[1,{"b":2}]}']) expect(simpleJson(s), s).toBe(false)
    // long texts go to the scanner (the regex's backtrack stack would overflow on megabytes)
    const long = `{"a":"${'x'.repeat(10_000_000)}","b":[${'1,'.repeat(100_000)}1]}`
    expect(simpleJson(long)).toBe(false)
    expect(jsonTextProblem(long)).toBeNull()
    expect(jsonTextProblem(long.slice(0, -1))).toBe(NOT_JSON)
    for (const s of ['{"a":[1,2],"b":{"c":"d"}}', '[{"a":"\\u00e9\\n"},[true,null,-1.5e-3]]', '{"user":"u1","text":"é中"}']) expect(simpleJson(s), s).toBe(true)
  })

  it('says UTF-8 for any text with a lone surrogate, else agrees with JSON.parse', () => {
    const surrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00')
    const withLone = fc.tuple(jsonish, fc.array(fc.tuple(fc.nat(), surrogate), { minLength: 1, maxLength: 2 })).map(([s, ins]) => {
      for (const [at, c] of ins) {
        const k = at % (s.length + 1)
        s = s.slice(0, k) + c + s.slice(k)
      }
      return s
    })
    let lone = 0
    fc.assert(
      fc.property(fc.oneof(jsonish, withLone), (s) => {
        const wellFormed = s.isWellFormed()
        if (!wellFormed) lone++
        expect(jsonTextProblem(s)).toBe(!wellFormed ? BAD_UTF8 : parses(s) ? null : NOT_JSON)
      }),
      { numRuns: RUNS },
    )
    expect(lone).toBeGreaterThan(RUNS / 10)
  })

  it('gives the same answer on the UTF-8 bytes, wherever they sit in the buffer', () => {
    fc.assert(
      fc.property(jsonish, fc.nat(4), fc.nat(4), (s, pre, post) => {
        const b = bytes(s)
        const u8 = new Uint8Array(pre + b.length + post).fill(0x5b) // '[' around, outside the range
        u8.set(b, pre)
        expect(jsonBytesProblem(u8, pre, pre + b.length)).toBe(jsonTextProblem(s))
      }),
      { numRuns: RUNS },
    )
  })

  it('rejects quoted bytes exactly when a fatal TextDecoder throws', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true })
    const plain = fc.integer({ min: 0x20, max: 0xff }).filter((b) => b !== 0x22 && b !== 0x5c).map((b) => [b])
    const edgy = fc.constantFrom(0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff).map((b) => [b])
    const encoded = fc.integer({ min: 0x80, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => [...Buffer.from(String.fromCodePoint(c))])
    const lead = fc.tuple(fc.constantFrom(0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4), fc.array(fc.integer({ min: 0x70, max: 0xc0 }), { maxLength: 3 }))
      .map(([l, rest]) => [l, ...rest.filter((b) => b !== 0x5c)])
    const chunks = fc.array(fc.oneof(plain, edgy, encoded, encoded, lead), { maxLength: 12 })
    let rejected = 0
    fc.assert(
      fc.property(chunks, (cs) => {
        const body = cs.flat()
        const u8 = Uint8Array.from([0x22, ...body, 0x22])
        let throws = false
        try {
          decoder.decode(u8)
        } catch {
          throws = true
        }
        if (throws) rejected++
        expect(bytesProblem(u8)).toBe(throws ? BAD_UTF8 : null)
      }),
      { numRuns: RUNS },
    )
    expect(rejected).toBeGreaterThan(RUNS / 10)
    expect(rejected).toBeLessThan(RUNS - RUNS / 10)
  })
})

describe('trimJson', () => {
  it('drops only JSON whitespace at either end', () => {
    expect(trimJson('')).toEqual([0, 0])
    expect(trimJson('   ')).toEqual([3, 3])
    expect(trimJson('1')).toEqual([0, 1])
    expect(trimJson(' \t\r\n[ 1 ]\n\r\t ')).toEqual([4, 9])
    expect(trimJson('\f1\f')).toEqual([0, 3])
    expect(trimJson('\u00a01\u00a0')).toEqual([0, 3])
    expect(trimJson('\ufeff1 ')).toEqual([0, 2])
  })
})

describe('jsonDepthExceeds', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonDepthExceeds('1', 0)).toBe(false)
    expect(jsonDepthExceeds('[]', 0)).toBe(true)
    expect(jsonDepthExceeds('[]', 1)).toBe(false)
    expect(jsonDepthExceeds('[[1]]', 1)).toBe(true)
    expect(jsonDepthExceeds('[[1]]', 2)).toBe(false)
    expect(jsonDepthExceeds('[[],[],{}]', 2)).toBe(false)
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 3)).toBe(true)
    expect(jsonDepthExceeds('"[[[["', 0)).toBe(false)
    expect(jsonDepthExceeds('["\\"[[", "]"]', 1)).toBe(false)
    expect(jsonDepthExceeds('["\\\\", ["x"]]', 1)).toBe(true)
    expect(jsonDepthExceeds('["\\\\\\"[", 1]', 1)).toBe(false)
    expect(jsonDepthExceeds('{"[":"{"}', 1)).toBe(false)
  })

  it('matches the validator at the 10 000 cap', () => {
    // (JSON.stringify of a value this deep overflows the stack under vitest, hence the cap.)
    const text = '[{"a":'.repeat(5_000) + '"]}[{"' + '}]'.repeat(5_000)
    expect(jsonTextProblem(text)).toBeNull()
    expect(jsonDepthExceeds(text, MAX_JSON_DEPTH)).toBe(false)
    expect(jsonDepthExceeds('[' + text + ']', MAX_JSON_DEPTH)).toBe(true)
  })

  // Nested arrays and objects whose leaves are strings full of brackets, quotes and backslashes.
  const leafString = fc.array(fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ' ', '\n', 'é'), { maxLength: 6 }).map((a) => a.join(''))
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 8 },
      leafString,
      fc.integer(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(leafString, tie('value'), { maxKeys: 3 }),
    ),
  }))

  it('agrees with the value depth and with the validator on JSON.stringify output', () => {
    fc.assert(
      fc.property(value, fc.nat(8), (v, max) => {
        const text = JSON.stringify(v)
        const exceeds = jsonDepthExceeds(text, max)
        expect(exceeds).toBe(depthOf(v) > max)
        // Wrapped in MAX - max arrays, the text is too deep for the validator exactly when it nests deeper than max.
        const pad = MAX_JSON_DEPTH - max
        const wrapped = '['.repeat(pad) + text + ']'.repeat(pad)
        expect(jsonTextProblem(wrapped)).toBe(exceeds ? TOO_DEEP : null)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('parseJsonInteger', () => {
  it('parses integers in the safe range', () => {
    expect(parseJsonInteger('0')).toBe(0)
    expect(Object.is(parseJsonInteger('-0'), 0)).toBe(true)
    expect(parseJsonInteger('7')).toBe(7)
    expect(parseJsonInteger('-42')).toBe(-42)
    expect(parseJsonInteger('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseJsonInteger('-9007199254740991')).toBe(-Number.MAX_SAFE_INTEGER)
  })

  it('refuses everything else', () => {
    for (const s of [
      '', '-', '+1', '01', '-01', '00', '1.0', '1e3', '1E3', '0.5', ' 1', '1 ', '0x1', '1_000', 'Infinity', 'NaN',
      '9007199254740992', '-9007199254740992', '9007199254740993', '10000000000000000', '99999999999999999999', '"1"', '--1', '١',
    ]) {
      expect(parseJsonInteger(s), s).toBeUndefined()
    }
  })

  it('agrees with a regex + Number.isSafeInteger reference', () => {
    const reference = (s: string): number | undefined => {
      if (!/^-?(0|[1-9][0-9]*)$/.test(s)) return undefined
      const v = Number(s)
      return Number.isSafeInteger(v) ? v + 0 : undefined
    }
    const near = fc.bigInt({ min: -(2n ** 53n) - 5n, max: 2n ** 53n + 5n }).map(String)
    const edge = fc.integer({ min: -5, max: 5 }).map((d) => String(2n ** 53n - 1n + BigInt(d)))
    const digits = fc.array(fc.constantFrom(...'-+0123456789.eE x'.split('')), { maxLength: 20 }).map((a) => a.join(''))
    const arb = fc.oneof(fc.integer().map(String), fc.maxSafeInteger().map(String), near, edge, edge.map((s) => '-' + s), digits, fc.double().map(String))
    fc.assert(
      fc.property(arb, (s) => {
        expect(Object.is(parseJsonInteger(s), reference(s)), s).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0
  const children = Array.isArray(v) ? v : Object.values(v)
  let max = 0
  for (const c of children) max = Math.max(max, depthOf(c))
  return 1 + max
}

function escape(s: string): string {
  return [...s].map((c) => 'U+' + c.codePointAt(0)!.toString(16).padStart(4, '0')).join(' ')
}

function hex(b: number[]): string {
  return b.map((x) => x.toString(16).padStart(2, '0')).join(' ')
}
