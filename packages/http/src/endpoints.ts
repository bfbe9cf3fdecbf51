/**
 * Every endpoint of the HTTP API (packages/http/README.md; ScopeCache v0.8.32 where it is silent):
 * what it takes, what it checks before the core does (the checks whose messages the reference
 * words differently from the core), and the exact response text. An endpoint returns its 200
 * body — a JSON string, raw bytes (`/get`, `/render`), or null for a raw miss (404, empty) — and
 * throws an HttpError or a core error for everything else; the handler turns those into answers.
 */
import { LIMITS, MESSAGES, type RawJson, type ScopeCache } from '@scopecache/core' // payload as RawJson: writeFields has checked it is present (only a payload-less endpoint leaves it undefined)
import { badField, badRequest, HttpError, responseTooLarge } from './errors.js'
import { bulkItems } from './bulk.js'
import { readItem } from './item-read.js'
import { ifVersion, invalidate, lock, renew, scopeLimit, scopeTtl, touch, ttlMs, unlock, version } from './beyond.js'
import { getInt, getObjects, getString, getUint, type JsonObject, type Span } from './json-body.js'
import { checkKey } from './keys.js'
import type { Limits } from './limits.js'
import { intParam, param, parseQuery, readParams, uintParam, type Query } from './query.js'
import { queryScope, scopeValue, refValue, limitParam, envelopeParam, envelopeValue } from './fields.js'
import { bodyKeyProblem, SPEC, writeFields } from './write-fields.js'
import { approxResponseMb, itemJson, itemJsonQuoted, mb, metaJson, quote, scopeRowJson } from './wire.js'

/** Read/write tallies an endpoint reports (the metrics implement it). */
export interface Tally {
  hit(): void
  miss(): void
  write(): void
}

export interface Ctx {
  cache: ScopeCache
  limits: Limits
  tally: Tally
  /** Set by `/get` and `/render` (`answers: 'payload'`): the string answered is the raw payload, not JSON. */
  raw: boolean
}

export type BodyKind = 'none' | 'single' | 'bulk' | 'get_many' | 'ignored'

