/**
 * Black-box conformance of the HTTP API (the HTTP API of ScopeCache v0.8.32 as the root README describes it): every endpoint and
 * alias, every error class and status, exact bytes wherever the shape is fixed, field order,
 * payload byte-exactness, seq rules, caps and their 507 bodies, body caps (413), 405/404, /help
 * and /metrics. Runs against `startTarget()`; only `checkInvariants` looks inside the store.
 */
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createHandler, createMetricsBuffer } from '../packages/http/src/index.js'
import { clientFor, json, startTarget, type Target } from './helpers/http-target.js'
import { expectError, JSON_TYPE, rawPost } from './helpers/http-expect.js'
import { invariants } from './helpers/store-checks.js'

const MB4 = /^\d+\.\d{4}$/

let t: Target
let n = 0
/** A scope name no other test uses. */
const fresh = (tag = 's'): string => `${tag}-${++n}`
const post = (path: string, body: unknown) => t.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))
const get = (path: string) => t.request('GET', path)

async function append(scope: string, payload: string, id?: string): Promise<{ seq: number; ts: number }> {
  const r = await post('/append', `{"scope":${JSON.stringify(scope)}${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"payload":${payload}}`)
  expect(r.status, r.bodyText).toBe(200)
  return json(r).item
}

beforeAll(async () => {
  t = await startTarget({ cache: { maxStoreBytes: 16 * 1024 * 1024 } })
})
afterAll(async () => {
  invariants(t)
  await t.close()
})

