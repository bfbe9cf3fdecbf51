/**
 * The streaming read of /warm and /rebuild `items` (bulk.ts) against a plain one that follows the
 * reference's code (validation.go, bulk.go) line by line (`materialised`): every element parsed into
 * an object first, every field decoded with its type, then item by item its scope's rule when the
 * scope is new, its own rules and its size. Both feed the same core call (duplicates, caps), so the
 * comparison covers the items handed on and every error message and its precedence.
 */
import { PassThrough } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { itemBytes, keyProblem, rawJson, ScopeCache, type WarmItem } from '@scopecache/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBody } from '../src/body.js'
import { bulkItems } from '../src/bulk.js'
import { HttpError, INVALID, toHttpError } from '../src/errors.js'
import { getInt, getObjects, getString, getUint, Kind, parseBody, type JsonObject } from '../src/json-body.js'

const MAX_ITEM = 2048

function materialised(b: JsonObject, path: string): WarmItem[] {
  const decoded = (getObjects(b, 'items') ?? []).map((it) => ({
    scope: getString(it, 'scope') ?? '', id: getString(it, 'id') ?? '', seq: getUint(it, 'seq') ?? 0, ts: getInt(it, 'ts') ?? 0, it,
  }))
  const counts = new Map<string, number>()
  return decoded.map(({ scope, id, seq, ts, it }) => {
    const bytesOk = (name: string): boolean => {
      const v = it.members.get(name)
      try {
        if (v !== undefined) new TextDecoder('utf-8', { fatal: true }).decode(it.bytes.subarray(v.start, v.end))
        return true
      } catch {
        return false
      }
    }
    if (!counts.has(scope)) {
      const why = scope === '' ? `the 'scope' field is required for the '${path}' endpoint` : keyProblem(scope, 'scope') ?? (bytesOk('scope') ? null : "the 'scope' field must be valid UTF-8")
      if (why !== null) throw new HttpError('invalid_input', INVALID + why)
      counts.set(scope, 0)
    }
    const k = counts.get(scope) as number
    counts.set(scope, k + 1)
    const fail = (why: string, code: 'invalid_input' | 'too_large' = 'invalid_input'): never => {
      throw new HttpError(code, `scope '${scope}', item at index ${k}: ${INVALID}${why}`)
    }
    if (id !== '') {
      const why = keyProblem(id, 'id') ?? (bytesOk('id') ? null : "the 'id' field must be valid UTF-8")
      if (why !== null) fail(why)
    }
    const p = it.members.get('payload')
    if (p === undefined || p.kind === Kind.Null) fail("the 'payload' field is required")
    const { kind, start, end } = p as NonNullable<typeof p>
    if (kind === Kind.Bad) fail("the 'payload' field must be a valid JSON value")
    if (!bytesOk('payload')) fail("the 'payload' field must be valid UTF-8")
    if (seq !== 0) fail(`the 'seq' field is managed by the cache and must not be provided to the '${path}' endpoint`)
    if (ts !== 0) fail(`the 'ts' field is managed by the cache and must not be provided to the '${path}' endpoint`)
    const size = itemBytes(Buffer.byteLength(id), end - start)
    if (size > MAX_ITEM) fail(`the item's approximate size (${size} bytes) exceeds the maximum of ${MAX_ITEM} bytes`, 'too_large')
    return { scope, id: id === '' ? null : id, payload: rawJson(it.bytes.toString('utf8', start, end)) }
  })
}

const cache = ScopeCache.create({ maxStoreBytes: 4 << 20, maxItemBytes: MAX_ITEM, scopeMaxItems: 50 })

const payloadText = (p: unknown): string => {
  const j = (p as { json: string | Uint8Array }).json
  return typeof j === 'string' ? j : Buffer.from(j).toString('utf8')
}

/** What a body comes to: the items handed on and the core's verdict, or the error answer (status and message). */
function outcome(body: Uint8Array | string, read: (b: JsonObject, path: string, max: number) => WarmItem[], path = '/rebuild'): string {
  try {
    const items = read(parseBody(body), path, MAX_ITEM)
    const shown = items.map((it) => [it.scope, it.id === '' ? null : it.id, it.payload === undefined ? undefined : payloadText(it.payload)])
    try {
      const r = path === '/rebuild' ? cache.rebuild(items) : cache.warm(items)
      return 'ok ' + JSON.stringify(r) + ' ' + JSON.stringify(shown)
    } catch (e) {
      return `${toHttpError(e).status} ${toHttpError(e).message}`
    }
  } catch (e) {
    const he = toHttpError(e)
    expect(he.code, String(e)).not.toBe('internal')
    return `${he.status} ${he.message}`
  }
}

const same = (body: string, path = '/rebuild'): string => {
  const got = outcome(body, bulkItems, path)
  expect(got, body).toBe(outcome(body, materialised, path))
  return got
}

