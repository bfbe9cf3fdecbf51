/**
 * Wire parity with ScopeCache v0.8.32 (issue 16): where a request breaks several rules, the answer
 * is the reference's first error (validation.go, buffer_write.go and bulk.go at v0.8.32), with its
 * status and exact message. One test per case of the issue, against `startTarget()` (the handler;
 * the CLI over TCP and over a Unix socket through the -cli and -socket wrappers).
 */
import type { IncomingMessage } from 'node:http'
import net from 'node:net'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startTarget, type Target } from './helpers/http-target.js'
import { expectError, rawPost } from './helpers/http-expect.js'
import { invariants } from './helpers/store-checks.js'
import { readBody } from '../packages/http/src/body.js'
import { parseBody } from '../packages/http/src/json-body.js'
import { SPEC, writeFields } from '../packages/http/src/write-fields.js'

const P = 'scopecache: invalid input: '
const VALID_JSON = 'the request body must contain valid JSON'

let t: Target
let n = 0
const fresh = (tag = 'w'): string => `${tag}-${++n}`
const post = (path: string, body: string | Uint8Array) => t.request('POST', path, body)
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))

beforeAll(async () => {
  t = await startTarget({ cache: { maxStoreBytes: 8 * 1024 * 1024, scopeMaxItems: 3 } })
})
afterAll(async () => {
  invariants(t)
  await t.close()
})

describe('1. single-item writes: types, scope, address, payload, seq, ts', () => {
  it('a wrong JSON type comes before every rule', async () => {
    for (const [path, body] of [
      ['/append', '{"scope":" x","seq":"1","payload":1.}'], ['/upsert', '{"scope":"","id":5}'], ['/update', '{"scope":" x","ts":1.5}'],
      ['/delete', '{"id":"a","seq":-1}'], ['/delete_up_to', '{"scope":" x","max_seq":"1"}'], ['/append', '{"scope":"s","ts":9223372036854775808,"payload":1}'],
    ]) await expectError(await post(path, body), 400, VALID_JSON)
    // fields the endpoint does not read are not decoded: /delete has no ts, /append no max_seq
    expect((await post('/delete', '{"scope":"s","id":"a","ts":"x"}')).status).toBe(200)
    expect((await post('/append', `{"scope":"${fresh()}","payload":1,"max_seq":"x","keep":[1]}`)).status).toBe(200)
  })

  it('the scope before the address, the payload and the managed fields', async () => {
    await expectError(await post('/update', '{"scope":"x ","id":"","payload":1}'), 400, P + "the 'scope' field must not have leading or trailing whitespace")
    await expectError(await post('/upsert', `{"scope":"${'s'.repeat(257)}","payload":1}`), 400, P + "the 'scope' field must not exceed 256 bytes")
    await expectError(await post('/append', '{"scope":"a\\u0001","seq":3}'), 400, P + "the 'scope' field must not contain control characters")
    await expectError(await post('/delete', '{"scope":" x"}'), 400, P + "the 'scope' field must not have leading or trailing whitespace")
    await expectError(await post('/delete_up_to', '{"scope":" x"}'), 400, P + "the 'scope' field must not have leading or trailing whitespace")
    await expectError(await post('/delete_scope', '{"scope":" x"}'), 400, P + "the 'scope' field must not have leading or trailing whitespace")
    await expectError(await post('/upsert', '{"seq":5,"id":"k","payload":1}'), 400, P + "the 'scope' field is required for the '/upsert' endpoint")
  })

  it('then the address (presence, then the id shape), then the payload, then seq, then ts', async () => {
    const s = fresh()
    // /append: the id's shape, then payload, then seq and ts
    await expectError(await post('/append', `{"seq":5,"scope":"${s}","id":""}`), 400, P + "the 'payload' field is required")
    await expectError(await post('/append', `{"scope":"${s}","id":" i","seq":5}`), 400, P + "the 'id' field must not have leading or trailing whitespace")
    await expectError(await post('/append', `{"scope":"${s}","seq":5,"ts":5,"payload":1}`), 400, P + "the 'seq' field is managed by the cache and must not be provided to the '/append' endpoint")
    await expectError(await post('/append', `{"scope":"${s}","ts":5,"payload":null}`), 400, P + "the 'payload' field is required")
    // /upsert: the id required before the payload and seq
    await expectError(await post('/upsert', `{"seq":5,"scope":"${s}","id":""}`), 400, P + "the 'id' field is required for the '/upsert' endpoint")
    await expectError(await post('/upsert', `{"seq":5,"scope":"${s}","id":"k"}`), 400, P + "the 'payload' field is required")
    await expectError(await post('/upsert', `{"ts":5,"seq":5,"scope":"${s}","id":"k","payload":1}`), 400, /'seq' field is managed.*'\/upsert'/)
    // /update and /delete: exactly one of id / seq before the id's shape
    await expectError(await post('/update', `{"scope":"${s}","id":" i","seq":2,"payload":1}`), 400, P + "exactly one of 'id' or 'seq' must be provided for the '/update' endpoint")
    await expectError(await post('/update', `{"scope":"${s}","id":" i"}`), 400, P + "the 'id' field must not have leading or trailing whitespace")
    await expectError(await post('/update', `{"scope":"${s}","seq":1,"ts":3}`), 400, P + "the 'payload' field is required")
    await expectError(await post('/update', `{"scope":"${s}","seq":1,"ts":3,"payload":1}`), 400, P + "the 'ts' field is managed by the cache and must not be provided to the '/update' endpoint")
    await expectError(await post('/delete', `{"scope":"${s}","id":" i","seq":2}`), 400, P + "exactly one of 'id' or 'seq' must be provided for the '/delete' endpoint")
    await expectError(await post('/delete_up_to', `{"scope":"${s}","max_seq":0}`), 400, P + "the 'max_seq' field is required and must be a positive integer for the '/delete_up_to' endpoint")
    expect(json(await t.request('GET', `/stats`)).items).toBeGreaterThanOrEqual(0)
    expect((await t.request('GET', `/head?scope=${s}`)).bodyText).toMatch(/"count":0/)
  })
})

