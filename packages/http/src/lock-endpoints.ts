/**
 * The named-lock endpoints (beyond ScopeCache, CONTRACT.md): `/lock` takes a lease if the name is
 * free (it never waits: an HTTP client retries or backs off), `/renew` extends it, `/unlock` gives
 * it back. The core checks the name; the numbers are checked here with messages that say the range.
 */
import { badField } from './errors.js'
import { getRaw, getString, type JsonObject } from './json-body.js'
import { required } from './fields.js'

const MAX_MS = 86_400_000 // the core's longest lease: a day
const DIGITS = /^[0-9]{1,16}$/

function name(b: JsonObject, path: string): string {
  const n = getString(b, 'name')
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
  if (!(t >= 1 && Number.isSafeInteger(t))) throw badField("the 'token' field must be a positive integer")
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
