/**
 * A write's payload travels from the request body to the store as the body's own bytes, scanned
 * once: the body scan (the core's `jsonValueEnd`, counted here through a wrapper of the
 * `@scopecache/core/scanner` entry) is the only one that reads it, the field rules read no more,
 * and what the store receives is a view of the body (no string, so no bytes → string → bytes)
 * marked scanned, which the store takes without a scan of its own (core test/scanner.test.ts).
 */
import { Buffer } from 'node:buffer'
import { ScopeCache, type RawJson } from '@scopecache/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { bulkItems } from '../src/bulk.js'
import { parseBody } from '../src/json-body.js'
import { SPEC, writeFields } from '../src/write-fields.js'

const scans = vi.hoisted(() => [] as number[]) // the start index of every jsonValueEnd call

vi.mock('@scopecache/core/scanner', async (importOriginal) => {
  const m = await importOriginal<typeof import('@scopecache/core/scanner')>()
  return {
    ...m,
    jsonValueEnd: (u8: Uint8Array, i: number, n: number, level: number, utf8: boolean): number => {
      scans.push(i)
      return m.jsonValueEnd(u8, i, n, level, utf8)
    },
  }
})

const caches: ScopeCache[] = []
afterEach(() => {
  for (const c of caches.splice(0)) c.close()
  scans.length = 0
})

/** The payload as the store was handed it: a view of `body` at [start, end). */
function expectViewOf(payload: RawJson | undefined, body: Buffer, start: number, end: number): void {
  const json = (payload as RawJson).json
  expect(typeof json).not.toBe('string')
  const view = json as Uint8Array
  expect(view.buffer).toBe(body.buffer)
  expect([view.byteOffset, view.length]).toEqual([body.byteOffset + start, end - start])
}

describe('a payload from the body to the store', () => {
  const PAYLOAD = '{"k":[1,2,{"x":"é"}],"n":-1.5e3}'

  for (const [path, spec, body] of [
    ['/append', SPEC.append, `{"scope":"s","id":"a","payload":${PAYLOAD}}`],
    ['/upsert', SPEC.upsert, `{"payload":${PAYLOAD},"scope":"s","id":"a","ttl_ms":null}`],
    ['/update', SPEC.update, `{ "scope" : "s" , "id" : "a" , "payload" : ${PAYLOAD} }`],
  ] as const) {
    it(`${path}: scanned once by the body scan, handed on as a view of the body`, () => {
      const b = Buffer.from(body)
      const start = b.indexOf(PAYLOAD)
      const o = parseBody(b)
      expect(scans.filter((i) => i === start)).toHaveLength(1)
      const before = scans.length
      const f = writeFields(o, path, spec)
      expect(scans.length).toBe(before) // the field rules scan nothing
      expectViewOf(f.payload, b, start, start + Buffer.byteLength(PAYLOAD))
      const c = ScopeCache.create({ maxStoreBytes: 1 << 20 })
      caches.push(c)
      if (path === '/update') c.upsert('s', 'a', 0)
      const write = { '/append': () => c.append('s', f.payload as RawJson, { id: 'a' }), '/upsert': () => c.upsert('s', 'a', f.payload as RawJson), '/update': () => c.update('s', { id: 'a' }, f.payload as RawJson) }
      write[path]()
      expect(c.getRaw('s', { id: 'a' })).toBe(PAYLOAD)
    })
  }

  it('the store does not scan what the body scan passed', () => {
    const b = Buffer.from(`{"scope":"s","payload":${PAYLOAD}}`)
    const f = writeFields(parseBody(b), '/append', SPEC.append)
    // Spoil the payload's last byte after the body scan: a store that scanned it again would refuse it.
    b[b.indexOf(PAYLOAD) + Buffer.byteLength(PAYLOAD) - 1] = 0x2c
    const c = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    caches.push(c)
    const { seq } = c.append('s', f.payload as RawJson)
    expect(c.getRaw('s', { seq })).toBe(PAYLOAD.slice(0, -1) + ',')
  })

  it('/warm: each item\'s payload a view of the body, no string', () => {
    const payloads = ['1', '"é"', PAYLOAD, `[${'7,'.repeat(40)}7]`] // short and long alike
    const b = Buffer.from(`{"items":[${payloads.map((p, i) => `{"scope":"w","id":"i${i}","payload":${p}}`).join(',')}]}`)
    const items = bulkItems(parseBody(b), '/warm', 1 << 16)
    let from = 0
    items.forEach((it, i) => {
      const start = b.indexOf(`"payload":${payloads[i]}`, from) + 10
      from = start
      expectViewOf(it.payload as RawJson, b, start, start + Buffer.byteLength(payloads[i]))
    })
    const c = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    caches.push(c)
    c.warm(items)
    payloads.forEach((p, i) => expect(c.getRaw('w', { id: `i${i}` })).toBe(p))
  })
})
