import { PassThrough } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBody, readBody } from '../src/body.js'
import { HttpError } from '../src/errors.js'
import { getInt, getObjects, getRaw, getString, getUint, has, Kind, parseBody, spanUtf8, type JsonObject, type Span } from '../src/json-body.js'
import { intParam, INVALID_UTF8, param, parseQuery, readParams, uintParam } from '../src/query.js'
import { keyProblem } from '../src/keys.js'
import { intText, mb, quote } from '../src/wire.js'

/** A fake request: a stream with headers. */
function fakeReq(headers: Record<string, string> = {}): PassThrough & IncomingMessage {
  const s = new PassThrough() as PassThrough & IncomingMessage
  ;(s as { headers: Record<string, string> }).headers = headers
  return s
}

function read(req: IncomingMessage, cap: number): Promise<{ body?: Uint8Array; error?: HttpError }> {
  return new Promise((resolve) => readBody(req, cap, (body) => resolve({ body }), (error) => resolve({ error })))
}

const errorOf = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    return (e as Error).message
  }
  return 'no error'
}

describe('readBody', () => {
  it('collects chunks up to the cap', async () => {
    const req = fakeReq()
    const p = read(req, 10)
    req.write('hello ')
    req.end('worl')
    expect(Buffer.from((await p).body as Uint8Array).toString()).toBe('hello worl')
  })

  it('refuses at cap + 1 while streaming, and drops what it had', async () => {
    const req = fakeReq()
    const p = read(req, 10)
    req.write('123456')
    req.write('78901')
    const r = await p
    expect(r.error?.status).toBe(413)
    expect(r.error?.code).toBe('body_too_large')
    expect(r.error?.message).toBe('the request body exceeds the maximum allowed size of 10 bytes')
    req.end('more data that is discarded')
  })

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const req = fakeReq({ 'content-length': '11' })
    const r = await read(req, 10)
    expect(r.error?.status).toBe(413)
  })

  it('never answers when the body does not complete', async () => {
    const req = fakeReq()
    let answered = false
    readBody(req, 100, () => (answered = true), () => (answered = true))
    req.write('{"scope":"s","payload":1}')
    req.destroy(new Error('ECONNRESET'))
    await new Promise((r) => setTimeout(r, 10))
    expect(answered).toBe(false)
  })

  it('an empty body is empty bytes', async () => {
    const req = fakeReq()
    const p = read(req, 10)
    req.end()
    expect((await p).body?.length).toBe(0)
  })
})

describe('decodeBody', () => {
  it('rejects invalid UTF-8 (no silent U+FFFD) and keeps a BOM', () => {
    expect(decodeBody(Buffer.from('héllo'))).toBe('héllo')
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
      expect(errorOf(() => decodeBody(Buffer.from(bad)))).toBe('the request body must be valid UTF-8')
    }
    expect(decodeBody(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])).charCodeAt(0)).toBe(0xfeff)
  })
})

