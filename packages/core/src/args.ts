/**
 * The argument checks of the public methods (cache.ts): malformed arguments throw `invalid`.
 */
import { invalid } from './errors.js'
import type { GetTarget, ItemRef } from './types.js'
import { keyProblem } from './validate.js'

export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 10_000
export const MAX_GET_MANY = 1000

export function checkScope(scope: unknown): asserts scope is string {
  if (typeof scope !== 'string' || scope === '') throw invalid("the 'scope' field is required")
  checkKey(scope, 'scope')
}

export function checkKey(s: string, field: 'scope' | 'id' | 'prefix'): void {
  const problem = keyProblem(s, field)
  if (problem !== null) throw invalid(problem)
}

export function optionalId(id: unknown): string | null {
  if (id === undefined || id === null || id === '') return null
  if (typeof id !== 'string') throw invalid("the 'id' field must be a string")
  checkKey(id, 'id')
  return id
}

/** The address of a read or write: an id string or a seq number. Malformed calls throw. */
export function checkRef(ref: ItemRef | GetTarget): string | number {
  if (ref === null || typeof ref !== 'object') throw invalid("exactly one of 'id' or 'seq' must be provided")
  const id = ref.id === '' ? undefined : ref.id
  const seq = ref.seq
  if ((id === undefined) === (seq === undefined)) throw invalid("exactly one of 'id' or 'seq' must be provided")
  if (id !== undefined) {
    if (typeof id !== 'string') throw invalid("the 'id' field must be a string")
    return id
  }
  if (!Number.isSafeInteger(seq) || (seq as number) <= 0) throw invalid("the 'seq' parameter must be a positive integer")
  return seq as number
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  if (!Number.isSafeInteger(limit) || limit <= 0) throw invalid("the 'limit' parameter must be a positive integer")
  return Math.min(limit, MAX_LIMIT)
}