describe('2. capacity before duplicates', () => {
  it('/append of an existing id into a full scope: 507 with its scopes detail', async () => {
    const s = fresh()
    for (const id of ['a', 'b', 'c']) expect((await post('/append', `{"scope":"${s}","id":"${id}","payload":1}`)).status).toBe(200)
    const r = await post('/append', `{"scope":"${s}","id":"a","payload":2}`)
    expect(r.status).toBe(507)
    expect(r.bodyText).toBe(`{"ok":false,"error":"scope is at capacity","scopes":[{"scope":"${s}","count":3,"cap":3}]}\n`)
    await post('/delete', `{"scope":"${s}","id":"c"}`)
    await expectError(await post('/append', `{"scope":"${s}","id":"a","payload":2}`), 409, "an item with this 'id' already exists in the scope")
  })

  it('/warm and /rebuild: a scope over its cap with a duplicate id is 507; a duplicate in another scope still comes first', async () => {
    const s = fresh()
    const over = [1, 2, 3, 4].map((i) => `{"scope":"${s}","id":"${i === 2 ? 1 : i}","payload":${i}}`)
    for (const path of ['/warm', '/rebuild']) {
      const r = await post(path, `{"items":[${over.join(',')}]}`)
      expect(r.status, r.bodyText).toBe(507)
      expect(r.bodyText).toBe(`{"ok":false,"error":"scope is at capacity","scopes":[{"scope":"${s}","count":4,"cap":3}]}\n`)
      await expectError(await post(path, `{"items":[${over.join(',')},{"scope":"d","id":"k","payload":1},{"scope":"d","id":"k","payload":1}]}`), 400,
        P + "scope 'd': duplicate 'id' value within scope: 'k'")
    }
  })
})

