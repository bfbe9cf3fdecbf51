/**
 * Bounded fuzz of the HTTP front (fast-check, fixed seed printed): malformed JSON, invalid UTF-8,
 * huge numbers, deep nesting, wrong types, wrong methods, unknown paths, bad query values, and over
 * raw sockets truncated bodies and lying Content-Lengths. Every answer must be a 4xx with the JSON
 * error body (a truncated body may get no answer at all); the store must hold exactly what the
 * interleaved valid appends put there, pass `checkInvariants`, and keep serving.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTarget, type Target } from './helpers/http-target.js'
import { invariants, storeItems } from './helpers/store-checks.js'

const SEED = 20261201
const RUNS = 1500

let t: Target
beforeAll(async () => {
  t = await startTarget({ cache: { maxStoreBytes: 8 * 1024 * 1024, maxItemBytes: 64 * 1024 } })
})
afterAll(async () => {
  await t.close()
})

// Valid bodies per POST endpoint; corrupting them yields requests that must all be refused.
const VALID: [path: string, body: string][] = [
  ['/append', '{"scope":"fz","id":"k1","payload":{"a":[1,2,"x\\u00e9"],"b":null}}'],
  ['/upsert', '{"scope":"fz","id":"k2","payload":[true,false,-1.5e3]}'],
  ['/update', '{"scope":"fz","seq":1,"payload":"text"}'],
  ['/counter_add', '{"scope":"fz","id":"ctr","by":3}'],
  ['/delete', '{"scope":"fz","id":"k1"}'],
  ['/trim', '{"scope":"fz","max_seq":1}'],
  ['/delete_up_to', '{"scope":"fz","max_seq":1}'],
  ['/drop_scope', '{"prefix":"fz"}'],
  ['/delete_scope', '{"scope":"fz"}'],
  ['/warm', '{"items":[{"scope":"fz","payload":1},{"scope":"fz2","id":"a","payload":{}}]}'],
  ['/rebuild', '{"items":[{"scope":"fz","payload":1}]}'],
  ['/get_many', '{"targets":[{"scope":"fz","id":"k1"},{"scope":"fz","seq":2}]}'],
  // beyond ScopeCache
  ['/touch', '{"scope":"fz","id":"k2","ttl_ms":60000}'],
  ['/scope_ttl', '{"scope":"fz","ttl_ms":60000}'],
  ['/scope_limit', '{"scope":"fz","max_items":5,"when_full":"drop-oldest"}'],
  ['/invalidate', '{"scope":"fz","id":"k2"}'],
  ['/lock', '{"name":"fz:job","lease_ms":1000}'],
  ['/renew', '{"name":"fz:job","token":1,"lease_ms":1000}'],
  ['/unlock', '{"name":"fz:job","token":1}'],
]
const GETS = ['/get', '/render', '/head', '/tail', '/stats', '/scopelist', '/help', '/metrics', '/version']
const POSTS = [...VALID.map(([p]) => p), '/flush', '/wipe']

interface Req {
  kind: 'http' | 'raw' | 'truncated'
  method: string
  path: string
  body?: Buffer
  /** raw: what the Content-Length header claims */
  declared?: number
}

const BAD_UTF8 = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]
// (2^53+1 … 2^64−1 are valid seqs that no item has: http-wire-parity.test.ts)
const HUGE = ['123456789012345678901234567890', '1e400', '-9007199254740993', '-0.5', '18446744073709551616', '1.0']
const WRONG = ['5', 'true', '[]', '{}', '"x"', '-1']

const endpointBody = fc.constantFrom(...VALID)

const truncatedJson = endpointBody.chain(([path, body]) =>
  fc.integer({ min: 0, max: body.length - 1 }).map((cut): Req => ({ kind: 'http', method: 'POST', path, body: Buffer.from(body.slice(0, cut)) })))

/**
 * Where bad bytes may go into a body so that it must be refused: anywhere but inside a member's
 * name (a name that is not UTF-8 is an unknown field, ignored as the reference ignores it).
 */
