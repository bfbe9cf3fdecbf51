/**
 * The query parameters the read endpoints take, each read and checked with the reference's own
 * message (the checks the core words differently). Body fields: write-fields.ts.
 */
import { LIMITS, MESSAGES } from '@scopecache/core'
import { badRequest } from './errors.js'
import { checkKey } from './keys.js'
import { intParam, param, uintValue, type Query } from './query.js'

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
  if ((id === undefined) === (seq === undefined)) throw badRequest(MESSAGES.oneOfIdOrSeq)
  if (seq === 0) throw badRequest(MESSAGES.seqPositive)
  if (id !== undefined) {
    checkKey(id, 'id')
    return { id }
  }
  return { seq: seq as number }
}

export function limitParam(q: Query): number {
  const limit = intParam(q, 'limit', MESSAGES.limitPositive)
  if (limit === undefined) return LIMITS.defaultLimit
  if (limit <= 0) throw badRequest(MESSAGES.limitPositive)
  return Math.min(limit, LIMITS.maxLimit)
}

export function envelopeParam(q: Query): boolean {
  return envelopeValue(param(q, 'envelope'))
}

export function envelopeValue(v: string | undefined): boolean {
  if (v === undefined || v === 'false' || v === '0') return false
  if (v === 'true' || v === '1') return true
  throw badRequest("the 'envelope' parameter must be one of true, 1, false, 0")
}
