/**
 * What the HTTP API offers beyond ScopeCache (packages/core/README.md has the semantics):
 *   named locks  `/lock` takes a lease if the name is free (it never waits: an HTTP client retries
 *                or backs off), `/renew` extends it, `/unlock` gives it back;
 *   fences       `GET /version?scope=`, `POST /invalidate`, and the `if_version` field of the
 *                single-item writes (409 when the version moved);
 *   capacity     `POST /scope_limit` sets (or with `"max_items":null` removes) a scope's item limit.
 * The core checks names and scopes; the numbers are checked here with messages that say the range.
 */
import { LIMITS, MESSAGES, type ScopeCache } from '@scopecache/core'
import { badField } from './errors.js'
import { queryScope } from './fields.js'
import { getRaw, getString, getUtf8String, has, Kind, type JsonObject } from './json-body.js'
import type { Query } from './query.js'
import { requiredMessage, SPEC, writeFields } from './write-fields.js'

const required = (field: string, path: string): Error => badField(requiredMessage(field, path))

const MAX_MS = LIMITS.maxLeaseMs // the core's longest lease
const DIGITS = /^[0-9]{1,16}$/

/** A body's optional `if_version`: a version read with `/version` (a non-negative integer). */
export function ifVersion(b: JsonObject): number | undefined {
  const text = getRaw(b, 'if_version')
  if (text === undefined) return undefined
  const v = DIGITS.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(v)) throw badField("the 'if_version' field must be a non-negative integer (a version read with /version)")
  return v
}

export function version(cache: ScopeCache, path: string, q: Query): string {
  return '{"ok":true,"version":' + cache.version(queryScope(q, path)) + '}\n'
}

/**
 * `{"scope"}` drops the scope, `{"scope","id"|"seq"}` deletes one item (checked as `/delete`
 * checks them); both move its version.
 */
export function invalidate(cache: ScopeCache, path: string, b: JsonObject): string {
  const whole = !has(b, 'id') && !has(b, 'seq')
  const { scope, ref: at } = writeFields(b, path, whole ? SPEC.scopeOnly : SPEC.delete)
  let ref = at as { id: string } | { seq: number } | undefined
  if (ref !== undefined && 'seq' in ref && ref.seq > Number.MAX_SAFE_INTEGER) ref = { seq: Number.MAX_SAFE_INTEGER } // no item has it
  const count = cache.invalidate(scope, ref)
  return '{"ok":true,"count":' + count + ',"version":' + cache.version(scope) + '}\n'
}

/**
 * An optional `ttl_ms` (append, upsert, update, warm/rebuild items, /touch): an integer number of
 * ms from 1 to LIMITS.maxTtlMs (ten years); anything else — negative, fractional, a string, an exponent —
 * is a 400 and nothing is stored. `null` is absent, as for every optional field.
 */
export function ttlMs(b: JsonObject): number | undefined {
  const text = getRaw(b, 'ttl_ms')
  return text === undefined ? undefined : ttlText(text)
}

export function ttlText(text: string): number {
  const v = DIGITS.test(text) ? Number(text) : NaN
  if (!(v >= 1 && v <= LIMITS.maxTtlMs)) throw badField(MESSAGES.ttlRange('ttl_ms'))
  return v
}

/** `{"scope","id"|"seq","ttl_ms"}` (the address checked as `/delete` checks it): `{"ok":true,"touched":0|1}`. */
export function touch(cache: ScopeCache, path: string, b: JsonObject): string {
  const { scope, ref } = writeFields(b, path, SPEC.delete)
  const ttl = ttlMs(b)
  if (ttl === undefined) throw required('ttl_ms', path)
  const to = ref as { id: string } | { seq: number }
  const n = 'seq' in to && to.seq > Number.MAX_SAFE_INTEGER ? 0 : cache.touch(scope, to, { ttlMs: ttl })
  return '{"ok":true,"touched":' + n + '}\n'
}

