/**
 * The fields and parameters the endpoints take, each read and checked with the reference's own
 * message (the checks the core words differently): body fields, query parameters, limits.
 */
import { rawJson } from '@scopecache/core'
import { badField, badRequest, type HttpError } from './errors.js'
import { getInt, getRaw, getString, getUint, type JsonObject } from './json-body.js'
import { checkKey } from './keys.js'
import { intParam, param, uintValue, type Query } from './query.js'

const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 10_000

export const required = (field: string, path: string): HttpError => badField(`the '${field}' field is required for the '${path}' endpoint`)

export function bodyScope(b: JsonObject, path: string): string {
  const scope = getString(b, 'scope')
  if (scope === undefined || scope === '') throw required('scope', path)
  return scope
}

export const optionalId = (b: JsonObject): string | undefined => {
  const id = getString(b, 'id')
  return id === '' ? undefined : id
}

/** `seq` and `ts` belong to the cache: non-zero on a write is a 400 (0 counts as absent). */
export function noManaged(b: JsonObject, path: string, seqToo = true): void {
  if (seqToo && (getUint(b, 'seq') ?? 0) !== 0) throw badField(`the 'seq' field is managed by the cache and must not be provided to the '${path}' endpoint`)
  if ((getInt(b, 'ts') ?? 0) !== 0) throw badField(`the 'ts' field is managed by the cache and must not be provided to the '${path}' endpoint`)
}

export function payload(b: JsonObject): ReturnType<typeof rawJson> {
  const p = getRaw(b, 'payload')
  if (p === undefined) throw badField("the 'payload' field is required")
  return rawJson(p)
}

/** Exactly one of id / seq in a body; a seq past 2^53−1 (which no item has) is returned as Infinity. */
export function bodyRef(b: JsonObject, path: string): { id: string } | { seq: number } {
  const id = optionalId(b)
  const seq = getUint(b, 'seq') || undefined
  if ((id === undefined) === (seq === undefined)) throw badField(`exactly one of 'id' or 'seq' must be provided for the '${path}' endpoint`)
  return id !== undefined ? { id } : { seq: seq as number }
}

/** A read's scope parameter; query messages carry no `scopecache: invalid input: ` prefix (as in Go). */
export function queryScope(q: Query, path: string): string {
  return scopeValue(param(q, 'scope'), path)
}

export function scopeValue(scope: string | undefined, path: string): string {
  if (scope === undefined) throw badRequest(`the 'scope' field is required for the '${path}' endpoint`)
  checkKey(scope, 'scope')
  return scope
}

/** The item a read's `id`/`seq` parameters name; a seq past 2^53−1 (no item has one) is Infinity. */
export function refValue(id: string | undefined, seqText: string | undefined): { id: string } | { seq: number } {
  const seq = uintValue(seqText, "the 'seq' parameter must be a valid unsigned integer")
  if ((id === undefined) === (seq === undefined)) throw badRequest("exactly one of 'id' or 'seq' must be provided")
  if (seq === 0) throw badRequest("the 'seq' parameter must be a positive integer")
  if (id !== undefined) {
    checkKey(id, 'id')
    return { id }
  }
  return { seq: seq as number }
}

export function limitParam(q: Query): number {
  const limit = intParam(q, 'limit', "the 'limit' parameter must be a positive integer")
  if (limit === undefined) return DEFAULT_LIMIT
  if (limit <= 0) throw badRequest("the 'limit' parameter must be a positive integer")
  return Math.min(limit, MAX_LIMIT)
}

export function envelopeParam(q: Query): boolean {
  return envelopeValue(param(q, 'envelope'))
}

export function envelopeValue(v: string | undefined): boolean {
  if (v === undefined || v === 'false' || v === '0') return false
  if (v === 'true' || v === '1') return true
  throw badRequest("the 'envelope' parameter must be one of true, 1, false, 0")
}