function outsideKeys(body: string): number[] {
  const inKey = new Set<number>()
  for (const m of body.matchAll(/"(?:[^"\\]|\\.)*"\s*:/g)) for (let k = m.index + 1; k <= m.index + m[0].lastIndexOf('"'); k++) inKey.add(k)
  return Array.from({ length: body.length + 1 }, (_, i) => i).filter((i) => !inKey.has(i))
}

const badUtf8 = fc.tuple(endpointBody, fc.constantFrom(...BAD_UTF8), fc.nat()).map(([[path, body], bytes, at]): Req => {
  const b = Buffer.from(body)
  const places = outsideKeys(body)
  const i = places[at % places.length]
  return { kind: 'http', method: 'POST', path, body: Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]) }
})

const hugeNumber = fc.tuple(fc.constantFrom(
  ['/delete', (n: string) => `{"scope":"fz","seq":${n}}`],
  ['/update', (n: string) => `{"scope":"fz","seq":${n},"payload":1}`],
  ['/counter_add', (n: string) => `{"scope":"fz","id":"ctr","by":${n}}`],
  ['/trim', (n: string) => `{"scope":"fz","max_seq":${n}}`],
  ['/trim', (n: string) => `{"scope":"fz","keep":${n === '1.0' ? '-3' : n}}`],
  ['/append', (n: string) => `{"scope":"fz","seq":${n},"payload":1}`],
  ['/get_many', (n: string) => `{"targets":[{"scope":"fz","seq":${n}}]}`],
  ['/upsert', (n: string) => `{"scope":"fz","id":"t","payload":1,"ttl_ms":${n}}`],
  ['/touch', (n: string) => `{"scope":"fz","id":"k2","ttl_ms":${n}}`],
  ['/scope_limit', (n: string) => `{"scope":"fz","max_items":${n}}`],
  ['/lock', (n: string) => `{"name":"fz:job","lease_ms":${n}}`],
  ['/delete', (n: string) => `{"scope":"fz","id":"k1","if_version":${n}}`],
) as fc.Arbitrary<[string, (n: string) => string]>, fc.constantFrom(...HUGE)).map(([[path, make], n]): Req => ({ kind: 'http', method: 'POST', path, body: Buffer.from(make(n)) }))

const deepNesting = fc.tuple(fc.constantFrom('/append', '/upsert', '/warm'), fc.integer({ min: 10_000, max: 12_000 }), fc.boolean()).map(([path, depth, arrays]): Req => {
  const open = arrays ? '['.repeat(depth) : '{"a":'.repeat(depth)
  const close = arrays ? ']'.repeat(depth) : '}'.repeat(depth)
  const payload = open + '1'.slice(arrays ? 1 : 0) + close
  const body = path === '/warm' ? `{"items":[{"scope":"fz","payload":${payload}}]}` : `{"scope":"fz","id":"d","payload":${payload}}`
  return { kind: 'http', method: 'POST', path, body: Buffer.from(body) }
})

const wrongType = fc.tuple(fc.constantFrom(
  ['/append', (v: string) => `{"scope":${v === '"x"' ? '7' : v},"payload":1}`],
  ['/append', (v: string) => `{"scope":"fz","id":${v === '"x"' ? '7' : v},"payload":1}`],
  ['/upsert', (v: string) => `{"scope":"fz","id":${v === '"x"' ? '[1]' : v},"payload":1}`],
  ['/warm', (v: string) => `{"items":${v === '[]' ? '[7]' : v}}`],
  ['/get_many', (v: string) => `{"targets":${v === '[]' ? '[[]]' : v}}`],
  ['/delete', (v: string) => `{"scope":"fz","seq":${v === '5' ? '"5"' : v}}`],
) as fc.Arbitrary<[string, (v: string) => string]>, fc.constantFrom(...WRONG)).map(([[path, make], v]): Req => ({ kind: 'http', method: 'POST', path, body: Buffer.from(make(v)) }))

const notJson = fc.tuple(fc.constantFrom(...POSTS.filter((p) => p !== '/flush' && p !== '/wipe')), fc.string({ maxLength: 40 })).filter(([, s]) => {
  try {
    const v = JSON.parse(s)
    return v === null || typeof v !== 'object' || Array.isArray(v)
  } catch {
    return true
  }
}).map(([path, s]): Req => ({ kind: 'http', method: 'POST', path, body: Buffer.from(s) }))

