/**
 * `@scopecache/core/scanner`, the byte scanner the HTTP body parser runs on, and `scannedJson`,
 * the path by which a payload that scan has checked reaches the store as bytes without a second
 * scan (a public `rawJson` of the same bytes is still checked).
 */
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rawJson } from '../src/index.js'
import { jsonBytesProblem } from '../src/json.js'
import { JSON_SYNTAX, JSON_TOO_DEEP, jsonStringEnd, jsonValueEnd, jsonWs, MAX_JSON_DEPTH, scannedJson } from '../src/scanner.js'
import { codeOf, storesClosedAfterEach } from './helpers.js'

const make = storesClosedAfterEach()
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')

describe('jsonValueEnd', () => {
  it('returns the index after the value and looks at nothing after it', () => {
    const u8 = bytes('xx{"a":[1,"é",true]} ,yy')
    expect(jsonValueEnd(u8, 2, u8.length, 0, true)).toBe(u8.indexOf(' ,yy'))
    expect(jsonValueEnd(u8, 2, u8.indexOf(' ,yy') - 1, 0, true)).toBe(JSON_SYNTAX) // cut before its last byte
    expect(jsonValueEnd(u8, 1, u8.length, 0, true)).toBe(JSON_SYNTAX) // starts at `x`
    expect(jsonValueEnd(u8, 2, u8.length, 0, true)).toBe(u8.indexOf(' ,yy')) // the shared stack is clean after a failure
    const one = bytes('12, ')
    expect(jsonValueEnd(one, 0, one.length, 0, true)).toBe(2)
    expect(jsonWs(one, 3, one.length)).toBe(4)
    const str = bytes('"a\\"b" ')
    expect(jsonStringEnd(str, 0, str.length, true)).toBe(6)
    expect(jsonStringEnd(str, 0, 5, true)).toBe(JSON_SYNTAX)
  })

  it('counts the enclosing containers (`level`) against the depth cap', () => {
    const nest = (d: number): Buffer => bytes('['.repeat(d) + ']'.repeat(d))
    expect(jsonValueEnd(nest(10), 0, 20, MAX_JSON_DEPTH - 10, true)).toBe(20)
    expect(jsonValueEnd(nest(10), 0, 20, MAX_JSON_DEPTH - 9, true)).toBe(JSON_TOO_DEEP)
    expect(jsonValueEnd(bytes('1'), 0, 1, MAX_JSON_DEPTH, true)).toBe(1) // a scalar opens no container
  })

  it('checks UTF-8 inside strings only when asked', () => {
    const bad = Buffer.from([0x5b, 0x22, 0xff, 0xc3, 0x22, 0x5d]) // ["\xff\xc3"]
    expect(jsonValueEnd(bad, 0, bad.length, 0, true)).toBe(JSON_SYNTAX)
    expect(jsonValueEnd(bad, 0, bad.length, 0, false)).toBe(bad.length)
    expect(jsonValueEnd(Buffer.from([0xff]), 0, 1, 0, false)).toBe(JSON_SYNTAX) // outside a string it is never JSON
  })

  it('agrees with jsonBytesProblem on generated values, with and without the UTF-8 check', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string(), fc.uint8Array({ maxLength: 24 })), (v) => {
      const u8 = typeof v === 'string' ? bytes(v) : Buffer.from(v)
      const a = jsonWs(u8, 0, u8.length)
      const end = jsonValueEnd(u8, a, u8.length, 0, true)
      const whole = end >= 0 && jsonWs(u8, end, u8.length) === u8.length
      expect(whole).toBe(jsonBytesProblem(u8, 0, u8.length) === null)
      // without the check, a value is the same value wherever its bytes are UTF-8
      if (whole) expect(jsonValueEnd(u8, a, u8.length, 0, false)).toBe(end)
    }), { numRuns: 2000 })
  })
})

describe('scannedJson', () => {
  it('reaches the store as the bytes given, not scanned again; rawJson of the same bytes is checked', () => {
    const c = make()
    // Bytes no scan would pass: stored as they are, which shows the store did not scan them. (The HTTP
    // parser hands on only payloads its scan passed; this only proves the store trusts the marker.)
    const unscanned = bytes('[1,2')
    c.append('s', scannedJson(unscanned), { id: 'a' })
    expect(c.getRaw('s', { id: 'a' })).toBe('[1,2')
    expect(codeOf(() => c.append('s', rawJson(unscanned), { id: 'b' }))).toBe('invalid_input')
    expect(codeOf(() => c.append('s', rawJson(new Uint8Array(unscanned)), { id: 'b' }))).toBe('invalid_input')
    // a real payload: the bytes of a view, byte-exact, upsert and update too
    const body = bytes('{"payload":{"k":["é",1.5e3]}}')
    const view = body.subarray(11, body.length - 1)
    c.upsert('s', 'c', scannedJson(view))
    expect(c.getRaw('s', { id: 'c' })).toBe('{"k":["é",1.5e3]}')
    expect(c.update('s', { id: 'c' }, scannedJson(bytes('"x"')))).toBe(1)
    expect(c.get('s', { id: 'c' })?.payload).toBe('x')
    expect(c.warm([{ scope: 'w', id: 'x', payload: scannedJson(view) }])).toBeTruthy()
    expect(c.getRaw('w', { id: 'x' })).toBe('{"k":["é",1.5e3]}')
    // `null` is still "required"
    expect(codeOf(() => c.append('s', scannedJson(bytes('null'))))).toBe('invalid_input')
  })
})