describe('parseBody', () => {
  it('records exact value slices of top-level members', () => {
    const text = '{ "scope" : "s" , "payload" :  { "a" : [1 ,2] } , "n": -12 }'
    const o = parseBody(text)
    expect(getString(o, 'scope')).toBe('s')
    expect(getRaw(o, 'payload')).toBe('{ "a" : [1 ,2] }')
    expect(getInt(o, 'n')).toBe(-12)
    expect(has(o, 'missing')).toBe(false)
  })

  it('decodes escaped keys and strings; the last duplicate wins; null is absent', () => {
    const o = parseBody('{"sc\\u006fpe":"a\\"b","id":"x","id":"y","seq":null}')
    expect(getString(o, 'scope')).toBe('a"b')
    expect(getString(o, 'id')).toBe('y')
    expect(getUint(o, 'seq')).toBeUndefined()
    expect(has(o, 'seq')).toBe(false)
  })

  it("integers: no fraction/exponent, unsigned refuses a sign, Go's uint64/int64 ranges", () => {
    const o = parseBody('{"a":1.5,"b":1e2,"c":-1,"d":9007199254740991,"e":9007199254740993,"f":"1","g":-0,' +
      '"u":18446744073709551615,"u1":18446744073709551616,"i":9223372036854775807,"i1":9223372036854775808,"n":-9223372036854775808,"n1":-9223372036854775809}')
    for (const k of ['a', 'b', 'f', 'i1', 'n1']) expect(errorOf(() => getInt(o, k)), k).toBe('the request body must contain valid JSON')
    for (const k of ['c', 'u1', 'n']) expect(errorOf(() => getUint(o, k)), k).toBe('the request body must contain valid JSON')
    expect(getInt(o, 'c')).toBe(-1)
    expect(getUint(o, 'd')).toBe(9007199254740991)
    // above 2^53−1: a number above every safe integer (no seq is one)
    for (const k of ['e', 'u', 'i']) expect(getUint(o, k) as number > Number.MAX_SAFE_INTEGER, k).toBe(true)
    expect(getInt(o, 'n') as number < -Number.MAX_SAFE_INTEGER).toBe(true)
    expect(Object.is(getInt(o, 'g'), 0)).toBe(true)
  })

  it('a payload member is delimited as Go delimits a raw value, and marked Bad when it is not JSON', () => {
    const bad = ['1.', '-', '01', '1.5.5', '1e', '[1,]', '{"a":}', '"\\x"', '"\\u12"', '"a\tb"', '[1}]', '{"a":[}']
    for (const p of bad) {
      for (const text of [`{"payload":${p},"scope":"s"}`, `{"items":[{"payload":${p},"scope":"s"}]}`]) {
        const o = parseBody(text)
        const span = text.startsWith('{"items"') ? (getObjects(o, 'items') as JsonObject[])[0].members.get('payload') : o.members.get('payload')
        expect(span?.kind, text).toBe(Kind.Bad)
        expect(text.slice(span?.start, span?.end), text).toBe(p.replace(/\\\\/g, '\\'))
        expect(getString(text.startsWith('{"items"') ? (getObjects(o, 'items') as JsonObject[])[0] : o, 'scope')).toBe('s')
      }
    }
    // elsewhere the grammar is strict, and a payload still needs a start and an end
    for (const text of ['{"x":01,"payload":1}', '{"x":{"payload":01}}', '{"x":[{"y":{"payload":01}}]}', '{"payload":x}', '{"payload":nul}', '{"payload":[1,', '{"payload":"a}', '{"payload":1 2}'])
      expect(errorOf(() => parseBody(text)), text).toBe('the request body must contain valid JSON')
    for (const text of ['{"payload":{"payload":01}}', '{"payload":[{"payload":01}]}']) expect(parseBody(text).members.get('payload')?.kind, text).toBe(Kind.Bad)
    expect(errorOf(() => parseBody(`{"payload":${'['.repeat(10_000)}1,${']'.repeat(10_000)}}`))).toBe('the request body must contain valid JSON')
  })

  it('invalid UTF-8 is not refused by the parse: spanUtf8 tells the values that hold it', () => {
    const text = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff]), Buffer.from('","\u0073cope":"a'), Buffer.from([0xc3]), Buffer.from('","id":"é"}')])
    const o = parseBody(text)
    expect(o.utf8).toBe(false)
    const at = (k: string): boolean => spanUtf8(o, (o.members.get(k) as Span).start, (o.members.get(k) as Span).end)
    expect([at('x'), at('scope'), at('id')]).toEqual([false, false, true])
    expect(getString(o, 'scope')).toBe('a\ufffd')
    expect(parseBody('{"a":"é"}').utf8).toBe(true)
  })

  it('arrays of objects', () => {
    const o = parseBody('{"items":[ {"scope":"a","payload":1} , {"scope":"b","payload":[ 2 ]} ],"x":[]}')
    const items = getObjects(o, 'items') as ReturnType<typeof parseBody>[]
    expect(items.map((i) => [getString(i, 'scope'), getRaw(i, 'payload')])).toEqual([['a', '1'], ['b', '[ 2 ]']])
    expect(getObjects(o, 'x')).toEqual([])
    expect(errorOf(() => getObjects(parseBody('{"items":[1]}'), 'items'))).toBe('the request body must contain valid JSON')
    expect(errorOf(() => getObjects(parseBody('{"items":{}}'), 'items'))).toBe('the request body must contain valid JSON')
  })

  it('refuses everything that is not exactly one JSON object', () => {
    const invalid = ['', ' ', '[]', '"s"', '1', 'null', '{', '{"a"}', '{"a":}', '{"a":1,}', '{,}', '{"a":1 "b":2}', "{'a':1}", '{"a":01}',
      '{"a":1.}', '{"a":.5}', '{"a":-}', '{"a":1e}', '{"a":tru}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\t"}', '{"a":[1,]}', '{"a":NaN}',
      '\ufeff{}']
    for (const text of invalid) expect(errorOf(() => parseBody(text)), text).toBe('the request body must contain valid JSON')
    expect(errorOf(() => parseBody('{} {}'))).toBe('the request body must contain exactly one JSON value')
    expect(errorOf(() => parseBody('{} 1'))).toBe('the request body must contain exactly one JSON value')
    // garbage after the object is Go's second Decode failing too: "exactly one", not "valid JSON"
    for (const text of ['{"a":1}}', '{} x', '{},', '{} [', '{}\u0000']) expect(errorOf(() => parseBody(text)), text).toBe('the request body must contain exactly one JSON value')
    expect(() => parseBody(' \r\n\t{} \n')).not.toThrow()
  })

  it('nesting: 10 000 levels in all, deeper is refused', () => {
    const nest = (d: number): string => '['.repeat(d) + ']'.repeat(d)
    expect(() => parseBody(`{"p":${nest(9_999)}}`)).not.toThrow()
    expect(errorOf(() => parseBody(`{"p":${nest(10_000)}}`))).toBe('the request body must contain valid JSON')
    expect(errorOf(() => parseBody('{"p":' + '['.repeat(1_000_000)))).toBe('the request body must contain valid JSON')
  })

  it('agrees with JSON.parse on which objects are valid (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: 'binary', maxLength: 30 }), fc.json().map((j) => j.slice(0, -1))), (text) => {
        let expected: boolean
        try {
          const v = JSON.parse(text)
          expected = v !== null && typeof v === 'object' && !Array.isArray(v) && text.trimStart().charCodeAt(0) === 0x7b
        } catch {
          expected = false
        }
        // JSON.parse also trims U+FEFF-free ECMAScript whitespace; JSON's is only space, tab, CR, LF
        if (/^[\s]*$/.test(text) || /[^\S \t\r\n]/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, ''))) return
        let got: boolean
        try {
          parseBody(text)
          got = true
        } catch {
          got = false
        }
        expect(got, text).toBe(expected)
      }),
      { seed: 42, numRuns: 1000 },
    )
  })

  it('member values round-trip through JSON.parse unchanged (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue()), (obj) => {
        const text = JSON.stringify(obj, null, 1)
        const o = parseBody(text)
        for (const [k, v] of Object.entries(obj)) {
          const raw = getRaw(o, k)
          if (v === null) expect(raw).toBeUndefined()
          else expect(JSON.parse(raw as string)).toEqual(v)
        }
      }),
      { seed: 7, numRuns: 500 },
    )
  })
})