/** `{"scope","ttl_ms"}` sets the scope's default TTL, `"ttl_ms":null` clears it: `{"ok":true,"item_ttl_ms":…}`. */
export function scopeTtl(cache: ScopeCache, path: string, b: JsonObject): string {
  const { scope } = writeFields(b, path, SPEC.scopeOnly)
  const v = b.members.get('ttl_ms')
  if (v === undefined) throw badField(`the 'ttl_ms' field is required for the '${path}' endpoint (null clears the scope's TTL)`)
  const ttl = v.kind === Kind.Null ? null : ttlText(b.bytes.toString('utf8', v.start, v.end))
  cache.setScopeTtl(scope, ttl)
  return '{"ok":true,"item_ttl_ms":' + ttl + '}\n'
}

function name(b: JsonObject, path: string): string {
  const n = getUtf8String(b, 'name')
  if (n === null) throw badField(MESSAGES.badUtf8('name')) // (decoded, two names could become one)
  if (n === undefined || n === '') throw required('name', path)
  return n
}

/** An optional `lease_ms` (default: the core's, 5000). */
function leaseMs(b: JsonObject): number | undefined {
  const text = getRaw(b, 'lease_ms')
  if (text === undefined) return undefined
  const ms = DIGITS.test(text) ? Number(text) : NaN
  if (!(ms >= 1 && ms <= MAX_MS)) throw badField(`the 'lease_ms' field must be an integer from 1 to ${MAX_MS}`)
  return ms
}

function token(b: JsonObject, path: string): number {
  const text = getRaw(b, 'token')
  if (text === undefined) throw required('token', path)
  const t = DIGITS.test(text) ? Number(text) : NaN
  if (!(t >= 1 && Number.isSafeInteger(t))) throw badField(MESSAGES.tokenPositive)
  return t
}

interface Locks {
  tryLock(name: string, opts?: { leaseMs?: number }): { token: number } | null
  renew(name: string, token: number, opts?: { leaseMs?: number }): boolean
  unlock(name: string, token: number): boolean
}

export function lock(cache: Locks, path: string, b: JsonObject): string {
  const g = cache.tryLock(name(b, path), { leaseMs: leaseMs(b) })
  return g === null ? '{"ok":true,"acquired":false}\n' : '{"ok":true,"acquired":true,"token":' + g.token + '}\n'
}

export function renew(cache: Locks, path: string, b: JsonObject): string {
  const n = name(b, path)
  const t = token(b, path)
  return '{"ok":true,"renewed":' + cache.renew(n, t, { leaseMs: leaseMs(b) }) + '}\n'
}

export function unlock(cache: Locks, path: string, b: JsonObject): string {
  const n = name(b, path)
  return '{"ok":true,"released":' + cache.unlock(n, token(b, path)) + '}\n'
}

/**
 * `{"scope","max_items","when_full"?}`: a per-scope item limit (1 … the store's scope_max_items, or
 * null to remove it); `when_full` "reject" (default: 507 scope_full at the limit) or "drop-oldest"
 * (appends drop the oldest items: a ring). Creates a missing scope. → `{"ok":true,"created":bool}`.
 */
export function scopeLimit(cache: ScopeCache, path: string, b: JsonObject): string {
  const { scope } = writeFields(b, path, SPEC.scopeOnly)
  if (!b.members.has('max_items')) throw required('max_items', path)
  const text = getRaw(b, 'max_items') // undefined: null
  let maxItems: number | null = null
  if (text !== undefined) {
    const n = DIGITS.test(text) ? Number(text) : NaN
    if (!(n >= 1 && n <= cache.scopeMaxItems)) throw badField(`the 'max_items' field must be an integer from 1 to ${cache.scopeMaxItems} (scope_max_items), or null`)
    maxItems = n
  }
  const mode = getString(b, 'when_full')
  if (mode !== undefined && mode !== 'reject' && mode !== 'drop-oldest') throw badField("the 'when_full' field must be \"reject\" or \"drop-oldest\"")
  const r = cache.setScopeLimit(scope, { maxItems, whenFull: mode ?? 'reject' })
  return '{"ok":true,"created":' + r.created + '}\n'
}