describe('bulkItems', () => {
  it('reads items, payloads byte-exact, as before', () => {
    expect(same('{"items":[{"scope":"a","id":"x","payload":{ "k" : [1, "é"] }},{"payload":2,"scope":"a"},{"scope":"b","payload":"s"}]}'))
      .toBe('ok {"scopes":2,"items":3} [["a","x","{ \\"k\\" : [1, \\"é\\"] }"],["a",null,"2"],["b",null,"\\"s\\""]]')
    expect(same('{"x":1,"items":[{"sc\\u006fpe":"\\u00e9\\n","payload":1,"payload":[2],"seq":0,"ts":null,"id":"","extra":{"scope":""}}]}'))
      .toBe("400 scopecache: invalid input: the 'scope' field must not have leading or trailing whitespace")
    expect(same('{"items":[{"sc\\u006fpe":"\\u00e9","payload":1,"payload":[2],"seq":0,"ts":null,"id":"","extra":{"scope":""}}]}'))
      .toBe('ok {"scopes":1,"items":1} [["é",null,"[2]"]]')
    for (const body of ['{}', '{"items":null}', '{"items":[{"scope":"a","payload":1}],"items":null}', '{"items":[]}', '{"items": [ ] }']) expect(same(body, '/warm')).toBe('ok {"scopes":0} []')
  })

  it('errors and their precedence, as before', () => {
    const bodies = [
      '{"items":{}}', '{"items":1}', '{"items":[1]}', '{"items":[{},1]}', '{"items":[{"scope":"a","payload":1},[]]}', '{"items":[{},null]}',
      '{"items":[{}]}', '{"items":[{"scope":""}]}', '{"items":[{"scope":null,"payload":1}]}', '{"items":[{"scope":5}]}',
      '{"items":[{"scope":"a","payload":1},{"payload":1}]}', '{"items":[{"scope":"a","seq":3}]}', '{"items":[{"scope":"a","seq":"3"}]}',
      '{"items":[{"scope":"a","seq":-1}]}', '{"items":[{"scope":"a","seq":1.0}]}', '{"items":[{"scope":"a","ts":-2,"payload":1}]}',
      '{"items":[{"scope":"a","ts":1e3}]}', '{"items":[{"scope":"a","id":7,"payload":1}]}', '{"items":[{"scope":"a","id":" x","payload":1}]}',
      '{"items":[{"scope":" a","payload":1},{}]}', '{"items":[{"scope":"a"}]}', '{"items":[{"scope":"a","payload":null}]}',
      '{"items":[{"scope":"a","id":"d","payload":1},{"scope":"a","id":"d","payload":2}]}', `{"items":[{"scope":"${'s'.repeat(257)}","payload":1}]}`,
      `{"items":[{"scope":"a","payload":"${'x'.repeat(3000)}"}]}`, `{"items":[${Array.from({ length: 51 }, () => '{"scope":"c","payload":1}').join(',')}]}`,
      '{"items":[{"scope":"a","payload":1}],"items":[{}]}'
    ]
    for (const body of bodies) expect(same(body)).not.toMatch(/^ok/)
    expect(same('{"items":[{},1]}')).toBe('400 the request body must contain valid JSON')
    expect(same('{"items":[{"scope":"a","payload":1},{}]}', '/warm')).toBe("400 scopecache: invalid input: the 'scope' field is required for the '/warm' endpoint")
    // the index counts within the item's scope; an invalid item comes before an earlier duplicate; a scope over its cap before its duplicates
    expect(same('{"items":[{"scope":"a","payload":1},{"scope":"b","payload":1},{"scope":"b","payload":1,"seq":2}]}'))
      .toBe("400 scope 'b', item at index 1: scopecache: invalid input: the 'seq' field is managed by the cache and must not be provided to the '/rebuild' endpoint")
    expect(same('{"items":[{"scope":"a","id":"d","payload":1},{"scope":"a","id":"d","payload":1},{"scope":"a","payload":1.}]}'))
      .toBe("400 scope 'a', item at index 2: scopecache: invalid input: the 'payload' field must be a valid JSON value")
    expect(same(`{"items":[${Array.from({ length: 51 }, () => '{"scope":"c","id":"d","payload":1}').join(',')}]}`)).toBe('507 scope is at capacity')
    // order within an item: id, payload (required, valid JSON, UTF-8), seq, ts, size
    expect(same('{"items":[{"scope":"a","id":" i","seq":1}]}')).toMatch(/index 0: .*'id' field must not have leading/)
    expect(same('{"items":[{"scope":"a","seq":1,"ts":1}]}')).toMatch(/index 0: .*'payload' field is required$/)
    expect(same('{"items":[{"scope":"a","seq":1,"ts":1,"payload":[1,]}]}')).toMatch(/index 0: .*'payload' field must be a valid JSON value$/)
    expect(same('{"items":[{"scope":"a","ts":1,"seq":1,"payload":1}]}')).toMatch(/index 0: .*'seq' field is managed/)
    expect(same(`{"items":[{"scope":"a","ts":1,"payload":"${'x'.repeat(3000)}"}]}`)).toMatch(/index 0: .*'ts' field is managed/)
    expect(same(`{"items":[{"scope":"a","payload":"${'x'.repeat(3000)}"}]}`)).toMatch(/^400 scope 'a', item at index 0: scopecache: invalid input: the item's approximate size/)
  })

  it('agrees with the materialised read on generated bodies with at most one fault (property)', () => {
    const key = fc.constantFrom('a', 'b', 'é', 'x:y', '\\u0062')
    const valid = fc.record({ scope: key, id: fc.option(fc.string({ minLength: 1, maxLength: 4 }).map((s) => s.replace(/[^a-z]/g, 'q')), { nil: undefined }), payload: fc.jsonValue().filter((v) => v !== null) })
    const faults: string[] = [
      '1', '[]', 'null', '{}', '{"scope":null,"payload":1}', '{"scope":7,"payload":1}', '{"scope":"f","seq":2,"payload":1}', '{"scope":"f","seq":"2"}',
      '{"scope":"f","ts":-1,"payload":1}', '{"scope":"f","ts":0.5}', '{"scope":"f","id":5,"payload":1}', '{"scope":"f","id":"a\\u0001","payload":1}',
      '{"scope":" f","payload":1}', '{"scope":"f"}', '{"scope":"f","payload":null}', '{"scope":"f","seq":0,"ts":0,"id":"","payload":0}',
      '{"scope":"a","payload":01}', '{"scope":"a","payload":"\\x"}', '{"scope":"b","payload":[1,],"seq":1}', '{"scope":"a","id":"z","payload":-}',
      '{"scope":"a","seq":18446744073709551615,"payload":1}', '{"scope":"a","seq":18446744073709551616,"payload":1}', '{"scope":"a","payload":{"a":}}',
    ]
    fc.assert(
      fc.property(fc.array(valid, { maxLength: 8 }), fc.option(fc.tuple(fc.nat(), fc.constantFrom(...faults)), { nil: undefined }), fc.boolean(), (items, fault, spaced) => {
        const parts = items.map((it, i) => {
          const id = it.id === undefined ? '' : `,"id":"${it.id}${i}"` // unique: duplicates are the core's, checked elsewhere
          return `{"scope":"${it.scope}"${id},"payload":${JSON.stringify(it.payload, null, spaced ? 1 : undefined)}}`
        })
        if (fault !== undefined) parts.splice(fault[0] % (parts.length + 1), 0, fault[1])
        same(`{"items":[${parts.join(spaced ? ' ,\n ' : ',')}]}`)
      }),
      { seed: 1010, numRuns: 400 },
    )
  })

  it('the same result wherever the body is split into chunks (every byte position)', async () => {
    const bodies = [
      '{"items":[{"scope":"é€𝄞","id":"ü","payload":{"t":"𝄞é"}},{"scope":"a","payload":[1,2.5e3,true,null,"\\u00e9"]}]}',
      '{"items":[{"scope":"a","payload":1},{"payload":1}]}',
      '{"items":[{"scope":"a","payload":"\u00e9"}]}',
    ]
    const fakeReq = (): PassThrough & IncomingMessage => {
      const s = new PassThrough() as PassThrough & IncomingMessage
      ;(s as { headers: Record<string, string> }).headers = {}
      return s
    }
    for (const text of bodies) {
      const bytes = Buffer.from(text)
      const whole = outcome(bytes, bulkItems)
      for (let cut = 0; cut <= bytes.length; cut++) {
        const req = fakeReq()
        const got = new Promise<Uint8Array>((resolve, reject) => readBody(req, 1 << 20, resolve, reject))
        req.write(bytes.subarray(0, cut))
        req.end(bytes.subarray(cut))
        expect(outcome(await got, bulkItems), `cut at ${cut}`).toBe(whole)
      }
    }
    // a multi-byte character split between chunks is still one character; a broken one is refused
    expect(outcome(Buffer.from([...Buffer.from('{"items":[{"scope":"'), 0xc3, ...Buffer.from('","payload":1}]}')]), bulkItems)).toBe("400 scopecache: invalid input: the 'scope' field must be valid UTF-8")
  })

  it('an invalid element after many valid ones: found before any item is built, in one pass per rule set', () => {
    const valid = '{"scope":"s","payload":1},'.repeat(200_000)
    const t0 = performance.now()
    expect(outcome(`{"items":[${valid}{"scope":"s"}]}`, bulkItems)).toBe("400 scope 's', item at index 200000: scopecache: invalid input: the 'payload' field is required")
    expect(performance.now() - t0).toBeLessThan(20_000)
  })
})