export interface Endpoint {
  /** Canonical name: the metrics label and the index into ENDPOINT_NAMES. */
  name: string
  index: number
  method: 'GET' | 'POST'
  body: BodyKind
  /** 'payload': the answer is raw payload text when `ctx.raw` (set by the endpoint), else JSON. */
  answers: 'json' | 'payload'
  /** The 200 answer (null: a raw miss, 404); the query string is `url[qs…]` (qs: after the `?`, or url.length). */
  run(ctx: Ctx, path: string, url: string, qs: number, body: JsonObject | null): string | null
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const MAX_TARGETS = LIMITS.maxGetManyTargets
const OK_NL = '}\n'

/** A stored JSON-string payload decoded one level (`"a\u00e9"` → `aé`); any other payload verbatim. */
const rendered = (text: string): string => (text.charCodeAt(0) !== 0x22 ? text : (JSON.parse(text) as string))

/** Byte length of `s` is over `cap`? (chars ≤ bytes ≤ 3 × chars, so most answers need no count.) */
const over = (s: string, cap: number): boolean => s.length > cap || (s.length * 3 > cap && Buffer.byteLength(s) > cap)

// ---------------------------------------------------------------------------- reads ----

const GET_PARAMS = ['scope', 'id', 'seq', 'envelope'] as const
const RENDER_PARAMS = ['scope', 'id', 'seq'] as const
const params: (string | undefined)[] = []

/**
 * `/get` and `/render` (`envelopes`: whether `envelope=` is read): the query scanned for its few
 * parameters only (no Query map), the payload text spliced or answered as it comes from the store.
 */
function get(ctx: Ctx, path: string, url: string, qs: number, envelopes: boolean): string | null {
  readParams(url, qs, envelopes ? GET_PARAMS : RENDER_PARAMS, params)
  const envelope = envelopes && envelopeValue(params[3]) // (its 400 comes before the scope's, as ever)
  const scope = scopeValue(params[0], path)
  const ref = refValue(params[1], params[2])
  const reachable = !('seq' in ref) || ref.seq <= MAX_SAFE
  ctx.raw = !envelope
  if (!envelope) {
    const text = reachable ? ctx.cache.getRaw(scope, ref) : undefined
    if (text === undefined) {
      ctx.tally.miss()
      return null
    }
    ctx.tally.hit()
    return rendered(text)
  }
  const it = reachable ? readItem(ctx.cache, scope, ref) : undefined
  if (it === undefined) {
    ctx.tally.miss()
    return '{"ok":true,"hit":false,"count":0,"item":null,"approx_response_mb":' + approxResponseMb(80) + OK_NL
  }
  ctx.tally.hit()
  const head = '{"ok":true,"hit":true,"count":1,"item":' + itemJson(scope, it.id, it.seq, it.ts, it.text, it.expiresTs)
  return head + ',"approx_response_mb":' + approxResponseMb(head.length) + OK_NL
}

function getMany(ctx: Ctx, path: string, q: Query, b: JsonObject): string {
  const envelope = envelopeParam(q)
  const targets = getObjects(b, 'targets')
  if (targets === undefined || targets.length === 0) throw badField(`the 'targets' field must be a non-empty array for the '${path}' endpoint`)
  if (targets.length > MAX_TARGETS) throw badField(`the 'targets' array must not hold more than ${MAX_TARGETS} targets`)
  const refs = targets.map((t, i) => {
    const at = (reason: string): HttpError => badField(`target at index ${i}: ${reason}`)
    const scope = getString(t, 'scope')
    const rawId = getString(t, 'id')
    const seq = getUint(t, 'seq') || undefined
    if (scope === undefined || scope === '') throw at(MESSAGES.scopeRequired)
    const sv = t.members.get('scope') as Span
    const sp = bodyKeyProblem(t, scope, sv.start, sv.end, 'scope')
    if (sp !== null) throw at(sp)
    const id = rawId === '' ? undefined : rawId
    if ((id === undefined) === (seq === undefined)) throw at(MESSAGES.oneOfIdOrSeq)
    if (id !== undefined) {
      const iv = t.members.get('id') as Span
      const ip = bodyKeyProblem(t, id, iv.start, iv.end, 'id')
      if (ip !== null) throw at(ip)
    }
    return { scope, id, seq }
  })
  const cap = ctx.limits.responseBytes
  const parts: string[] = []
  let size = 0
  for (const r of refs) {
    const ref = r.id !== undefined ? { id: r.id } : { seq: r.seq as number }
    const reachable = r.id !== undefined || (r.seq as number) <= MAX_SAFE
    let part: string
    if (envelope) {
      const it = reachable ? readItem(ctx.cache, r.scope, ref) : undefined
      part = it === undefined ? '{"hit":false,"item":null}' : '{"hit":true,"item":' + itemJson(r.scope, it.id, it.seq, it.ts, it.text, it.expiresTs) + '}'
      if (it === undefined) ctx.tally.miss()
      else ctx.tally.hit()
    } else {
      const text = reachable ? ctx.cache.getRaw(r.scope, ref) : undefined
      part = text ?? 'null'
      if (text === undefined) ctx.tally.miss()
      else ctx.tally.hit()
    }
    size += part.length + 1
    if (size > cap) throw responseTooLarge(size, cap)
    parts.push(part)
  }
  const body = envelope ? '{"ok":true,"count":' + refs.length + ',"results":[' + parts.join(',') + ']}\n' : '[' + parts.join(',') + ']\n'
  if (over(body, cap)) throw responseTooLarge(Buffer.byteLength(body), cap)
  return body
}

/** `{"ok":true,"hit":…,"count":…[,"offset":…],"truncated":…,"items":[…],"approx_response_mb":…}` */
function page(ctx: Ctx, scope: string, items: { id: string | null; seq: number; ts: number; expiresTs: number | null; payload: string }[], truncated: boolean, offset: string | null): string {
  const cap = ctx.limits.responseBytes
  const n = items.length
  if (n > 0) ctx.tally.hit()
  else ctx.tally.miss()
  let body = '{"ok":true,"hit":' + (n > 0) + ',"count":' + n + (offset === null ? '' : ',"offset":' + offset) + ',"truncated":' + truncated + ',"items":['
  const q = quote(scope)
  for (let k = 0; k < n; k++) {
    const it = items[k]
    body += (k === 0 ? '' : ',') + itemJsonQuoted(q, it.id, it.seq, it.ts, it.payload, it.expiresTs)
    if (body.length > cap) throw responseTooLarge(body.length, cap)
  }
  body += ']'
  if (over(body, cap)) throw responseTooLarge(Buffer.byteLength(body), cap)
  return body + ',"approx_response_mb":' + approxResponseMb(body.length) + OK_NL
}

function head(ctx: Ctx, path: string, q: Query): string {
  const scope = queryScope(q, path)
  if (q.has('offset')) throw badRequest("the 'offset' parameter is not supported on /head; use 'after_seq' instead, or call /tail for position-based paging")
  const after = uintParam(q, 'after_seq', MESSAGES.afterSeqUnsigned) ?? 0
  const limit = limitParam(q)
  const p = ctx.cache.head<string>(scope, { afterSeq: Math.min(after, MAX_SAFE), limit, raw: true })
  return page(ctx, scope, p.items, p.truncated, null)
}

function tail(ctx: Ctx, path: string, q: Query): string {
  const scope = queryScope(q, path)
  const limit = limitParam(q)
  const offset = intParam(q, 'offset', MESSAGES.offsetNonNegative) ?? 0
  if (offset < 0) throw badRequest(MESSAGES.offsetNonNegative)
  const p = ctx.cache.tail<string>(scope, { limit, offset: Math.min(offset, MAX_SAFE), raw: true })
  const echo = offset <= MAX_SAFE ? String(offset) : BigInt(param(q, 'offset') as string).toString()
  return page(ctx, scope, p.items, p.truncated, echo)
}

function stats(ctx: Ctx): string {
  const s = ctx.cache.stats()
  return '{"ok":true,"scopes":' + s.scopes + ',"items":' + s.items + ',"approx_store_mb":' + mb(s.bytes) + ',"last_write_ts":' + s.lastWriteTs + OK_NL
}

function scopeList(ctx: Ctx, _path: string, q: Query): string {
  const prefix = param(q, 'prefix')
  const after = param(q, 'after')
  if (prefix !== undefined) checkKey(prefix, 'prefix')
  if (after !== undefined) checkKey(after, 'after')
  const limit = limitParam(q)
  const r = ctx.cache.scopeList({ prefix, after, limit })
  const cap = ctx.limits.responseBytes
  const rows = r.scopes.map(scopeRowJson)
  const head = '{"ok":true,"hit":' + (rows.length > 0) + ',"count":' + rows.length + ',"truncated":' + r.truncated + ',"scopes":[' + rows.join(',') + ']'
  if (over(head, cap)) throw responseTooLarge(Buffer.byteLength(head), cap)
  return head + ',"approx_response_mb":' + approxResponseMb(head.length) + OK_NL
}

// --------------------------------------------------------------------------- writes ----

function append(ctx: Ctx, path: string, b: JsonObject): string {
  const { scope, ref, payload } = writeFields(b, path, SPEC.append)
  const meta = ctx.cache.append(scope, payload as RawJson, { id: ref === undefined ? undefined : (ref as { id: string }).id, ifVersion: ifVersion(b), ttlMs: ttlMs(b) })
  ctx.tally.write()
  return '{"ok":true,"created":true,"item":' + metaJson(meta) + OK_NL
}

function upsert(ctx: Ctx, path: string, b: JsonObject): string {
  const { scope, ref, payload } = writeFields(b, path, SPEC.upsert)
  const r = ctx.cache.upsert(scope, (ref as { id: string }).id, payload as RawJson, { ifVersion: ifVersion(b), ttlMs: ttlMs(b) })
  ctx.tally.write()
  return '{"ok":true,"created":' + r.created + ',"item":' + metaJson(r.item) + OK_NL
}

/** Whether a write's address can name an item at all (a seq above 2^53−1 names none: a miss). */
const reachable = (ref: { id: string } | { seq: number }): boolean => !('seq' in ref) || ref.seq <= MAX_SAFE
/** The address for the core: a seq above 2^53−1 becomes one no item has (a miss; an if_version is still checked). */
const reachableRef = (ref: { id: string } | { seq: number }): { id: string } | { seq: number } => (reachable(ref) ? ref : { seq: MAX_SAFE })

function update(ctx: Ctx, path: string, b: JsonObject): string {
  const { scope, ref, payload } = writeFields(b, path, SPEC.update)
  const to = ref as { id: string } | { seq: number }
  const fence = ifVersion(b)
  const ttl = ttlMs(b)
  const n = reachable(to) || fence !== undefined ? ctx.cache.update(scope, reachableRef(to), payload as RawJson, { ifVersion: fence, ttlMs: ttl }) : 0
  if (n > 0) ctx.tally.write()
  return '{"ok":true,"created":false,"count":' + n + OK_NL
}

function counterAdd(ctx: Ctx, path: string, b: JsonObject): string {
  const by = getInt(b, 'by') ?? 1
  const { scope, ref } = writeFields(b, path, SPEC.counter)
  if (by === 0 || !Number.isSafeInteger(by)) throw badField(MESSAGES.byNonZero)
  const { created, value } = ctx.cache.counter(scope, (ref as { id: string }).id, by) // one locked write says whether it created the item
  ctx.tally.write()
  return '{"ok":true,"created":' + created + ',"value":' + value + OK_NL
}

function del(ctx: Ctx, path: string, b: JsonObject): string {
  const { scope, ref } = writeFields(b, path, SPEC.delete)
  const to = ref as { id: string } | { seq: number }
  const fence = ifVersion(b)
  const n = reachable(to) || fence !== undefined ? ctx.cache.delete(scope, reachableRef(to), { ifVersion: fence }) : 0
  if (n > 0) ctx.tally.write()
  return '{"ok":true,"hit":' + (n > 0) + ',"count":' + n + OK_NL
}

function trim(ctx: Ctx, path: string, b: JsonObject): string {
  const maxSeq = getUint(b, 'max_seq')
  const keep = getInt(b, 'keep')
  const { scope } = writeFields(b, path, SPEC.scopeOnly)
  const maxMsg = `the 'max_seq' field is required and must be a positive integer for the '${path}' endpoint`
  if ((maxSeq === undefined) === (keep === undefined)) {
    throw badField(maxSeq === undefined && path === '/delete_up_to' ? maxMsg : `exactly one of 'max_seq' or 'keep' must be provided for the '${path}' endpoint`)
  }
  let n: number
  if (maxSeq !== undefined) {
    if (maxSeq <= 0) throw badField(maxMsg)
    n = ctx.cache.trim(scope, { maxSeq: Math.min(maxSeq, MAX_SAFE) }) // above 2^53−1: beyond every seq
  } else {
    if ((keep as number) < 0) throw badField(`the 'keep' field must be a non-negative integer for the '${path}' endpoint`)
    n = ctx.cache.trim(scope, { keep: Math.min(keep as number, MAX_SAFE) })
  }
  if (n > 0) ctx.tally.write()
  return '{"ok":true,"hit":' + (n > 0) + ',"count":' + n + OK_NL
}

function dropScope(ctx: Ctx, path: string, b: JsonObject): string {
  const scope = getString(b, 'scope')
  const prefix = getString(b, 'prefix')
  const hasScope = scope !== undefined && scope !== ''
  if (hasScope && prefix !== undefined) throw badField(`exactly one of 'scope' or 'prefix' must be provided for the '${path}' endpoint`)
  if (prefix !== undefined) {
    const pv = b.members.get('prefix') as Span
    const pp = prefix === '' ? null : bodyKeyProblem(b, prefix, pv.start, pv.end, 'prefix')
    if (pp !== null) throw badField(pp)
    const r = ctx.cache.dropPrefix(prefix)
    if (r.scopes > 0) ctx.tally.write()
    return '{"ok":true,"hit":' + (r.scopes > 0) + ',"count":' + r.items + ',"scopes":' + r.scopes + OK_NL
  }
  const r = ctx.cache.dropScope(writeFields(b, path, SPEC.scopeOnly).scope)
  if (r.found) ctx.tally.write()
  return '{"ok":true,"hit":' + r.found + ',"count":' + r.items + ',"scopes":' + (r.found ? 1 : 0) + OK_NL
}

function flush(ctx: Ctx): string {
  const r = ctx.cache.flush()
  ctx.tally.write()
  return '{"ok":true,"scopes":' + r.scopes + ',"items":' + r.items + ',"freed_mb":' + mb(r.bytes) + OK_NL
}

function warm(ctx: Ctx, path: string, b: JsonObject): string {
  const items = bulkItems(b, path, ctx.cache.maxItemBytes)
  if (items.length === 0) return '{"ok":true,"scopes":0}\n'
  const r = ctx.cache.warm(items)
  ctx.tally.write()
  return '{"ok":true,"scopes":' + r.scopes + OK_NL
}

function rebuild(ctx: Ctx, path: string, b: JsonObject): string {
  const items = bulkItems(b, path, ctx.cache.maxItemBytes)
  if (items.length === 0) throw badRequest(`the 'items' array must not be empty for the '${path}' endpoint`)
  const r = ctx.cache.rebuild(items)
  ctx.tally.write()
  return '{"ok":true,"scopes":' + r.scopes + ',"items":' + r.items + OK_NL
}

// ---------------------------------------------------------------------------- table ----

/** Canonical endpoint names in a fixed order (metrics index them); 'unknown' collects 404s. */
export const ENDPOINT_NAMES = [
  '/get', '/get_many', '/head', '/tail', '/append', '/upsert', '/update', '/counter_add', '/warm', '/rebuild',
  '/delete', '/trim', '/drop_scope', '/flush', '/stats', '/scopelist', '/help', '/metrics', '/lock', '/renew', '/unlock',
  '/version', '/invalidate', '/touch', '/scope_ttl', '/scope_limit', 'unknown',
] as const

const at = (name: (typeof ENDPOINT_NAMES)[number]): number => ENDPOINT_NAMES.indexOf(name)

const ep = (name: (typeof ENDPOINT_NAMES)[number], method: 'GET' | 'POST', body: BodyKind, run: Endpoint['run'], answers: Endpoint['answers'] = 'json'): Endpoint =>
  ({ name, index: at(name), method, body, answers, run })

const write = (fn: (ctx: Ctx, path: string, b: JsonObject) => string): Endpoint['run'] =>
  (ctx, path, _url, _qs, b) => fn(ctx, path, b as JsonObject)

const query = (fn: (ctx: Ctx, path: string, q: Query) => string): Endpoint['run'] =>
  (ctx, path, url, qs) => fn(ctx, path, parseQuery(url.slice(qs)))

const GET = ep('/get', 'GET', 'none', (ctx, path, url, qs) => get(ctx, path, url, qs, true), 'payload')
const RENDER = ep('/get', 'GET', 'none', (ctx, path, url, qs) => get(ctx, path, url, qs, false), 'payload')
const GET_MANY = ep('/get_many', 'POST', 'get_many', (ctx, path, url, qs, b) => getMany(ctx, path, parseQuery(url.slice(qs)), b as JsonObject))
const HEAD = ep('/head', 'GET', 'none', query(head))
const TAIL = ep('/tail', 'GET', 'none', query(tail))
const APPEND = ep('/append', 'POST', 'single', write(append))
const UPSERT = ep('/upsert', 'POST', 'single', write(upsert))
const UPDATE = ep('/update', 'POST', 'single', write(update))
const COUNTER_ADD = ep('/counter_add', 'POST', 'single', write(counterAdd))
const WARM = ep('/warm', 'POST', 'bulk', write(warm))
const REBUILD = ep('/rebuild', 'POST', 'bulk', write(rebuild))
const DELETE = ep('/delete', 'POST', 'single', write(del))
const TRIM = ep('/trim', 'POST', 'single', write(trim))
const DROP_SCOPE = ep('/drop_scope', 'POST', 'single', write(dropScope))
const FLUSH = ep('/flush', 'POST', 'ignored', (ctx) => flush(ctx))
const STATS = ep('/stats', 'GET', 'none', (ctx) => stats(ctx))
const SCOPELIST = ep('/scopelist', 'GET', 'none', query(scopeList))
const LOCK = ep('/lock', 'POST', 'single', write((ctx, path, b) => lock(ctx.cache, path, b)))
const RENEW = ep('/renew', 'POST', 'single', write((ctx, path, b) => renew(ctx.cache, path, b)))
const UNLOCK = ep('/unlock', 'POST', 'single', write((ctx, path, b) => unlock(ctx.cache, path, b)))
const VERSION = ep('/version', 'GET', 'none', query((ctx, path, q) => version(ctx.cache, path, q)))
const INVALIDATE = ep('/invalidate', 'POST', 'single', write((ctx, path, b) => {
  const answer = invalidate(ctx.cache, path, b)
  ctx.tally.write()
  return answer
}))
const TOUCH = ep('/touch', 'POST', 'single', write((ctx, path, b) => {
  const answer = touch(ctx.cache, path, b)
  ctx.tally.write()
  return answer
}))
const SCOPE_TTL = ep('/scope_ttl', 'POST', 'single', write((ctx, path, b) => {
  const answer = scopeTtl(ctx.cache, path, b)
  ctx.tally.write()
  return answer
}))
const SCOPE_LIMIT = ep('/scope_limit', 'POST', 'single', write((ctx, path, b) => {
  const answer = scopeLimit(ctx.cache, path, b)
  ctx.tally.write()
  return answer
}))
// served by the handler itself (text, async)
export const HELP = ep('/help', 'GET', 'none', () => null)
export const METRICS = ep('/metrics', 'GET', 'none', () => null)
export const UNKNOWN_INDEX = at('unknown')

/** The endpoint mounted at `path` (aliases included), or undefined. Paths match exactly. */
export function route(path: string): Endpoint | undefined {
  switch (path) {
    case '/get': return GET
    case '/render': return RENDER
    case '/get_many': return GET_MANY
    case '/head': return HEAD
    case '/tail': return TAIL
    case '/append': return APPEND
    case '/upsert': return UPSERT
    case '/update': return UPDATE
    case '/counter_add': return COUNTER_ADD
    case '/warm': return WARM
    case '/rebuild': return REBUILD
    case '/delete': return DELETE
    case '/trim': case '/delete_up_to': return TRIM
    case '/drop_scope': case '/delete_scope': return DROP_SCOPE
    case '/flush': case '/wipe': return FLUSH
    case '/stats': return STATS
    case '/scopelist': return SCOPELIST
    case '/help': return HELP
    case '/metrics': return METRICS
    case '/lock': return LOCK
    case '/renew': return RENEW
    case '/unlock': return UNLOCK
    case '/version': return VERSION
    case '/invalidate': return INVALIDATE
    case '/touch': return TOUCH
    case '/scope_ttl': return SCOPE_TTL
    case '/scope_limit': return SCOPE_LIMIT
    default: return undefined
  }
}

/** Every mounted path with its method and a one-line description (for /help and the README). */
export const PATHS: readonly [path: string, method: 'GET' | 'POST', what: string][] = [
  ['/get', 'GET', '?scope=&(id=|seq=)[&envelope=true] one item: raw payload bytes (404 on miss), or the JSON envelope'],
  ['/render', 'GET', '?scope=&(id=|seq=) alias of raw /get'],
  ['/get_many', 'POST', '{"targets":[{"scope","id"|"seq"},...]} [?envelope=true] up to 1000 items: array of payloads (null on miss)'],
  ['/head', 'GET', '?scope=[&after_seq=][&limit=] oldest first after a seq (cursor read)'],
  ['/tail', 'GET', '?scope=[&limit=][&offset=] newest window, returned oldest first'],
  ['/append', 'POST', '{"scope","id"?,"payload","ttl_ms"?,"if_version"?} a new item'],
  ['/upsert', 'POST', '{"scope","id","payload","ttl_ms"?,"if_version"?} create or replace by id'],
  ['/update', 'POST', '{"scope","id"|"seq","payload","ttl_ms"?,"if_version"?} replace an existing payload'],
  ['/counter_add', 'POST', '{"scope","id","by"?} add to an integer counter (created at 0+by)'],
  ['/warm', 'POST', '{"items":[{"scope","id"?,"payload","ttl_ms"?},...]} replace the listed scopes'],
  ['/rebuild', 'POST', '{"items":[...]} replace the whole store'],
  ['/delete', 'POST', '{"scope","id"|"seq"} one item'],
  ['/trim', 'POST', '{"scope","max_seq"} or {"scope","keep"} remove old items'],
  ['/delete_up_to', 'POST', 'alias of /trim'],
  ['/drop_scope', 'POST', '{"scope"} or {"prefix"} drop whole scopes'],
  ['/delete_scope', 'POST', 'alias of /drop_scope'],
  ['/flush', 'POST', 'empty the store'],
  ['/wipe', 'POST', 'alias of /flush'],
  ['/stats', 'GET', 'store totals'],
  ['/scopelist', 'GET', '?[prefix=][&after=][&limit=] per-scope rows in byte order'],
  ['/help', 'GET', 'this text'],
  ['/metrics', 'GET', 'Prometheus text format'],
  ['/lock', 'POST', '{"name","lease_ms"?} take a named lock if it is free (lease default 5000 ms): {"acquired","token"}'],
  ['/renew', 'POST', '{"name","token","lease_ms"?} extend a lease still held under token'],
  ['/unlock', 'POST', '{"name","token"} release a lock held under token'],
  ['/version', 'GET', '?scope= the scope\'s version fence (moves with every change, never back)'],
  ['/invalidate', 'POST', '{"scope","id"|"seq"?} delete the item (or drop the scope) and move its version'],
  ['/touch', 'POST', '{"scope","id"|"seq","ttl_ms"} a live item expires ttl_ms from now: {"touched":0|1}'],
  ['/scope_ttl', 'POST', '{"scope","ttl_ms"} the TTL of items written to the scope without ttl_ms (null: none)'],
  ['/scope_limit', 'POST', '{"scope","max_items"|null,"when_full"?:"reject"|"drop-oldest"} a per-scope item limit (drop-oldest: a ring of the newest)'],
]