describe('3. bulk wording', () => {
  it("the item index counts within the item's own scope", async () => {
    const a = fresh()
    const b = fresh()
    await expectError(await post('/warm', `{"items":[{"scope":"${a}","payload":1},{"scope":"${b}","payload":1},{"scope":"${a}","payload":2},{"scope":"${b}","id":"x\\u0001","payload":1}]}`), 400,
      `scope '${b}', item at index 1: ${P}the 'id' field must not contain control characters`)
    await expectError(await post('/rebuild', `{"items":[{"scope":"${a}","payload":1},{"scope":"${b}","payload":1},{"scope":"${b}","seq":9,"payload":1}]}`), 400,
      `scope '${b}', item at index 1: ${P}the 'seq' field is managed by the cache and must not be provided to the '/rebuild' endpoint`)
    // item rules in order: id, payload, seq, ts
    await expectError(await post('/warm', `{"items":[{"scope":"${a}","ts":1,"seq":1}]}`), 400, `scope '${a}', item at index 0: ${P}the 'payload' field is required`)
    await expectError(await post('/warm', `{"items":[{"scope":"${a}","ts":1,"payload":1}]}`), 400, `scope '${a}', item at index 0: ${P}the 'ts' field is managed by the cache and must not be provided to the '/warm' endpoint`)
  })

  it('an invalid scope name is the bare rule', async () => {
    const a = fresh()
    for (const [scope, rule] of [['s'.repeat(257), "the 'scope' field must not exceed 256 bytes"], [' x', "the 'scope' field must not have leading or trailing whitespace"],
      ['', "the 'scope' field is required for the '/warm' endpoint"]]) {
      await expectError(await post('/warm', `{"items":[{"scope":"${a}","payload":1},{"scope":"${scope}","payload":1}]}`), 400, P + rule)
    }
    await expectError(await post('/rebuild', '{"items":[{"payload":1}]}'), 400, P + "the 'scope' field is required for the '/rebuild' endpoint")
  })
})

describe('4. a payload that is not valid JSON', () => {
  const BAD = ['1.', '-', '01', '[1,]', '"\\x"', '"\\u12"', '"a\tb"', '{"a":}', '1e+', '[1}]']

  it('is "the payload field must be a valid JSON value", in its turn', async () => {
    const s = fresh()
    for (const p of BAD) {
      await expectError(await post('/append', `{"scope":"${s}","payload":${p}}`), 400, P + "the 'payload' field must be a valid JSON value")
      await expectError(await post('/append', `{"scope":"${s}","payload":${p},"seq":4}`), 400, P + "the 'payload' field must be a valid JSON value")
      await expectError(await post('/upsert', `{"scope":"${s}","id":"k","payload":${p}}`), 400, P + "the 'payload' field must be a valid JSON value")
      await expectError(await post('/update', `{"payload":${p},"scope":"${s}","seq":1}`), 400, P + "the 'payload' field must be a valid JSON value")
      await expectError(await post('/warm', `{"items":[{"scope":"${s}","payload":${p}}]}`), 400, `scope '${s}', item at index 0: ${P}the 'payload' field must be a valid JSON value`)
      // an earlier field's rule first
      await expectError(await post('/append', `{"scope":" ${s}","payload":${p}}`), 400, P + "the 'scope' field must not have leading or trailing whitespace")
      await expectError(await post('/upsert', `{"scope":"${s}","payload":${p}}`), 400, P + "the 'id' field is required for the '/upsert' endpoint")
    }
    expect((await t.request('GET', `/head?scope=${s}`)).bodyText).toMatch(/"count":0/)
  })

  it('a body that cannot be delimited is still "valid JSON" (and so is invalid JSON anywhere else)', async () => {
    for (const body of ['{"scope":"s","payload":[1,}', '{"scope":"s","payload":"a}', '{"scope":"s","payload":nul}', '{"scope":"s","payload":1 2}', '{"scope":"s","payload":1,"x":01}'])
      await expectError(await post('/append', body), 400, VALID_JSON)
  })
})