const wrongMethod = fc.oneof(
  fc.tuple(fc.constantFrom(...GETS), fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'HEAD')),
  fc.tuple(fc.constantFrom(...POSTS), fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'HEAD')),
).map(([path, method]): Req => ({ kind: 'http', method, path, body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from('{"scope":"fz","payload":1}') }))

const unknownPath = fc.oneof(
  fc.constantFrom('/', '/gett', '/get/', '/Append', '/stats/', '//get', '/get%20', '/metrics/x'),
  fc.stringMatching(/^\/[a-z_]{1,12}$/).filter((p) => !GETS.includes(p) && !POSTS.includes(p)),
).chain((path) => fc.constantFrom('GET', 'POST').map((method): Req => ({ kind: 'http', method, path, body: method === 'POST' ? Buffer.from('{}') : undefined })))

// queries that are wrong for their endpoint
const BAD_QUERIES: [string, string][] = [
  ...['/get', '/render'].flatMap((p) => ['seq=0', 'seq=-1', 'seq=x', 'seq=1&id=a', '', 'seq=99999999999999999999999', 'id=%FF', 'id=%C3%28', 'seq=1&seq=x&id=b']
    .map((q): [string, string] => [p, q])),
  ['/get', 'id=a&envelope=maybe'],
  ...['offset=1', 'limit=0', 'limit=-5', 'limit=abc', 'after_seq=-1', 'after_seq=x', 'limit=99999999999999999999'].map((q): [string, string] => ['/head', q]),
  ...['limit=0', 'limit=-5', 'limit=abc', 'offset=-1', 'offset=x'].map((q): [string, string] => ['/tail', q]),
  ...['prefix=%FF', 'after=%20x', 'limit=0'].map((q): [string, string] => ['/scopelist', q]),
  ['/version', ''],
]
const badQuery = fc.constantFrom(...BAD_QUERIES).map(([path, q]): Req => ({
  kind: 'http', method: 'GET', path: path === '/scopelist' || path === '/version' ? `${path}?${q}` : `${path}?scope=fz${q === '' ? '' : '&' + q}`,
}))

/**
 * Fewer bytes than declared, then the client half-closes: no write, and at most a 4xx. The declared
 * body ends in padding, so the bytes that did arrive often form a complete, valid JSON object (the
 * Go original stores those).
 */
const truncatedBody = fc.tuple(endpointBody, fc.integer({ min: 1, max: 8 })).chain(([[path, body], pad]) =>
  fc.integer({ min: 0, max: body.length + pad - 1 }).map((cut): Req => ({
    kind: 'truncated', method: 'POST', path, body: Buffer.from((body + ' '.repeat(pad)).slice(0, cut)), declared: body.length + pad,
  })))

/** A Content-Length shorter than the body: the rest is parsed as a second (garbage) request. */
const shortLength = endpointBody.chain(([path, body]) =>
  fc.integer({ min: 1, max: body.length - 1 }).map((declared): Req => ({ kind: 'raw', method: 'POST', path, body: Buffer.from(body), declared })))

type Action = { req: Req } | { append: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: truncatedJson.map((req) => ({ req })) },
  { weight: 3, arbitrary: badUtf8.map((req) => ({ req })) },
  { weight: 2, arbitrary: hugeNumber.map((req) => ({ req })) },
  { weight: 1, arbitrary: deepNesting.map((req) => ({ req })) },
  { weight: 2, arbitrary: wrongType.map((req) => ({ req })) },
  { weight: 2, arbitrary: notJson.map((req) => ({ req })) },
  { weight: 2, arbitrary: wrongMethod.map((req) => ({ req })) },
  { weight: 2, arbitrary: unknownPath.map((req) => ({ req })) },
  { weight: 2, arbitrary: badQuery.map((req) => ({ req })) },
  { weight: 1, arbitrary: truncatedBody.map((req) => ({ req })) },
  { weight: 1, arbitrary: shortLength.map((req) => ({ req })) },
  { weight: 2, arbitrary: fc.nat(1e9).map((n) => ({ append: n })) },
)

interface RawAnswer {
  status: number
  body: string
}