describe('writes and their acknowledgements', () => {
  it('/append: exact ack, id null when absent, seq from 1', async () => {
    const s = fresh()
    const r = await post('/append', { scope: s, id: 'a', payload: { v: 1 } })
    const { ts } = json(r).item
    expect(r.headers['content-type']).toBe(JSON_TYPE)
    expect(r.bodyText).toBe(`{"ok":true,"created":true,"item":{"scope":"${s}","id":"a","seq":1,"ts":${ts}}}\n`)
    const r2 = await post('/append', { scope: s, payload: 2 })
    expect(r2.bodyText).toBe(`{"ok":true,"created":true,"item":{"scope":"${s}","id":null,"seq":2,"ts":${json(r2).item.ts}}}\n`)
    expect(Number.isInteger(ts) && ts > 1.6e15).toBe(true)
  })

  it('/append: duplicate id is 409, seq/ts are managed, payload required, unknown fields ignored', async () => {
    const s = fresh()
    await append(s, '1', 'a')
    await expectError(await post('/append', { scope: s, id: 'a', payload: 2 }), 409, "an item with this 'id' already exists in the scope")
    await expectError(await post('/append', { scope: s, seq: 5, payload: 2 }), 400, "scopecache: invalid input: the 'seq' field is managed by the cache and must not be provided to the '/append' endpoint")
    await expectError(await post('/append', { scope: s, ts: 5, payload: 2 }), 400, "scopecache: invalid input: the 'ts' field is managed by the cache and must not be provided to the '/append' endpoint")
    await expectError(await post('/append', { scope: s }), 400, "scopecache: invalid input: the 'payload' field is required")
    await expectError(await post('/append', { scope: s, payload: null }), 400, "scopecache: invalid input: the 'payload' field is required")
    await expectError(await post('/append', { payload: 1 }), 400, "scopecache: invalid input: the 'scope' field is required for the '/append' endpoint")
    await expectError(await post('/append', { scope: '', payload: 1 }), 400, "scopecache: invalid input: the 'scope' field is required for the '/append' endpoint")
    const ok = await post('/append', { scope: s, seq: 0, ts: 0, id: '', payload: 3, foo: { bar: [1] } })
    expect(json(ok).item).toMatchObject({ id: null, seq: 2 })
    // exact field names (CONTRACT departs from the reference's case-insensitive match)
    await expectError(await post('/append', { Scope: s, payload: 1 }), 400, /the 'scope' field is required/)
  })

  it('/append: scope and id shape rules', async () => {
    const cases: [unknown, string][] = [
      ['x'.repeat(257), "the 'scope' field must not exceed 256 bytes"],
      ['é'.repeat(129), "the 'scope' field must not exceed 256 bytes"],
      [' lead', "the 'scope' field must not have leading or trailing whitespace"],
      ['trail\u00a0', "the 'scope' field must not have leading or trailing whitespace"],
      ['a\u0001b', "the 'scope' field must not contain control characters"],
      ['a\u007fb', "the 'scope' field must not contain control characters"],
      ['\ud800x', "the 'scope' field must be valid UTF-8"],
    ]
    for (const [scope, msg] of cases) {
      await expectError(await post('/append', { scope, payload: 1 }), 400, 'scopecache: invalid input: ' + msg)
    }
    await expectError(await post('/append', { scope: fresh(), id: ' x', payload: 1 }), 400, "scopecache: invalid input: the 'id' field must not have leading or trailing whitespace")
    // 256 bytes exactly, C1 controls inside, U+FEFF at an end: all fine
    for (const scope of ['y'.repeat(256), 'a\u0085b', '\ufeffz', 'q"uo\\te/é🎉']) {
      const r = await post('/append', { scope, payload: 1 })
      expect(r.status, r.bodyText).toBe(200)
      expect(json(r).item.scope).toBe(scope)
    }
  })

  it('/append: wrong JSON types are "valid JSON" errors', async () => {
    const s = fresh()
    for (const body of [`{"scope":5,"payload":1}`, `{"scope":"${s}","id":5,"payload":1}`, `{"scope":"${s}","seq":"1","payload":1}`,
      `{"scope":"${s}","seq":-1,"payload":1}`, `{"scope":"${s}","seq":1.5,"payload":1}`, `{"scope":"${s}","seq":123456789012345678901234,"payload":1}`,
      `{"scope":"${s}","seq":1e400,"payload":1}`, `[1]`, `"x"`, ``, `   `, `{"scope":"${s}","payload":nul}`, `{"scope":"${s}","payload":1,}`, `{"scope":"${s}" "payload":1}`]) {
      await expectError(await post('/append', body), 400, 'the request body must contain valid JSON')
    }
    await expectError(await post('/append', `{"scope":"${s}","payload":1} {"x":1}`), 400, 'the request body must contain exactly one JSON value')
    // anything but whitespace after the value, a second value or garbage, is Go's second Decode failing
    for (const tail of [' x', '}', ',', ' [', '\u0000', ' nul']) {
      await expectError(await post('/append', `{"scope":"${s}","payload":1}${tail}`), 400, 'the request body must contain exactly one JSON value')
    }
    const ok = await post('/append', ` \n{"scope":"${s}","payload":1}\r\n\t `)
    expect(ok.status).toBe(200)
  })

  it('/upsert: create, then replace in place (seq kept, ts refreshed)', async () => {
    const s = fresh()
    await append(s, '0')
    const r1 = json(await post('/upsert', { scope: s, id: 'k', payload: 'one' }))
    expect(r1).toMatchObject({ ok: true, created: true, item: { scope: s, id: 'k', seq: 2 } })
    const r = await post('/upsert', { scope: s, id: 'k', payload: 'two' })
    const b = json(r)
    expect(r.bodyText).toBe(`{"ok":true,"created":false,"item":{"scope":"${s}","id":"k","seq":2,"ts":${b.item.ts}}}\n`)
    expect(b.item.ts).toBeGreaterThanOrEqual(r1.item.ts)
    expect((await get(`/get?scope=${s}&id=k`)).bodyText).toBe('two')
    await expectError(await post('/upsert', { scope: s, payload: 1 }), 400, "scopecache: invalid input: the 'id' field is required for the '/upsert' endpoint")
    await expectError(await post('/upsert', { scope: s, id: 'k', seq: 3, payload: 1 }), 400, /'seq' field is managed.*'\/upsert'/)
  })

  it('/update: by id and by seq, miss is count 0, exactly one address', async () => {
    const s = fresh()
    await append(s, '1', 'a')
    await append(s, '2')
    expect((await post('/update', { scope: s, id: 'a', payload: [1] })).bodyText).toBe('{"ok":true,"created":false,"count":1}\n')
    expect((await post('/update', { scope: s, seq: 2, payload: { x: 2 } })).bodyText).toBe('{"ok":true,"created":false,"count":1}\n')
    expect((await post('/update', { scope: s, seq: 9, payload: 1 })).bodyText).toBe('{"ok":true,"created":false,"count":0}\n')
    expect((await post('/update', { scope: fresh(), id: 'z', payload: 1 })).bodyText).toBe('{"ok":true,"created":false,"count":0}\n')
    const both = "scopecache: invalid input: exactly one of 'id' or 'seq' must be provided for the '/update' endpoint"
    await expectError(await post('/update', { scope: s, id: 'a', seq: 1, payload: 1 }), 400, both)
    await expectError(await post('/update', { scope: s, payload: 1 }), 400, both)
    expect((await get(`/get?scope=${s}&seq=1`)).bodyText).toBe('[1]')
    expect((await get(`/get?scope=${s}&seq=2`)).bodyText).toBe('{"x":2}')
  })

  it('/delete: by id / seq, miss, scope stays and seq is not reused', async () => {
    const s = fresh()
    await append(s, '1', 'a')
    await append(s, '2')
    expect((await post('/delete', { scope: s, id: 'a' })).bodyText).toBe('{"ok":true,"hit":true,"count":1}\n')
    expect((await post('/delete', { scope: s, seq: 2 })).bodyText).toBe('{"ok":true,"hit":true,"count":1}\n')
    expect((await post('/delete', { scope: s, seq: 2 })).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
    expect((await post('/delete', { scope: fresh(), id: 'x' })).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
    await expectError(await post('/delete', { scope: s }), 400, "scopecache: invalid input: exactly one of 'id' or 'seq' must be provided for the '/delete' endpoint")
    expect((await append(s, '3')).seq).toBe(3)
  })

  it('/counter_add: create, add, negative, default by, edges', async () => {
    const s = fresh()
    expect((await post('/counter_add', { scope: s, id: 'n', by: 5 })).bodyText).toBe('{"ok":true,"created":true,"value":5}\n')
    expect((await post('/counter_add', { scope: s, id: 'n', by: -7 })).bodyText).toBe('{"ok":true,"created":false,"value":-2}\n')
    expect((await post('/counter_add', { scope: s, id: 'n' })).bodyText).toBe('{"ok":true,"created":false,"value":-1}\n')
    expect((await get(`/get?scope=${s}&id=n`)).bodyText).toBe('-1')
    const range = "scopecache: invalid input: the 'by' field must be a non-zero integer within ±(2^53−1)"
    await expectError(await post('/counter_add', { scope: s, id: 'n', by: 0 }), 400, range)
    await expectError(await post('/counter_add', { scope: s, id: 'n', by: 1.5 }), 400, 'the request body must contain valid JSON')
    await expectError(await post('/counter_add', { scope: s, id: 'n', by: '1' }), 400, 'the request body must contain valid JSON')
    await expectError(await post('/counter_add', `{"scope":"${s}","id":"n","by":9007199254740992}`), 400)
    await expectError(await post('/counter_add', { scope: s, by: 1 }), 400, "scopecache: invalid input: the 'id' field is required for the '/counter_add' endpoint")
    // the result must stay within ±(2^53−1), else 400 and unchanged
    expect(json(await post('/counter_add', { scope: s, id: 'big', by: 9007199254740991 })).value).toBe(9007199254740991)
    await expectError(await post('/counter_add', { scope: s, id: 'big', by: 1 }), 400)
    expect((await get(`/get?scope=${s}&id=big`)).bodyText).toBe('9007199254740991')
    // an existing non-integer payload is a conflict
    await append(s, '"text"', 'str')
    await append(s, '1.5', 'float')
    await expectError(await post('/counter_add', { scope: s, id: 'str', by: 1 }), 409)
    await expectError(await post('/counter_add', { scope: s, id: 'float', by: 1 }), 409)
  })

  it('/trim: max_seq and keep forms, alias /delete_up_to', async () => {
    const s = fresh()
    for (let i = 1; i <= 6; i++) await append(s, String(i))
    expect((await post('/trim', { scope: s, max_seq: 2 })).bodyText).toBe('{"ok":true,"hit":true,"count":2}\n')
    expect((await post('/trim', { scope: s, max_seq: 2 })).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
    expect((await post('/trim', { scope: s, keep: 3 })).bodyText).toBe('{"ok":true,"hit":true,"count":1}\n')
    expect((await post('/delete_up_to', { scope: s, max_seq: 4 })).bodyText).toBe('{"ok":true,"hit":true,"count":1}\n')
    expect(json(await get(`/head?scope=${s}`)).items.map((i: any) => i.seq)).toEqual([5, 6])
    expect((await post('/trim', { scope: s, keep: 0 })).bodyText).toBe('{"ok":true,"hit":true,"count":2}\n')
    expect(json(await get(`/scopelist?prefix=${s}`)).scopes[0]).toMatchObject({ scope: s, item_count: 0, last_seq: 6 })
    expect((await append(s, '7')).seq).toBe(7)
    await expectError(await post('/trim', { scope: s }), 400, "scopecache: invalid input: exactly one of 'max_seq' or 'keep' must be provided for the '/trim' endpoint")
    await expectError(await post('/trim', { scope: s, max_seq: 1, keep: 1 }), 400, /exactly one of 'max_seq' or 'keep'/)
    await expectError(await post('/delete_up_to', { scope: s }), 400, "scopecache: invalid input: the 'max_seq' field is required and must be a positive integer for the '/delete_up_to' endpoint")
    await expectError(await post('/delete_up_to', { scope: s, max_seq: 0 }), 400, "scopecache: invalid input: the 'max_seq' field is required and must be a positive integer for the '/delete_up_to' endpoint")
    await expectError(await post('/trim', { scope: s, keep: -1 }), 400, "scopecache: invalid input: the 'keep' field must be a non-negative integer for the '/trim' endpoint")
    expect((await post('/trim', { scope: fresh(), keep: 1 })).bodyText).toBe('{"ok":true,"hit":false,"count":0}\n')
  })

  it('/drop_scope: by scope, by prefix, alias /delete_scope, a dropped scope restarts at seq 1', async () => {
    const p = fresh('drop') + ':'
    await append(p + 'a', '1')
    await append(p + 'a', '2')
    await append(p + 'b', '1')
    await append(p + 'c', '1')
    const created = json(await get(`/scopelist?prefix=${encodeURIComponent(p + 'a')}`)).scopes[0].created_ts
    expect((await post('/drop_scope', { scope: p + 'a' })).bodyText).toBe('{"ok":true,"hit":true,"count":2,"scopes":1}\n')
    expect((await post('/delete_scope', { scope: p + 'a' })).bodyText).toBe('{"ok":true,"hit":false,"count":0,"scopes":0}\n')
    await new Promise((r) => setTimeout(r, 2))
    expect((await append(p + 'a', '3')).seq).toBe(1)
    expect(json(await get(`/scopelist?prefix=${encodeURIComponent(p + 'a')}`)).scopes[0].created_ts).toBeGreaterThan(created)
    expect((await post('/drop_scope', { prefix: p })).bodyText).toBe('{"ok":true,"hit":true,"count":3,"scopes":3}\n')
    expect((await post('/drop_scope', { prefix: p })).bodyText).toBe('{"ok":true,"hit":false,"count":0,"scopes":0}\n')
    await expectError(await post('/drop_scope', { prefix: '' }), 400)
    await expectError(await post('/drop_scope', { scope: 'x', prefix: 'x' }), 400, "scopecache: invalid input: exactly one of 'scope' or 'prefix' must be provided for the '/drop_scope' endpoint")
    await expectError(await post('/delete_scope', {}), 400, "scopecache: invalid input: the 'scope' field is required for the '/delete_scope' endpoint")
  })

  it('/warm continues seq and replaces only listed scopes; /rebuild restarts; /flush and /wipe', async () => {
    const a = fresh('warm')
    const b = fresh('warm')
    for (let i = 0; i < 3; i++) await append(a, String(i))
    await append(b, '"keep"')
    const r = await post('/warm', { items: [{ scope: a, id: 'x', payload: 'w1' }, { scope: a, payload: 'w2' }, { scope: fresh('warm'), payload: 1 }] })
    expect(r.bodyText).toBe('{"ok":true,"scopes":2}\n')
    const items = json(await get(`/head?scope=${a}`)).items
    expect(items.map((i: any) => [i.seq, i.id, i.payload])).toEqual([[4, 'x', 'w1'], [5, null, 'w2']])
    expect(items[0].ts).toBe(items[1].ts)
    expect((await append(a, '6')).seq).toBe(6)
    expect((await get(`/get?scope=${b}&seq=1`)).bodyText).toBe('keep')
    for (const body of ['{"items":[]}', '{"items":null}', '{}']) expect((await post('/warm', body)).bodyText).toBe('{"ok":true,"scopes":0}\n')
    await expectError(await post('/warm', { items: [{ scope: a, id: 'd', payload: 1 }, { scope: a, id: 'd', payload: 2 }] }), 400, /duplicate 'id' value within scope/)
    await expectError(await post('/warm', { items: [{ scope: a, seq: 3, payload: 1 }] }), 400,
      `scope '${a}', item at index 0: scopecache: invalid input: the 'seq' field is managed by the cache and must not be provided to the '/warm' endpoint`)
    await expectError(await post('/warm', { items: [{ scope: a }] }), 400, /item at index 0: .*the 'payload' field is required/)
    await expectError(await post('/warm', { items: [{ scope: a, payload: 1 }, { payload: 1 }] }), 400,
      "scopecache: invalid input: the 'scope' field is required for the '/warm' endpoint")
    await expectError(await post('/warm', { items: [1] }), 400, 'the request body must contain valid JSON')
    await expectError(await post('/warm', { items: { scope: a } }), 400, 'the request body must contain valid JSON')
    expect(json(await get(`/head?scope=${a}`)).items.length).toBe(3) // failed warms left no trace
  })

  it('/rebuild replaces the store, seq 1..N; empty is 400; /flush and /wipe empty it', async () => {
    const local = await startTarget()
    try {
      const p = (path: string, body: unknown) => local.request('POST', path, JSON.stringify(body))
      await p('/append', { scope: 'old', payload: 1 })
      await expectError(await p('/rebuild', { items: [] }), 400, "the 'items' array must not be empty for the '/rebuild' endpoint")
      await expectError(await p('/rebuild', {}), 400, "the 'items' array must not be empty for the '/rebuild' endpoint")
      const r = await p('/rebuild', { items: [{ scope: 'n1', payload: 1 }, { scope: 'n1', payload: 2 }, { scope: 'n2', id: 'i', payload: 3 }] })
      expect(r.bodyText).toBe('{"ok":true,"scopes":2,"items":3}\n')
      const st = json(await local.request('GET', '/stats'))
      expect(st).toMatchObject({ scopes: 2, items: 3 })
      expect(json(await local.request('GET', '/head?scope=n1')).items.map((i: any) => i.seq)).toEqual([1, 2])
      expect((await local.request('GET', '/get?scope=old&seq=1')).status).toBe(404)
      const f = await p('/wipe', {})
      expect(f.bodyText).toMatch(/^\{"ok":true,"scopes":2,"items":3,"freed_mb":\d+\.\d{4}\}\n$/)
      const f2 = await local.request('POST', '/flush')
      expect(f2.bodyText).toBe('{"ok":true,"scopes":0,"items":0,"freed_mb":0.0000}\n')
      // its body is ignored, whatever it holds
      expect((await local.request('POST', '/flush', Buffer.from([0xff, 0x7b]))).status).toBe(200)
      expect(json(await p('/append', { scope: 'n1', payload: 1 })).item.seq).toBe(1)
      expect(json(await local.request('GET', '/stats')).last_write_ts).toBeGreaterThan(st.last_write_ts)
      invariants(local)
    } finally {
      await local.close()
    }
  })
})

describe('reads', () => {
  const PAYLOAD = '{ "b" : 12345678901234567890 , "k":[1 ,2.50], "e":"\\u00e9\\n", "d":{"z":1,"a":2}, "z":1.0e+2 }'

  it('payload bytes are spliced verbatim everywhere', async () => {
    const s = fresh()
    const { ts } = await append(s, PAYLOAD, 'p')
    const raw = await get(`/get?scope=${s}&id=p`)
    expect(raw.headers['content-type']).toBe('application/octet-stream')
    expect(raw.bodyText).toBe(PAYLOAD)
    const env = await get(`/get?scope=${s}&id=p&envelope=true`)
    const item = `{"scope":"${s}","id":"p","seq":1,"ts":${ts},"payload":${PAYLOAD}}`
    expect(env.bodyText).toMatch(new RegExp('^' + escapeRe(`{"ok":true,"hit":true,"count":1,"item":${item},"approx_response_mb":`) + '\\d+\\.\\d{4}\\}\\n$'))
    expect((await get(`/get?scope=${s}&seq=1&envelope=1`)).bodyText).toBe(env.bodyText)
    expect((await get(`/head?scope=${s}`)).bodyText).toContain(`"items":[${item}]`)
    expect((await get(`/tail?scope=${s}`)).bodyText).toContain(`"items":[${item}]`)
    expect((await post('/get_many', { targets: [{ scope: s, id: 'p' }] })).bodyText).toBe(`[${PAYLOAD}]\n`)
    expect((await post('/get_many?envelope=true', { targets: [{ scope: s, seq: 1 }] })).bodyText).toBe(`{"ok":true,"count":1,"results":[{"hit":true,"item":${item}}]}\n`)
    // escaped lone surrogates and duplicate keys are stored as sent
    const odd = '{"a":1,"a":"\\ud800"}'
    await append(s, odd, 'odd')
    expect((await get(`/get?scope=${s}&id=odd`)).bodyText).toBe(odd)
  })

  it('raw /get and /render decode a JSON-string payload one level', async () => {
    const s = fresh()
    await append(s, '"x\\u00e9\\n"', 'a')
    await append(s, '"<b>hi</b>"', 'b')
    await append(s, '42', 'c')
    await append(s, '"\\"quoted\\""', 'd')
    for (const path of ['/get', '/render']) {
      const a = await get(`${path}?scope=${s}&id=a`)
      expect([...a.bodyBytes]).toEqual([0x78, 0xc3, 0xa9, 0x0a])
      expect(a.headers['content-type']).toBe('application/octet-stream')
      expect((await get(`${path}?scope=${s}&id=b`)).bodyText).toBe('<b>hi</b>')
      expect((await get(`${path}?scope=${s}&id=c`)).bodyText).toBe('42')
      expect((await get(`${path}?scope=${s}&id=d`)).bodyText).toBe('"quoted"')
      const miss = await get(`${path}?scope=${s}&id=zz`)
      expect(miss.status).toBe(404)
      expect(miss.bodyText).toBe('')
      expect(miss.headers['content-type']).toBe('application/octet-stream')
    }
    // the envelope keeps the string a JSON string
    expect(json(await get(`/get?scope=${s}&id=a&envelope=true`)).item.payload).toBe('xé\n')
    // /render ignores envelope=
    expect((await get(`/render?scope=${s}&id=c&envelope=true`)).bodyText).toBe('42')
  })

  it('/get envelope= values and the envelope miss', async () => {
    const s = fresh()
    await append(s, '1', 'a')
    for (const v of ['true', '1']) expect(json(await get(`/get?scope=${s}&id=a&envelope=${v}`)).hit).toBe(true)
    for (const v of ['false', '0', '']) expect((await get(`/get?scope=${s}&id=a&envelope=${v}`)).bodyText).toBe('1')
    for (const v of ['yes', 'TRUE', '2']) await expectError(await get(`/get?scope=${s}&id=a&envelope=${v}`), 400, /envelope/)
    const miss = await get(`/get?scope=${s}&id=nope&envelope=true`)
    expect(miss.status).toBe(200)
    expect(miss.bodyText).toBe('{"ok":true,"hit":false,"count":0,"item":null,"approx_response_mb":0.0001}\n')
    expect((await get(`/get?scope=${fresh()}&seq=1&envelope=true`)).bodyText).toBe(miss.bodyText)
  })

  it('/get query errors', async () => {
    const s = fresh()
    // query messages carry no `scopecache: invalid input: ` prefix (only store-level field rules from a body do)
    await expectError(await get('/get?id=a'), 400, "the 'scope' field is required for the '/get' endpoint")
    await expectError(await get('/render?id=a'), 400, "the 'scope' field is required for the '/render' endpoint")
    await expectError(await get('/tail'), 400, "the 'scope' field is required for the '/tail' endpoint")
    await expectError(await get(`/render?scope=${'x'.repeat(257)}&id=a`), 400, "the 'scope' field must not exceed 256 bytes")
    await expectError(await get(`/get?scope=${s}&id=${'i'.repeat(257)}`), 400, "the 'id' field must not exceed 256 bytes")
    await expectError(await get(`/tail?scope=${'x'.repeat(257)}`), 400, "the 'scope' field must not exceed 256 bytes")
    await expectError(await get(`/head?scope=a%01b`), 400, "the 'scope' field must not contain control characters")
    await expectError(await get(`/get?scope=${s}`), 400, "exactly one of 'id' or 'seq' must be provided")
    await expectError(await get(`/get?scope=${s}&id=a&seq=1`), 400, "exactly one of 'id' or 'seq' must be provided")
    await expectError(await get(`/get?scope=${s}&seq=0`), 400, "the 'seq' parameter must be a positive integer")
    for (const v of ['abc', '-1', '%2B1', '1.0', '18446744073709551616']) {
      await expectError(await get(`/get?scope=${s}&seq=${v}`), 400, "the 'seq' parameter must be a valid unsigned integer")
    }
    await expectError(await get(`/get?scope=${'x'.repeat(257)}&id=a`), 400, "the 'scope' field must not exceed 256 bytes")
    await expectError(await get(`/get?scope=%FF&id=a`), 400, "the 'scope' field must be valid UTF-8")
    await expectError(await get(`/get?scope=${s}&id=%C3`), 400, "the 'id' field must be valid UTF-8")
    await expectError(await get(`/get?scope=%20x&id=a`), 400, "the 'scope' field must not have leading or trailing whitespace")
    // big but valid uint64 seq, leading zeros, first of repeated params, + as space
    expect((await get(`/get?scope=${s}&seq=18446744073709551615`)).status).toBe(404)
    await append(s, '"v"')
    expect((await get(`/get?scope=${s}&seq=0001`)).bodyText).toBe('v')
    expect((await get(`/get?scope=${s}&seq=1&seq=2`)).bodyText).toBe('v')
    const sp = fresh('with space')
    await append(sp, '"sp"', 'i d')
    expect((await get(`/get?scope=${sp.replace(' ', '+')}&id=i%20d`)).bodyText).toBe('sp')
  })

  it('a query value starting with U+FEFF keeps it (a BOM is not stripped)', async () => {
    const s = '\ufeff' + fresh('bom')
    await append(s, '"bom"', '\ufeffid')
    const q = `scope=${encodeURIComponent(s)}&id=${encodeURIComponent('\ufeffid')}`
    expect(q.startsWith('scope=%EF%BB%BFbom-')).toBe(true)
    expect((await get(`/get?${q}`)).bodyText).toBe('bom')
    expect((await get(`/render?${q}`)).bodyText).toBe('bom')
    expect(json(await get(`/head?scope=${encodeURIComponent(s)}`)).items[0]).toMatchObject({ scope: s, id: '\ufeffid' })
    expect(json(await get(`/tail?scope=${encodeURIComponent(s)}`)).count).toBe(1)
    expect(json(await get(`/scopelist?prefix=%EF%BB%BFbom-`)).scopes.map((r: any) => r.scope)).toContain(s)
    // the value without its BOM is another scope
    expect((await get(`/get?scope=${encodeURIComponent(s.slice(1))}&id=${encodeURIComponent('\ufeffid')}`)).status).toBe(404)
  })

  it('/head: cursor paging through a scope, truncated, errors', async () => {
    const s = fresh()
    for (let i = 1; i <= 25; i++) await append(s, `{"i":${i}}`)
    const seen: number[] = []
    let after = 0
    const flags: boolean[] = []
    for (;;) {
      const r = await get(`/head?scope=${s}&after_seq=${after}&limit=10`)
      const b = json(r)
      expect(Object.keys(b)).toEqual(['ok', 'hit', 'count', 'truncated', 'items', 'approx_response_mb'])
      expect(r.bodyText).toMatch(/"approx_response_mb":\d+\.\d{4}\}\n$/)
      if (b.count === 0) {
        expect(b).toMatchObject({ hit: false, truncated: false, items: [] })
        break
      }
      for (const it of b.items) expect(Object.keys(it)).toEqual(['scope', 'id', 'seq', 'ts', 'payload'])
      seen.push(...b.items.map((it: any) => it.seq))
      flags.push(b.truncated)
      after = b.items[b.items.length - 1].seq
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    expect(flags).toEqual([true, true, false])
    // stable under trim: the cursor still resumes
    await post('/trim', { scope: s, max_seq: 12 })
    expect(json(await get(`/head?scope=${s}&after_seq=10&limit=2`)).items.map((i: any) => i.seq)).toEqual([13, 14])
    expect(json(await get(`/head?scope=${s}&limit=20000`)).count).toBe(13)
    expect(json(await get(`/head?scope=${fresh()}`))).toMatchObject({ hit: false, count: 0, truncated: false, items: [] })
    expect(json(await get(`/head?scope=${s}&after_seq=18446744073709551615`))).toMatchObject({ hit: false, count: 0 })
    await expectError(await get(`/head?scope=${s}&offset=1`), 400, "the 'offset' parameter is not supported on /head; use 'after_seq' instead, or call /tail for position-based paging")
    for (const v of ['0', '-1', 'x', '1.5']) await expectError(await get(`/head?scope=${s}&limit=${v}`), 400, "the 'limit' parameter must be a positive integer")
    await expectError(await get(`/head?scope=${s}&after_seq=-1`), 400, "the 'after_seq' parameter must be a valid unsigned integer")
    await expectError(await get('/head'), 400, "the 'scope' field is required for the '/head' endpoint")
  })

  it('/tail: newest window oldest first, offset echoed, truncated = older items exist', async () => {
    const s = fresh()
    for (let i = 1; i <= 25; i++) await append(s, String(i))
    const r = await get(`/tail?scope=${s}&limit=5`)
    const b = json(r)
    expect(Object.keys(b)).toEqual(['ok', 'hit', 'count', 'offset', 'truncated', 'items', 'approx_response_mb'])
    expect(b).toMatchObject({ hit: true, count: 5, offset: 0, truncated: true })
    expect(b.items.map((i: any) => i.seq)).toEqual([21, 22, 23, 24, 25])
    const b2 = json(await get(`/tail?scope=${s}&limit=5&offset=22`))
    expect(b2).toMatchObject({ count: 3, offset: 22, truncated: false })
    expect(b2.items.map((i: any) => i.seq)).toEqual([1, 2, 3])
    const b3 = await get(`/tail?scope=${s}&offset=25`)
    expect(b3.bodyText).toMatch(/^\{"ok":true,"hit":false,"count":0,"offset":25,"truncated":false,"items":\[\],"approx_response_mb":\d+\.\d{4}\}\n$/)
    expect(json(await get(`/tail?scope=${s}&limit=%2B2`)).count).toBe(2)
    await expectError(await get(`/tail?scope=${s}&offset=-1`), 400, "the 'offset' parameter must be a non-negative integer")
    await expectError(await get(`/tail?scope=${s}&limit=0`), 400, "the 'limit' parameter must be a positive integer")
  })

  it('/get_many: positional raw array and envelope, hits count as reads, limits', async () => {
    const s = fresh()
    await append(s, '"str"', 'a')
    await append(s, '{"n":1}')
    const targets = [{ scope: s, id: 'a' }, { scope: s, seq: 2 }, { scope: s, id: 'none' }, { scope: fresh(), seq: 1 }]
    const raw = await post('/get_many', { targets })
    expect(raw.headers['content-type']).toBe(JSON_TYPE)
    expect(raw.bodyText).toBe('["str",{"n":1},null,null]\n')
    const env = json(await post('/get_many?envelope=true', { targets }))
    expect(Object.keys(env)).toEqual(['ok', 'count', 'results'])
    expect(env.count).toBe(4)
    expect(env.results.map((r: any) => [r.hit, r.item?.seq ?? null])).toEqual([[true, 1], [true, 2], [false, null], [false, null]])
    expect(Object.keys(env.results[0])).toEqual(['hit', 'item'])
    const before = json(await get(`/scopelist?prefix=${s}`)).scopes[0].read_count_total
    await post('/get_many', { targets: [{ scope: s, id: 'a' }, { scope: s, id: 'a' }, { scope: s, id: 'none' }] })
    expect(json(await get(`/scopelist?prefix=${s}`)).scopes[0].read_count_total).toBe(before + 2)
    await expectError(await post('/get_many', { targets: [] }), 400, /targets/)
    await expectError(await post('/get_many', {}), 400, /targets/)
    await expectError(await post('/get_many', { targets: Array.from({ length: 1001 }, () => ({ scope: s, seq: 1 })) }), 400, /1000/)
    expect(json(await post('/get_many', { targets: Array.from({ length: 1000 }, () => ({ scope: s, seq: 1 })) })).length).toBe(1000)
    await expectError(await post('/get_many', { targets: [{ scope: s, id: 'a', seq: 1 }] }), 400, "scopecache: invalid input: target at index 0: exactly one of 'id' or 'seq' must be provided")
    await expectError(await post('/get_many', { targets: [{ scope: s, id: 'a' }, { id: 'a' }] }), 400, /target at index 1: the 'scope' field is required/)
    await expectError(await post('/get_many', { targets: [1] }), 400, 'the request body must contain valid JSON')
    await expectError(await post('/get_many?envelope=maybe', { targets }), 400, /envelope/)
  })

  it('/stats and /scopelist: exact shapes, byte order, paging', async () => {
    const st = await get('/stats')
    expect(Object.keys(json(st))).toEqual(['ok', 'scopes', 'items', 'approx_store_mb', 'last_write_ts'])
    expect(st.bodyText).toMatch(/^\{"ok":true,"scopes":\d+,"items":\d+,"approx_store_mb":\d+\.\d{4},"last_write_ts":\d+\}\n$/)
    const p = fresh('list') + '/'
    for (const name of ['b', 'a', 'c', '\ue000', '\u{1f600}']) await append(p + name, '1')
    const all = json(await get(`/scopelist?prefix=${encodeURIComponent(p)}`))
    expect(Object.keys(all)).toEqual(['ok', 'hit', 'count', 'truncated', 'scopes', 'approx_response_mb'])
    expect(all.scopes.map((r: any) => r.scope.slice(p.length))).toEqual(['a', 'b', 'c', '\ue000', '\u{1f600}']) // UTF-8 byte order
    expect(Object.keys(all.scopes[0])).toEqual(['scope', 'item_count', 'last_seq', 'approx_scope_mb', 'created_ts', 'last_write_ts', 'last_access_ts', 'read_count_total'])
    expect((await get(`/scopelist?prefix=${encodeURIComponent(p)}`)).bodyText).toMatch(/"approx_scope_mb":\d+\.\d{4},/)
    const page1 = json(await get(`/scopelist?prefix=${encodeURIComponent(p)}&limit=2`))
    expect(page1).toMatchObject({ hit: true, count: 2, truncated: true })
    const page2 = json(await get(`/scopelist?prefix=${encodeURIComponent(p)}&limit=10&after=${encodeURIComponent(page1.scopes[1].scope)}`))
    expect(page2.scopes.map((r: any) => r.scope.slice(p.length))).toEqual(['c', '\ue000', '\u{1f600}'])
    expect(page2.truncated).toBe(false)
    expect(json(await get('/scopelist?prefix=nothing-has-this'))).toMatchObject({ hit: false, count: 0, truncated: false, scopes: [] })
    await expectError(await get(`/scopelist?prefix=${'x'.repeat(257)}`), 400, "the 'prefix' field must not exceed 256 bytes")
    await expectError(await get(`/scopelist?after=${'a'.repeat(257)}`), 400, "the 'after' field must not exceed 256 bytes")
    await expectError(await get('/scopelist?after=%FF'), 400, "the 'after' field must be valid UTF-8")
    await expectError(await get('/scopelist?limit=0'), 400, "the 'limit' parameter must be a positive integer")
  })

  it('scopes with quotes, backslashes and unicode come back as valid JSON', async () => {
    const s = fresh('q"\\é\u2028')
    await append(s, '1', 'i"d')
    const b = json(await get(`/head?scope=${encodeURIComponent(s)}`))
    expect(b.items[0]).toMatchObject({ scope: s, id: 'i"d' })
  })
})

describe('caps', () => {
  let c: Target
  beforeAll(async () => {
    c = await startTarget({ cache: { maxStoreBytes: 64 * 1024, scopeMaxItems: 3, maxItemBytes: 4096 } })
  })
  afterAll(async () => {
    invariants(c)
    await c.close()
  })
  const cpost = (path: string, body: unknown) => c.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))

  it('scope cap: 507 with the offender, replacing at the cap is allowed', async () => {
    for (let i = 0; i < 3; i++) expect((await cpost('/append', { scope: 'cap', id: `i${i}`, payload: i })).status).toBe(200)
    const r = await cpost('/append', { scope: 'cap', payload: 9 })
    expect(r.status).toBe(507)
    expect(r.bodyText).toBe('{"ok":false,"error":"scope is at capacity","scopes":[{"scope":"cap","count":3,"cap":3}]}\n')
    await expectError(await cpost('/upsert', { scope: 'cap', id: 'new', payload: 9 }), 507, 'scope is at capacity')
    expect(json(await cpost('/upsert', { scope: 'cap', id: 'i1', payload: 'replaced' })).created).toBe(false)
    await expectError(await cpost('/counter_add', { scope: 'cap', id: 'ctr' }), 507, 'scope is at capacity')
    const w = await expectError(await cpost('/warm', { items: [1, 2, 3, 4].map((i) => ({ scope: 'w1', payload: i })).concat([1, 2, 3, 4].map((i) => ({ scope: 'w2', payload: i }))) }), 507, 'multiple scopes are at capacity')
    expect(w.scopes.sort((a: any, b: any) => a.scope.localeCompare(b.scope))).toEqual([{ scope: 'w1', count: 4, cap: 3 }, { scope: 'w2', count: 4, cap: 3 }])
    expect(json(await c.request('GET', '/head?scope=cap')).count).toBe(3)
  })

  it('item cap is 400 too_large; store cap is 507 with its MiB fields; no trace left', async () => {
    const big = JSON.stringify('x'.repeat(4100))
    await expectError(await cpost('/append', `{"scope":"big","payload":${big}}`), 400, /^scopecache: invalid input: the item's approximate size \(\d+ bytes\) exceeds the maximum of 4096 bytes$/)
    const chunk = JSON.stringify('y'.repeat(3500))
    let full: any
    for (let i = 0; i < 40 && full === undefined; i++) {
      const r = await cpost('/append', `{"scope":"fill${i % 12}","payload":${chunk}}`)
      if (r.status === 507) full = await expectError(r, 507, 'store is at byte capacity')
      else expect(r.status).toBe(200)
    }
    expect(full).toBeDefined()
    expect(Object.keys(full)).toEqual(['ok', 'error', 'approx_store_mb', 'added_mb', 'max_store_mb'])
    const text = (await cpost('/append', `{"scope":"fill0","payload":${chunk}}`)).bodyText
    expect(text).toMatch(/^\{"ok":false,"error":"store is at byte capacity","approx_store_mb":\d+\.\d{4},"added_mb":\d+\.\d{4},"max_store_mb":0\.0625\}\n$/)
    expect((await c.request('GET', '/get?scope=big&seq=1')).status).toBe(404)
    invariants(c)
  })

  it('response cap: 507 response_too_large with its fields', async () => {
    await cpost('/flush', '')
    await cpost('/append', { scope: 'r', id: 'x', payload: 'z'.repeat(3000) })
    const targets = Array.from({ length: 100 }, () => ({ scope: 'r', id: 'x' }))
    const r = await cpost('/get_many', { targets })
    const b = await expectError(r, 507, 'the response would exceed the maximum allowed size')
    expect(Object.keys(b)).toEqual(['ok', 'error', 'approx_response_mb', 'max_response_mb'])
    expect(r.bodyText).toMatch(/"approx_response_mb":\d+\.\d{4},"max_response_mb":0\.0625\}\n$/)
    await cpost('/flush', '')
    const scope = 's'.repeat(250)
    for (let i = 0; i < 3; i++) await cpost('/append', { scope, payload: 'p'.repeat(2000) })
    expect((await c.request('GET', `/head?scope=${scope}`)).status).toBe(200)
  })

  it('413 at cap + 1 (declared or streamed), exact message, nothing written', async () => {
    await cpost('/flush', '')
    const cap = 4096 + 4096
    const make = (size: number): string => {
      const head = '{"scope":"b413","payload":"'
      return head + 'a'.repeat(size - head.length - 2) + '"}'
    }
    // Every refusal must be read by the client, over TCP and over a Unix socket: the server answers at
    // once but keeps reading (and discarding) the rest of the body before it closes, so its close
    // cannot reset the connection under a client that is still sending.
    const refused = async (r: Awaited<ReturnType<typeof rawPost>>, message: string | RegExp): Promise<void> => {
      await expectError(r, 413, message)
      expect(r.headers.connection).toBe('close')
    }
    await refused(await rawPost(c, '/append', make(cap + 1)), `the request body exceeds the maximum allowed size of ${cap} bytes`)
    // a body far over the cap, still arriving when the answer leaves
    await refused(await rawPost(c, '/append', make(8 * 1024 * 1024)), `the request body exceeds the maximum allowed size of ${cap} bytes`)
    // exactly at the cap: read and judged on its merits (too large an item, 400)
    expect((await c.request('POST', '/append', make(cap))).status).toBe(400)
    // streamed without Content-Length (chunked), on a raw connection: the server answers 413 and
    // closes as soon as the count passes the cap, possibly while the client is still writing (an
    // http.request would then fail with EPIPE before reading the answer)
    const body = make(cap + 100)
    const chunk = (t: string): string => `${Buffer.byteLength(t).toString(16)}\r\n${t}\r\n`
    const answer = await c.raw(
      `POST /append HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body.slice(0, 5000))}${chunk(body.slice(5000))}0\r\n\r\n`,
    )
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    expect(json({ bodyText: answer.slice(answer.indexOf('\r\n\r\n') + 4) } as any).error).toBe(`the request body exceeds the maximum allowed size of ${cap} bytes`)
    const big = make(8 * 1024 * 1024)
    const bigAnswer = await c.raw(`POST /append HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(big.slice(0, 5000))}${chunk(big.slice(5000))}0\r\n\r\n`)
    expect(bigAnswer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    // Expect: 100-continue over the cap: the 413 straight away, no `100 Continue` inviting the body
    const expect100 = await c.raw(`POST /append HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${cap + 1}\r\n\r\n`)
    expect(expect100.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
    expect(expect100).not.toContain('100 Continue')
    expect(JSON.parse(expect100.slice(expect100.indexOf('\r\n\r\n') + 4)).error).toBe(`the request body exceeds the maximum allowed size of ${cap} bytes`)
    // /warm: maxStoreBytes × 1.1 + 16 MiB, a body well past it still arriving when the 413 leaves
    const bulkCap = Math.floor(64 * 1024 * 1.1) + 16 * 1024 * 1024
    await refused(await rawPost(c, '/warm', `{"items":[${'{},'.repeat(Math.ceil((bulkCap + 2 * 1024 * 1024) / 3))}{}]}`), `the request body exceeds the maximum allowed size of ${bulkCap} bytes`)
    // /get_many: 1 MiB (a /flush body is ignored, whatever its size: http-wire-parity.test.ts)
    await refused(await rawPost(c, '/get_many', ' '.repeat(1024 * 1024 + 1)), /1048576 bytes/)
    expect(json(await c.request('GET', '/stats')).items).toBe(0)
    // the server keeps serving
    expect((await cpost('/append', { scope: 'after', payload: 1 })).status).toBe(200)
  })
})

describe('protocol', () => {
  it('405 with Allow for every endpoint, JSON body (also /help)', async () => {
    const gets = ['/get', '/render', '/head', '/tail', '/stats', '/scopelist', '/help', '/metrics']
    const posts = ['/get_many', '/append', '/upsert', '/update', '/counter_add', '/warm', '/rebuild', '/delete', '/trim', '/delete_up_to', '/drop_scope', '/delete_scope', '/flush', '/wipe']
    for (const [paths, wrong, allow] of [[gets, 'POST', 'GET'], [posts, 'GET', 'POST']] as const) {
      for (const path of paths) {
        const r = await t.request(wrong, path, wrong === 'POST' ? '{}' : undefined)
        expect(r.status, path).toBe(405)
        expect(r.headers.allow).toBe(allow)
        expect(r.bodyText).toBe('{"ok":false,"error":"the HTTP method is not allowed for this endpoint"}\n')
      }
    }
    for (const m of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) expect((await t.request(m, '/stats')).status).toBe(405)
    const head = await t.request('HEAD', '/stats')
    expect(head.status).toBe(405)
    expect(head.headers.allow).toBe('GET')
  })

  it('404 JSON for unknown paths (exact match only)', async () => {
    for (const path of ['/', '/nope', '/get/', '/GET', '/stats/x', '//stats']) {
      const r = await get(path)
      expect(r.status, path).toBe(404)
      expect(r.headers['content-type']).toBe(JSON_TYPE)
      expect(r.bodyText).toBe('{"ok":false,"error":"the requested endpoint does not exist"}\n')
    }
  })

  it('Expect: 100-continue: 100 Continue for a body within its cap, then its answer', async () => {
    const s = fresh('continue')
    const body = `{"scope":"${s}","payload":1}`
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = 'host' in t.endpoint ? net.connect(t.endpoint.port, t.endpoint.host) : net.connect({ path: t.endpoint.socketPath })
      let got = ''
      let sent = false
      socket.setTimeout(2000, () => socket.destroy(new Error(`timed out; got ${JSON.stringify(got)}`)))
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1')
        // the body goes only once the server has asked for it
        if (!sent && got.includes('\r\n\r\n')) {
          sent = true
          socket.write(body)
        }
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(got))
      socket.write(`POST /append HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`)
    })
    expect(answer.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n')).toBe(true)
    expect(JSON.parse(answer.slice(answer.lastIndexOf('\r\n\r\n') + 4)).item).toMatchObject({ scope: s, seq: 1 })
  })

  it('an absolute-form target is served like its origin form', async () => {
    const s = fresh('abs')
    await append(s, '"abs"', 'a')
    const status = (answer: string): string => answer.split('\r\n')[0]
    const bodyOf = (answer: string): string => answer.slice(answer.indexOf('\r\n\r\n') + 4)
    const a = await t.raw(`GET http://127.0.0.1/get?scope=${s}&id=a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
    expect(status(a)).toBe('HTTP/1.1 200 OK')
    expect(bodyOf(a)).toBe('abs')
    const w = `{"scope":"${s}","payload":2}`
    const b = await t.raw(`POST HTTP://example.com:8080/append HTTP/1.1\r\nHost: example.com\r\nContent-Length: ${w.length}\r\nConnection: close\r\n\r\n${w}`)
    expect(status(b)).toBe('HTTP/1.1 200 OK')
    expect(JSON.parse(bodyOf(b)).item.seq).toBe(2)
    const st = await t.raw('GET http://localhost/stats?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    expect(bodyOf(st)).toMatch(/^\{"ok":true,"scopes":\d+,/)
    // the path still matches exactly: no path is '/', an unknown one is 404
    for (const target of ['http://127.0.0.1', 'http://127.0.0.1?scope=x', 'http://127.0.0.1/nope']) {
      const r = await t.raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
      expect(status(r), target).toBe('HTTP/1.1 404 Not Found')
      expect(bodyOf(r)).toBe('{"ok":false,"error":"the requested endpoint does not exist"}\n')
    }
  })

  it('a HEAD request that cannot be parsed gets its error without a body', async () => {
    const GET_400 = /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n\{"ok":false,"error":"the request could not be parsed as HTTP"\}\n$/
    const HEAD_400 = /^HTTP\/1\.1 400 Bad Request\r\n(?:[^\r\n]+\r\n)*\r\n$/
    for (const [req, expected] of [
      ['HEAD /stats HTTP/1.1\r\nBad Header\r\n\r\n', HEAD_400],
      ['\r\nHEAD /stats HTTP/9.1\r\nHost: x\r\n\r\n', HEAD_400],
      ['HEAD /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', HEAD_400],
      ['GET /stats HTTP/1.1\r\nBad Header\r\n\r\n', GET_400],
      ['HEADX /stats HTTP/1.1\r\nBad Header\r\n\r\n', GET_400],
    ] as const) {
      const answer = await t.raw(req)
      expect(answer, req).toMatch(expected)
      expect(answer).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i)
    }
    // a HEAD that parses is answered by the API (405, no body: Node drops it for HEAD)
    expect(await t.raw('HEAD /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*\r\n\r\n$/)
  })

  it('invalid UTF-8 in the fields read, and deep nesting in bodies', async () => {
    const s = fresh()
    const bad = Buffer.concat([Buffer.from(`{"scope":"${s}","payload":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])
    await expectError(await t.request('POST', '/append', bad), 400, "scopecache: invalid input: the 'payload' field must be valid UTF-8")
    const badScope = Buffer.concat([Buffer.from('{"scope":"a'), Buffer.from([0xc3]), Buffer.from('","payload":1}')])
    await expectError(await t.request('POST', '/append', badScope), 400, "scopecache: invalid input: the 'scope' field must be valid UTF-8")
    await expectError(await t.request('POST', '/append', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"scope":"${s}","payload":1}`)])), 400)
    const deep = (d: number): string => '['.repeat(d) + ']'.repeat(d)
    await expectError(await post('/append', `{"scope":"${s}","payload":${deep(10_000)}}`), 400, 'the request body must contain valid JSON')
    expect((await post('/append', `{"scope":"${s}","payload":${deep(9_999)}}`)).status).toBe(200)
    expect((await get(`/get?scope=${s}&seq=1`)).bodyText).toBe(deep(9_999))
    await expectError(await post('/append', '['.repeat(200_000)), 400, 'the request body must contain valid JSON')
    expect(json(await get(`/head?scope=${s}`)).count).toBe(1)
  })

  it('/help is plain text listing every path and the limits', async () => {
    const r = await get('/help')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8')
    for (const path of ['/get', '/render', '/get_many', '/head', '/tail', '/append', '/upsert', '/update', '/counter_add', '/warm', '/rebuild',
      '/delete', '/trim', '/delete_up_to', '/drop_scope', '/delete_scope', '/flush', '/wipe', '/stats', '/scopelist', '/help', '/metrics',
      '/lock', '/renew', '/unlock', '/version', '/invalidate', '/touch', '/scope_ttl', '/scope_limit']) {
      expect(r.bodyText).toMatch(new RegExp(`^(GET|POST) +${path} `, 'm'))
    }
    // one line per path, then one `name: value` line per limit, nothing else
    const lines = r.bodyText.trimEnd().split('\n')
    expect(lines.slice(0, 30).every((l) => /^(GET|POST) +\/[a-z_]+ /.test(l))).toBe(true)
    expect(lines.slice(30).every((l) => /^[a-z_]+: \d+$/.test(l))).toBe(true)
    expect(r.bodyText).toContain(`max_store_bytes: ${16 * 1024 * 1024}\n`)
    expect(r.bodyText).toContain('scope_max_items: 100000\n')
    expect(r.bodyText).toContain(`max_body_bytes_single: ${1024 * 1024 + 4096}\n`)
  })

  it('/metrics: Prometheus text with hits, misses, writes, rejections, latency and store gauges', async () => {
    const s = fresh()
    const m0 = (await get('/metrics')).bodyText
    await append(s, '1', 'a')
    await get(`/get?scope=${s}&id=a`)
    await get(`/get?scope=${s}&id=b`)
    await get('/nope')
    const r = await get('/metrics')
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const m = r.bodyText
    const value = (text: string, series: string): number => Number(new RegExp(`^${escapeRe(series)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    expect(value(m, 'scopecache_hits_total')).toBe(value(m0, 'scopecache_hits_total') + 1)
    expect(value(m, 'scopecache_misses_total')).toBe(value(m0, 'scopecache_misses_total') + 1)
    expect(value(m, 'scopecache_writes_total')).toBe(value(m0, 'scopecache_writes_total') + 1)
    expect(value(m, 'scopecache_rejections_total{code="not_found"}')).toBe(value(m0, 'scopecache_rejections_total{code="not_found"}') + 1)
    const stats = json(await get('/stats'))
    expect(value(m, 'scopecache_items')).toBe(stats.items)
    expect(value(m, 'scopecache_scopes')).toBe(stats.scopes)
    expect(m).toMatch(/^scopecache_bytes \d+$/m)
    expect(m).toMatch(/^# TYPE scopecache_request_duration_seconds histogram$/m)
    const count = value(m, 'scopecache_request_duration_seconds_count{endpoint="/append"}')
    expect(count).toBeGreaterThan(0)
    expect(value(m, 'scopecache_request_duration_seconds_bucket{endpoint="/append",le="+Inf"}')).toBe(count)
    expect(value(m, 'scopecache_request_duration_seconds_sum{endpoint="/append"}')).toBeGreaterThan(0)
  })

  it('/metrics on any handler sharing a metrics buffer shows the counts of all', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const buffer = createMetricsBuffer()
    const servers = [http.createServer(createHandler(cache, { metricsBuffer: buffer })), http.createServer(createHandler(ScopeCache.attach(cache.handle), { metricsBuffer: buffer }))]
    try {
      const clients = await Promise.all(servers.map(async (srv) => {
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
        return clientFor('127.0.0.1', (srv.address() as AddressInfo).port)
      }))
      await clients[0].request('POST', '/append', '{"scope":"m","payload":1}')
      await clients[0].request('GET', '/get?scope=m&seq=1')
      await clients[1].request('GET', '/get?scope=m&seq=1')
      await clients[1].request('GET', '/get?scope=m&seq=2')
      for (const cl of clients) {
        const text = (await cl.request('GET', '/metrics')).bodyText
        expect(text).toMatch(/^scopecache_hits_total 2$/m)
        expect(text).toMatch(/^scopecache_misses_total 1$/m)
        expect(text).toMatch(/^scopecache_writes_total 1$/m)
        expect(text).toMatch(/^scopecache_items 1$/m)
      }
      expect(() => createHandler(cache, { metricsBuffer: new SharedArrayBuffer(16) })).toThrow(/createMetricsBuffer/)
    } finally {
      for (const srv of servers) {
        srv.closeAllConnections()
        await new Promise((r) => srv.close(r))
      }
      cache.close()
    }
  })
})

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