describe('5. seq and max_seq above 2^53−1', () => {
  it('are unsigned 64-bit values: beyond every stored seq', async () => {
    const s = fresh()
    for (let i = 0; i < 3; i++) await post('/append', `{"scope":"${s}","id":"k${i}","payload":${i}}`)
    for (const seq of ['9007199254740992', '9007199254740993', '18446744073709551615']) {
      expect((await post('/update', `{"scope":"${s}","seq":${seq},"payload":1}`)).bodyText).toBe('{"ok":true,"created":false,"count":0}\n')
      expect((await post('/delete', `{"scope":"${s}","seq":${seq}}`)).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
      await expectError(await post('/append', `{"scope":"${s}","seq":${seq},"payload":1}`), 400, P + "the 'seq' field is managed by the cache and must not be provided to the '/append' endpoint")
    }
    await expectError(await post('/append', `{"scope":"${s}","ts":4611686018427387904,"payload":1}`), 400, P + "the 'ts' field is managed by the cache and must not be provided to the '/append' endpoint")
    for (const seq of ['18446744073709551616', '-1', '1e3', '1.0']) await expectError(await post('/delete', `{"scope":"${s}","seq":${seq}}`), 400, VALID_JSON)
    expect((await post('/delete_up_to', `{"scope":"${s}","max_seq":18446744073709551615}`)).bodyText).toBe('{"ok":true,"hit":true,"count":3}\n')
    expect((await post('/trim', `{"scope":"${s}","max_seq":18446744073709551615}`)).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
    // the scope's seq counter is untouched: the next item continues it
    expect(json(await post('/append', `{"scope":"${s}","payload":1}`)).item.seq).toBe(4)
  })
})

describe('6. invalid UTF-8', () => {
  it('is ignored in fields the endpoint does not read', async () => {
    const s = fresh()
    expect((await post('/append', bytes(`{"scope":"${s}","x":"`, [0xff, 0xc3], `","payload":1}`))).status).toBe(200)
    expect((await post('/append', bytes(`{"scope":"${s}","`, [0xff], `":{"y":"`, [0xed, 0xa0, 0x80], `"},"payload":2}`))).status).toBe(200)
    expect((await post('/warm', bytes(`{"junk":"`, [0xc0, 0x80], `","items":[{"scope":"${s}","note":"`, [0xfe], `","payload":3}]}`))).bodyText).toBe('{"ok":true,"scopes":1}\n')
    expect((await t.request('GET', `/get?scope=${s}&seq=3`)).bodyText).toBe('3')
  })

  it("in a payload: the reference's message, after the payload's JSON and before seq", async () => {
    const s = fresh()
    const msg = P + "the 'payload' field must be valid UTF-8"
    await expectError(await post('/append', bytes(`{"scope":"${s}","seq":2,"payload":"`, [0xff], '"}')), 400, msg)
    await expectError(await post('/update', bytes(`{"scope":"${s}","id":"a","payload":{"k":"`, [0xe2, 0x82], '"}}')), 400, msg)
    await expectError(await post('/warm', bytes(`{"items":[{"scope":"${s}","payload":["`, [0x80], '"]}]}')), 400, `scope '${s}', item at index 0: ${msg}`)
    await expectError(await post('/append', bytes(`{"scope":"${s}","payload":["`, [0x80], '",]}')), 400, P + "the 'payload' field must be a valid JSON value")
    await expectError(await post('/append', bytes(`{"scope":" ${s}","payload":"`, [0xff], '"}')), 400, P + "the 'scope' field must not have leading or trailing whitespace")
  })

  it('in scope or id: refused (a departure), after the shape rules the reference applies to its U+FFFD', async () => {
    const s = fresh()
    await expectError(await post('/append', bytes('{"scope":"a', [0xc3], '","payload":1}')), 400, P + "the 'scope' field must be valid UTF-8")
    await expectError(await post('/append', bytes(`{"scope":"${s}","id":"`, [0xff], '","payload":1}')), 400, P + "the 'id' field must be valid UTF-8")
    await expectError(await post('/warm', bytes('{"items":[{"scope":"', [0xff], '","payload":1}]}')), 400, P + "the 'scope' field must be valid UTF-8")
    await expectError(await post('/append', bytes('{"scope":"', 'x'.repeat(255), [0xff], '","payload":1}')), 400, P + "the 'scope' field must not exceed 256 bytes")
    await expectError(await post('/append', bytes('{"scope":"a', [0xff], ' ","payload":1}')), 400, P + "the 'scope' field must not have leading or trailing whitespace")
    await expectError(await post('/delete', bytes('{"scope":"a', [0xff], '","id":"b"}')), 400, P + "the 'scope' field must be valid UTF-8")
  })
})

describe('7. /wipe and /flush ignore a body', () => {
  it('whatever it holds and however long it is', async () => {
    const local = await startTarget()
    try {
      await local.request('POST', '/append', '{"scope":"f","payload":1}')
      const r = await local.request('POST', '/wipe', 'x'.repeat(2048))
      expect(r.bodyText).toMatch(/^\{"ok":true,"scopes":1,"items":1,"freed_mb":\d+\.\d{4}\}\n$/)
      expect((await local.request('POST', '/flush', bytes([0xff, 0x7b], 'not json'))).bodyText).toBe('{"ok":true,"scopes":0,"items":0,"freed_mb":0.0000}\n')
      // the connection stays usable after a small ignored body
      expect((await local.request('GET', '/stats')).status).toBe(200)
      // a large one: the answer leaves, the rest is drained and dropped, the connection closes
      await local.request('POST', '/append', '{"scope":"f","payload":1}')
      const big = await rawPost(local, '/flush', '{'.repeat(2 * 1024 * 1024))
      expect(big.status).toBe(200)
      expect(JSON.parse(big.bodyText)).toMatchObject({ ok: true, scopes: 1, items: 1 })
      expect(big.headers['connection']).toBe('close')
      expect(json(await local.request('GET', '/stats')).items).toBe(0)
      invariants(local)
    } finally {
      await local.close()
    }
  })
})

describe('a multi-byte character across a 4 KiB read boundary', () => {
  /**
   * Bodies in which a 2-, 3- or 4-byte character of the scope, the id or the payload straddles byte
   * 4096 at each of its inner offsets (the reference's decoder reads 4096 bytes at a time and turns
   * such a character into two U+FFFD; a departure: ours stores it intact).
   */
  function straddling(): { body: Buffer; at: number; ch: string; scope: string; id: string; payload: string }[] {
    const out: { body: Buffer; at: number; ch: string; scope: string; id: string; payload: string }[] = []
    for (const ch of ['é', '€', '𝄞']) {
      const w = Buffer.byteLength(ch)
      for (const marker of ['"scope":"x', '"id":"', '"payload":"']) {
        for (let j = 1; j < w; j++) {
          const scope = `x${ch}${fresh('b')}`
          const id = `${ch}i`
          const payload = `"${ch}p"`
          const tail = `","scope":"${scope}","id":"${id}","payload":${payload}}`
          const off = Buffer.byteLength(tail.slice(0, tail.indexOf(marker) + marker.length))
          const at = 4096 - j // where the character starts: byte 4096 is inside it, j bytes in
          const body = Buffer.from(`{"pad":"${'.'.repeat(at - off - '{"pad":"'.length)}${tail}`)
          out.push({ body, at, ch, scope, id, payload })
        }
      }
    }
    return out
  }

  /** POSTs /upsert with the body written `size` bytes at a time (no Nagle: each write its own segment). */
  function upsertInChunks(body: Buffer, size: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = 'socketPath' in t.endpoint ? net.connect(t.endpoint.socketPath) : net.connect(t.endpoint.port, t.endpoint.host)
      socket.setNoDelay(true)
      const chunks: Buffer[] = []
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.on('error', reject)
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
      socket.write(`POST /upsert HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`)
      for (let at = 0; at < body.length; at += size) socket.write(body.subarray(at, at + size))
    })
  }

  it('is stored intact, whatever the chunks the body arrives in', async () => {
    const bodies = straddling()
    expect(bodies.length).toBe(18)
    for (const b of bodies) expect(b.body.subarray(b.at, b.at + Buffer.byteLength(b.ch)).toString()).toBe(b.ch)
    const t0 = performance.now()
    for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 4095, 4096, 4097]) {
      for (const b of bodies) {
        const answer = await upsertInChunks(b.body, size)
        expect(answer.split('\r\n')[0], answer).toBe('HTTP/1.1 200 OK')
        const item = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).item
        expect([item.scope, item.id], `chunks of ${size}`).toEqual([b.scope, b.id])
      }
    }
    for (const b of bodies) {
      const r = await t.request('GET', `/get?scope=${encodeURIComponent(b.scope)}&id=${encodeURIComponent(b.id)}&envelope=true`)
      expect(json(r).item).toMatchObject({ scope: b.scope, id: b.id, seq: 1, payload: JSON.parse(b.payload) })
      expect(r.bodyText).toContain(`"payload":${b.payload}`)
    }
    expect(performance.now() - t0).toBeLessThan(10_000)
  })

  // the reader and parser the handler runs, fed in-process: every chunk size, which a socket cannot promise to deliver as sent
  it.skipIf(process.env['SCOPECACHE_TEST_TARGET'] !== undefined)('every chunk size from 1 byte to 4 KiB + 1 reads the same fields (in-process)', async () => {
    const t0 = performance.now()
    for (const b of straddling()) {
      for (let size = 1; size <= 4097; size++) {
        const req = new PassThrough() as PassThrough & IncomingMessage
        ;(req as { headers: Record<string, string> }).headers = {}
        const got = new Promise<Uint8Array>((resolve, reject) => readBody(req, 1 << 20, resolve, reject))
        for (let at = 0; at < b.body.length; at += size) req.write(b.body.subarray(at, at + size))
        req.end()
        const f = writeFields(parseBody(await got), '/upsert', SPEC.upsert)
        const payload = Buffer.from((f.payload as { json: Uint8Array }).json).toString('utf8') // the body's bytes, handed on as bytes
        if (f.scope !== b.scope || (f.ref as { id: string }).id !== b.id || payload !== b.payload) {
          expect([f.scope, f.ref, payload], `chunks of ${size}`).toEqual([b.scope, { id: b.id }, b.payload])
        }
      }
    }
    expect(performance.now() - t0).toBeLessThan(10_000)
  })
})

describe('seen in the reference and deliberately not copied (packages/http/README.md)', () => {
  it('invalid JSON it accepts is 400 here; paths it cleans or decodes are 404', async () => {
    for (const path of ['/warm', '/rebuild']) await expectError(await post(path, 'null'), 400, VALID_JSON)
    await expectError(await post('/append', '{"scope":"s","payload":1,"note":"a\u0001b"}'), 400, VALID_JSON)
    await expectError(await post('/append', '{"scope":"s","payload":+1}'), 400, VALID_JSON)
    await expectError(await post('/delete', '{"scope":"s","seq":99999999999999999999}'), 400, VALID_JSON)
    for (const path of ['//stats', '/./stats', '/get/../stats', '/%73tats']) await expectError(await t.request('GET', path), 404, 'the requested endpoint does not exist')
  })
})