/** Splits what a server sent on one connection into its responses (Content-Length framed). */
function parseRaw(text: string): RawAnswer[] {
  const out: RawAnswer[] = []
  let rest = text
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    if (!rest.startsWith('HTTP/1.1 ') || end < 0) throw new Error(`unparsable answer: ${JSON.stringify(rest.slice(0, 200))}`)
    const head = rest.slice(0, end)
    const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN)
    if (!Number.isFinite(len)) throw new Error(`answer without Content-Length: ${JSON.stringify(head)}`)
    out.push({ status: Number(head.slice(9, 12)), body: Buffer.from(rest.slice(end + 4, end + 4 + len), 'latin1').toString('utf8') })
    rest = rest.slice(end + 4 + len)
  }
  return out
}

function expectJsonError(status: number, body: string, what: string): void {
  expect(status >= 400 && status < 500, `${what} → ${status} ${body}`).toBe(true)
  const parsed = JSON.parse(body)
  expect(Object.keys(parsed).slice(0, 2), what).toEqual(['ok', 'error'])
  expect(parsed.ok).toBe(false)
  expect(typeof parsed.error).toBe('string')
  expect(body.endsWith('}\n')).toBe(true)
}

it(`malformed requests get JSON 4xx answers and leave no partial write (seed ${SEED}, ${RUNS} runs)`, async () => {
  console.log(`http-fuzz: fast-check seed ${SEED}, ${RUNS} runs`)
  let expected = await storeItems(t)
  let runs = 0
  const kinds = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(action, async (a) => {
      runs++
      if ('append' in a) {
        const r = await t.request('POST', '/append', `{"scope":"ok${a.append % 7}","payload":{"n":${a.append}}}`)
        expect(r.status, r.bodyText).toBe(200)
        expected++
      } else {
        const { req } = a
        kinds.set(req.kind, (kinds.get(req.kind) ?? 0) + 1)
        const what = `${req.kind} ${req.method} ${req.path} ${JSON.stringify(req.body?.toString('latin1').slice(0, 80))}`
        if (req.kind === 'http') {
          const r = await t.request(req.method, req.path, req.body)
          if (req.method === 'HEAD') expect(r.status, what).toBe(405)
          else expectJsonError(r.status, r.bodyText, what)
        } else {
          const head = `${req.method} ${req.path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${req.declared}\r\n\r\n`
          const text = await t.raw(Buffer.concat([Buffer.from(head), req.body as Buffer]), { endAfterWrite: true })
          const answers = parseRaw(text)
          if (req.kind === 'raw') expect(answers.length, what).toBeGreaterThan(0)
          for (const ans of answers) expectJsonError(ans.status, ans.body, what)
        }
      }
      expect(await storeItems(t)).toBe(expected)
      if (runs % 250 === 0) invariants(t)
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  )
  invariants(t)
  expect(await storeItems(t)).toBe(expected)
  expect(kinds.get('truncated') ?? 0).toBeGreaterThan(10)
  expect(kinds.get('raw') ?? 0).toBeGreaterThan(10)
  // the server keeps serving
  const r = await t.request('POST', '/append', '{"scope":"after","payload":1}')
  expect(r.status).toBe(200)
  expect((await t.request('GET', '/get?scope=after&seq=1')).bodyText).toBe('1')
}, 60_000)

it('a body longer than its Content-Length: the declared request is answered (and applied), the rest closes the connection', async () => {
  const before = await storeItems(t)
  const body = '{"scope":"cl","payload":1}'
  const text = await t.raw(`POST /append HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}GARBAGE / HTTP/1.1\r\n\r\n`)
  const answers = parseRaw(text)
  expect(answers.length).toBe(1)
  expect(answers[0].status).toBe(200)
  expect(JSON.parse(answers[0].body).item).toMatchObject({ scope: 'cl', seq: 1 })
  expect(await storeItems(t)).toBe(before + 1)
  // garbage on a fresh connection: a JSON 400
  const bad = parseRaw(await t.raw('NOT HTTP\r\n\r\n'))
  expect(bad.map((a) => a.status)).toEqual([400])
  expectJsonError(bad[0].status, bad[0].body, 'garbage request line')
})