describe('query', () => {
  it('form decoding, first wins, empty is absent, malformed escapes dropped, bad UTF-8 flagged', () => {
    const q = parseQuery('a=1&a=2&b=&c=x+y%20z&d=%zz&e=%C3%A9&f=%FF&g&=v')
    expect(q.get('a')).toBe('1')
    expect(q.get('b')).toBe('')
    expect(q.get('c')).toBe('x y z')
    expect(q.has('d')).toBe(false)
    expect(q.get('e')).toBe('é')
    expect(q.get('f')).toBe(INVALID_UTF8)
    expect(q.get('g')).toBe('')
    expect(parseQuery('').size).toBe(0)
  })

  it('a leading U+FEFF (%EF%BB%BF) is part of the value, not a BOM to strip', () => {
    const q = parseQuery('scope=%EF%BB%BFx&id=%EF%BB%BF%EF%BB%BFy&p=%EF%BB%BF')
    expect(q.get('scope')).toBe('\ufeffx')
    expect(q.get('id')).toBe('\ufeff\ufeffy')
    expect(q.get('p')).toBe('\ufeff')
  })

  it('readParams reads what parseQuery + param read, for the names asked only', () => {
    const names = ['scope', 'id', 'seq', 'envelope']
    const same = (search: string): void => {
      const q = parseQuery(search)
      const out: (string | undefined)[] = []
      readParams('/get?' + search, 5, names, out)
      expect(out, search).toEqual(names.map((n) => param(q, n)))
    }
    for (const s of ['', '&&', 'scope=a&id=b', 'id=&id=x&scope=%zz&scope=s', 'sc%6Fpe=x&scope=y', 'scope+=x&scope=y', 'id=%FF&id=b',
      'scope=%EF%BB%BFx&id=a+b%20c', '%73eq=5&seq=6', 'envelope', 'envelope=1&envelope=0', '=v&scope', 'scope=a=b&id', 'idx=1&id=2&i=3']) same(s)
    const part = fc.oneof(fc.constantFrom('scope', 'id', 'seq', 'envelope', 'sc%6Fpe', 'i%64', '%zz', '+', '%', '%FF', '%EF%BB%BF', '=', 'x', '1', 'é'))
    const pair = fc.array(part, { maxLength: 4 }).map((a) => a.join(''))
    fc.assert(fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => same(pairs.join('&'))), { seed: 11, numRuns: 3000 })
  })

  it('unsigned and signed integers as Go parses them', () => {
    const m = 'bad'
    const q = parseQuery('a=007&b=-1&c=%2B5&d=18446744073709551615&e=18446744073709551616&f=1.0&g=9223372036854775808&h=+5')
    expect(uintParam(q, 'a', m)).toBe(7)
    expect(errorOf(() => uintParam(q, 'b', m))).toBe(m)
    expect(errorOf(() => uintParam(q, 'c', m))).toBe(m)
    expect(uintParam(q, 'd', m)).toBe(Infinity)
    expect(errorOf(() => uintParam(q, 'e', m))).toBe(m)
    expect(errorOf(() => uintParam(q, 'f', m))).toBe(m)
    expect(intParam(q, 'b', m)).toBe(-1)
    expect(intParam(q, 'c', m)).toBe(5)
    expect(errorOf(() => intParam(q, 'g', m))).toBe(m)
    expect(errorOf(() => intParam(q, 'h', m))).toBe(m) // '+' is a space
    expect(uintParam(q, 'zz', m)).toBeUndefined()
  })
})

