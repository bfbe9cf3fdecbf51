/**
 * The argument checks of the public methods (cache.ts): malformed arguments throw `invalid`.
 */
import { invalid } from './errors.js'
import { LIMITS, MESSAGES } from './limits.js'
import type { GetTarget, ItemRef } from './types.js'
import { keyProblem } from './validate.js'

export const DEFAULT_LIMIT = LIMITS.defaultLimit
export const MAX_LIMIT = LIMITS.maxLimit
export const MAX_GET_MANY = LIMITS.maxGetManyTargets

export function checkScope(scope: unknown): asserts scope is string {
  if (typeof scope !== 'string' || scope === '') throw invalid(MESSAGES.scopeRequired)
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
  if (ref === null || typeof ref !== 'object') throw invalid(MESSAGES.oneOfIdOrSeq)
  const id = ref.id === '' ? undefined : ref.id
  const seq = ref.seq
  if ((id === undefined) === (seq === undefined)) throw invalid(MESSAGES.oneOfIdOrSeq)
  if (id !== undefined) {
    if (typeof id !== 'string') throw invalid("the 'id' field must be a string")
    return id
  }
  if (!Number.isSafeInteger(seq) || (seq as number) <= 0) throw invalid(MESSAGES.seqPositive)
  return seq as number
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  if (!Number.isSafeInteger(limit) || limit <= 0) throw invalid(MESSAGES.limitPositive)
  return Math.min(limit, MAX_LIMIT)
}


/** create's options (open takes them too). */
const CREATE_KEYS = ['maxStoreBytes', 'scopeMaxItems', 'maxItemBytes', 'maxScopes', 'maxThreadSlots', 'maxThreads', 'lockLeaseMs', 'maxLocks', 'expirySweepMs', 'whenFull'] as const

/**
 * The keys every options object of the public API may hold, one row per call. An options object
 * is checked only when one is passed, by one `for…in` over its own few keys (a read without
 * options pays nothing); an unknown key — a typo such as `maxStoreByte` — throws `invalid_input`
 * naming it, instead of being silently ignored.
 */
export const OPTION_KEYS = {
  create: CREATE_KEYS,
  /** ScopeCache.open: the store's name, and create's options (used when this call creates it). */
  open: ['name', ...CREATE_KEYS],
  append: ['id', 'ifVersion', 'ttlMs'],
  upsert: ['ifVersion', 'ttlMs'],
  update: ['ifVersion', 'ttlMs'],
  delete: ['ifVersion'],
  get: ['raw'],
  getMany: ['raw'],
  head: ['afterSeq', 'limit', 'raw'],
  tail: ['limit', 'offset', 'raw'],
  trim: ['maxSeq', 'keep'],
  scopeList: ['prefix', 'after', 'limit'],
  tryLock: ['leaseMs'],
  lock: ['leaseMs', 'waitMs'],
  renew: ['leaseMs'],
  getOrLoad: ['leaseMs', 'waitMs', 'ttlMs'],
  touch: ['ttlMs'],
  setScopeLimit: ['maxItems', 'whenFull'],
} as const satisfies Record<string, readonly string[]>

export type OptionsCall = keyof typeof OPTION_KEYS

/**
 * One checker per call, made once from its row: a `for…in` whose test is up to three string
 * compares with the row's keys (faster than `includes` or a table lookup on the read path).
 */
const CHECKERS = Object.fromEntries(
  (Object.keys(OPTION_KEYS) as OptionsCall[]).map((call) => {
    const [k0 = '', k1 = k0, k2 = k1, ...more] = OPTION_KEYS[call] as readonly string[]
    const check = (opts: object): void => {
      for (const k in opts) if (k !== k0 && k !== k1 && k !== k2 && !more.includes(k)) badKey(call, k)
    }
    return [call, check]
  }),
) as Record<OptionsCall, (opts: object) => void>

function badKey(call: OptionsCall, key: string): never {
  throw invalid(`${call} has no option '${key}' (it takes ${OPTION_KEYS[call].join(', ')})`)
}

/** Throws `invalid_input` unless `opts` is undefined, null or an object with only `call`'s keys. */
export function checkOptions(opts: unknown, call: OptionsCall): void {
  if (opts === undefined || opts === null) return
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw invalid(`${call}'s options must be an object such as { ${OPTION_KEYS[call].join(', ')} }, not ${Array.isArray(opts) ? 'an array' : typeof opts}`)
  }
  CHECKERS[call](opts)
}

/** trim's `{ maxSeq } | { keep }`, checked: exactly one, in range. */
export function checkTrim(opts: unknown): { maxSeq: number | undefined; keep: number | undefined } {
  if (opts === null || typeof opts !== 'object') throw invalid('trim needs exactly one of maxSeq or keep')
  checkOptions(opts, 'trim')
  const { maxSeq, keep } = opts as { maxSeq?: number; keep?: number }
  if ((maxSeq === undefined) === (keep === undefined)) throw invalid('trim needs exactly one of maxSeq or keep')
  if (maxSeq !== undefined && !(Number.isSafeInteger(maxSeq) && maxSeq > 0)) throw invalid("the 'max_seq' field must be a positive integer")
  if (keep !== undefined && !(Number.isSafeInteger(keep) && keep >= 0)) throw invalid("the 'keep' field must be a non-negative integer")
  return { maxSeq, keep }
}

/** getMany's targets: an array of at most MAX_GET_MANY, each a scope and a ref; their refs. */
export function checkTargets(targets: readonly GetTarget[]): (string | number)[] {
  if (!Array.isArray(targets)) throw invalid('getMany needs an array of targets')
  if (targets.length > MAX_GET_MANY) throw invalid(`getMany takes at most ${MAX_GET_MANY} targets`)
  return targets.map((t) => {
    if (t === null || typeof t !== 'object') throw invalid('each target needs a scope and exactly one of id or seq')
    return checkRef(t)
  })
}

/** counterAdd's id and step. */
export function checkCounter(id: string, by: number): void {
  if (typeof id !== 'string' || id === '') throw invalid("the 'id' field is required for counterAdd")
  checkKey(id, 'id')
  if (!Number.isSafeInteger(by) || by === 0) throw invalid(MESSAGES.byNonZero)
}
