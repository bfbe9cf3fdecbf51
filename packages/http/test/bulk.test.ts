/**
 * The streaming read of /warm and /rebuild `items` (bulk.ts) against the way they were read
 * before issue 10: every element parsed into an object first, then the HTTP rules item by item,
 * then the core's (kept here verbatim as `materialised`). Both feed the same core call, so the
 * comparison covers the items handed on and every error message and its precedence.
 */
import { PassThrough } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { rawJson, ScopeCache, type RawJson, type WarmItem } from '@scopecache/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBody } from '../src/body.js'
import { bulkItems } from '../src/bulk.js'
import { HttpError, INVALID, toHttpError } from '../src/errors.js'
import { getInt, getObjects, getRaw, getString, getUint, parseBody, type JsonObject } from '../src/json-body.js'

/** The read of 0922bbe: every element an object in memory before any rule is checked. */
function materialised(b: JsonObject, path: string): WarmItem[] {
  const items = getObjects(b, 'items') ?? []
  return items.map((it, i) => {
    const scope = getString(it, 'scope') ?? ''
    if (scope === '') throw new HttpError('invalid_input', `scope '', item at index ${i}: ${INVALID}the 'scope' field is required for the '${path}' endpoint`)
    const managed = (field: string): HttpError =>
      new HttpError('invalid_input', `scope '${scope}', item at index ${i}: ${INVALID}the '${field}' field is managed by the cache and must not be provided to the '${path}' endpoint`)
    if ((getUint(it, 'seq') ?? 0) !== 0) throw managed('seq')
    if ((getInt(it, 'ts') ?? 0) !== 0) throw managed('ts')
    const p = getRaw(it, 'payload')
    return { scope, id: getString(it, 'id') ?? null, payload: (p === undefined ? undefined : rawJson(p)) as RawJson } // undefined: the core rejects it
  })
}

const cache = ScopeCache.create({ maxStoreBytes: 4 << 20, maxItemBytes: 2048, scopeMaxItems: 50 })

const payloadText = (p: unknown): string => {
  const j = (p as { json: string | Uint8Array }).json
  return typeof j === 'string' ? j : Buffer.from(j).toString('utf8')
}

/** What a body comes to: the items handed on and the core's verdict, or the error answer (status and message). */
function outcome(body: Uint8Array | string, read: (b: JsonObject, path: string) => WarmItem[], path = '/rebuild'): string {
  try {
    const items = read(parseBody(body), path)
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
      .toBe('400 scope \'é\n\', item at index 0: scopecache: invalid input: the \'scope\' field must not have leading or trailing whitespace')
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
    expect(same('{"items":[{"scope":"a","payload":1},{}]}', '/warm')).toBe("400 scope '', item at index 1: scopecache: invalid input: the 'scope' field is required for the '/warm' endpoint")
  })

  it('agrees with the materialised read on generated bodies with at most one fault (property)', () => {
    const key = fc.constantFrom('a', 'b', 'é', 'x:y', '\\u0062')
    const valid = fc.record({ scope: key, id: fc.option(fc.string({ minLength: 1, maxLength: 4 }).map((s) => s.replace(/[^a-z]/g, 'q')), { nil: undefined }), payload: fc.jsonValue().filter((v) => v !== null) })
    const faults: string[] = [
      '1', '[]', 'null', '{}', '{"scope":null,"payload":1}', '{"scope":7,"payload":1}', '{"scope":"f","seq":2,"payload":1}', '{"scope":"f","seq":"2"}',
      '{"scope":"f","ts":-1,"payload":1}', '{"scope":"f","ts":0.5}', '{"scope":"f","id":5,"payload":1}', '{"scope":"f","id":"a\\u0001","payload":1}',
      '{"scope":" f","payload":1}', '{"scope":"f"}', '{"scope":"f","payload":null}', '{"scope":"f","seq":0,"ts":0,"id":"","payload":0}',
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
    expect(outcome(Buffer.from([...Buffer.from('{"items":[{"scope":"'), 0xc3, ...Buffer.from('","payload":1}]}')]), bulkItems)).toBe('400 the request body must be valid UTF-8')
  })

  it('an invalid element after many valid ones: found before any item is built, in one pass per rule set', () => {
    const valid = '{"scope":"s","payload":1},'.repeat(200_000)
    const t0 = performance.now()
    expect(outcome(`{"items":[${valid}{}]}`, bulkItems)).toBe("400 scope '', item at index 200000: scopecache: invalid input: the 'scope' field is required for the '/rebuild' endpoint")
    expect(performance.now() - t0).toBeLessThan(20_000)
  })
})