describe('keys and wire', () => {
  it('key rules match the reference', () => {
    expect(keyProblem('ok', 'scope')).toBeNull()
    expect(keyProblem('a\u0085', 'id')).toBe("the 'id' field must not have leading or trailing whitespace")
    expect(keyProblem('\ufeffa', 'id')).toBeNull()
    expect(keyProblem('a\u0085b', 'id')).toBeNull()
    expect(keyProblem('\u{1f600}'.repeat(64), 'scope')).toBeNull()
    expect(keyProblem('\u{1f600}'.repeat(64) + 'x', 'scope')).toBe("the 'scope' field must not exceed 256 bytes")
    expect(keyProblem('a\udc00', 'after')).toBe("the 'after' field must be valid UTF-8")
  })

  it('intText is String() for every non-negative safe integer', () => {
    for (const n of [0, 1, 0x3fffffff, 0x40000000, 1e8, 1e15, 1796152339819793, 1000000000000001, Number.MAX_SAFE_INTEGER]) expect(intText(n)).toBe(String(n))
    fc.assert(fc.property(fc.maxSafeNat(), (n) => intText(n) === String(n)), { seed: 3, numRuns: 2000 })
    expect(intText(1796152339819793)).toBe('1796152339819793') // the memo
  })

  it('quote and mb', () => {
    expect(quote('plain é')).toBe('"plain é"')
    for (const s of ['a"b', 'a\\b', 'a\nb', '\u2028', '\u0000']) expect(JSON.parse(quote(s))).toBe(s)
    expect(mb(0)).toBe('0.0000')
    expect(mb(100 * 1048576)).toBe('100.0000')
    expect(mb(1)).toBe('0.0000')
    expect(mb(1e-9)).toBe('0.0000')
    expect(mb(5.5 * 1048576)).toBe('5.5000')
  })
})
