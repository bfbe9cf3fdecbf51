/**
 * The one table of limits and messages (src/limits.ts): its values are the reference's, and the
 * store enforces exactly them with exactly that wording — so a layer that imports the table (the
 * HTTP API) answers as the store does.
 */
import { describe, expect, it } from 'vitest'
import { LIMITS, MAX_KEY_BYTES, MAX_TTL_MS, MESSAGES, rawJson, ScopeCacheError } from '../src/index.js'
import { storesClosedAfterEach } from './helpers.js'

const make = storesClosedAfterEach()

const thrown = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ScopeCacheError)
    return { code: (e as ScopeCacheError).code, message: (e as Error).message }
  }
  throw new Error('did not throw')
}
const INVALID = 'scopecache: invalid input: '

describe('LIMITS and MESSAGES', () => {
  it('hold the reference values and wording', () => {
    expect(LIMITS).toEqual({
      defaultLimit: 1000, maxLimit: 10_000, maxGetManyTargets: 1000, maxKeyBytes: 256, maxJsonDepth: 10_000,
      maxTtlMs: 315_360_000_000, maxLeaseMs: 86_400_000,
    })
    expect([MAX_KEY_BYTES, MAX_TTL_MS]).toEqual([LIMITS.maxKeyBytes, LIMITS.maxTtlMs]) // the older exports are the table's
    expect(MESSAGES.invalidPrefix).toBe(INVALID)
    expect(MESSAGES.bulkItem('s', 2, MESSAGES.payloadRequired)).toBe("scope 's', item at index 2: scopecache: invalid input: the 'payload' field is required")
    expect(MESSAGES.keyTooLong('prefix')).toBe("the 'prefix' field must not exceed 256 bytes")
    expect(MESSAGES.payloadTooDeep).toBe("the 'payload' field exceeds the maximum nesting depth of 10000")
    expect(MESSAGES.itemTooLarge(70, 64)).toBe("the item's approximate size (70 bytes) exceeds the maximum of 64 bytes")
  })

  it('the store enforces the page, target and key limits of the table, in its words', () => {
    const c = make({ maxStoreBytes: 4 << 20 })
    c.warm(Array.from({ length: LIMITS.maxLimit + 5 }, (_, i) => ({ scope: 'p', payload: i })))
    expect(c.head('p').items.length).toBe(LIMITS.defaultLimit)
    expect(c.head('p', { limit: LIMITS.maxLimit + 1 }).items.length).toBe(LIMITS.maxLimit)
    expect(thrown(() => c.head('p', { limit: 0 })).message).toBe(INVALID + MESSAGES.limitPositive)
    expect(thrown(() => c.tail('p', { offset: -1 })).message).toBe(INVALID + MESSAGES.offsetNonNegative)
    expect(thrown(() => c.head('p', { afterSeq: -1 })).message).toBe(INVALID + MESSAGES.afterSeqUnsigned)
    expect(thrown(() => c.getMany(Array.from({ length: LIMITS.maxGetManyTargets + 1 }, () => ({ scope: 'p', seq: 1 })))).code).toBe('invalid_input')
    expect(c.getMany(Array.from({ length: LIMITS.maxGetManyTargets }, () => ({ scope: 'p', seq: 1 }))).length).toBe(LIMITS.maxGetManyTargets)
    expect(c.append('k'.repeat(LIMITS.maxKeyBytes), 1).seq).toBe(1)
    expect(thrown(() => c.append('k'.repeat(LIMITS.maxKeyBytes + 1), 1)).message).toBe(INVALID + MESSAGES.keyTooLong('scope'))
    expect(thrown(() => c.append('', 1)).message).toBe(INVALID + MESSAGES.scopeRequired)
    expect(thrown(() => c.get('p', {} as never)).message).toBe(INVALID + MESSAGES.oneOfIdOrSeq)
    expect(thrown(() => c.get('p', { seq: 0 })).message).toBe(INVALID + MESSAGES.seqPositive)
    expect(thrown(() => c.counterAdd('n', 'x', 0)).message).toBe(INVALID + MESSAGES.byNonZero)
  })

  it('the store enforces the payload, TTL and lease limits of the table, in its words', () => {
    const c = make({ maxStoreBytes: 4 << 20 })
    const nested = (d: number): string => '['.repeat(d) + ']'.repeat(d)
    expect(c.append('d', rawJson(nested(LIMITS.maxJsonDepth)), { id: 'deep' }).seq).toBe(1)
    expect(thrown(() => c.append('d', rawJson(nested(LIMITS.maxJsonDepth + 1)))).message).toBe(INVALID + MESSAGES.payloadTooDeep)
    expect(thrown(() => c.append('d', null as never)).message).toBe(INVALID + MESSAGES.payloadRequired)
    expect(thrown(() => c.append('d', rawJson('{'))).message).toBe(INVALID + MESSAGES.payloadNotJson)
    expect(thrown(() => c.append('d', rawJson(new Uint8Array([0x22, 0xff, 0x22])))).message).toBe(INVALID + MESSAGES.payloadBadUtf8)
    expect(thrown(() => c.append('d', 1, { ttlMs: LIMITS.maxTtlMs + 1 })).message).toBe(INVALID + MESSAGES.ttlRange('ttlMs'))
    expect(c.append('d', 1, { ttlMs: LIMITS.maxTtlMs }).seq).toBe(2)
    expect(thrown(() => c.tryLock('L', { leaseMs: LIMITS.maxLeaseMs + 1 })).code).toBe('invalid_input')
    expect(c.tryLock('L', { leaseMs: LIMITS.maxLeaseMs })).not.toBeNull()
    expect(thrown(() => c.renew('L', 0)).message).toBe(INVALID + MESSAGES.tokenPositive)
    const big = thrown(() => make({ maxStoreBytes: 1 << 20, maxItemBytes: 64 }).append('d', 'x'.repeat(100)))
    expect(big.code).toBe('too_large')
    expect(big.message).toMatch(/^scopecache: invalid input: the item's approximate size \(\d+ bytes\) exceeds the maximum of 64 bytes$/)
    expect(thrown(() => c.append('d', 1, { id: 'deep' })).message).toBe(MESSAGES.duplicateId)
  })

  it('a bulk item is refused in the bulk wording, its index counted within its scope', () => {
    const c = make({ maxStoreBytes: 4 << 20 })
    const e = thrown(() => c.warm([{ scope: 'a', payload: 1 }, { scope: 'b', payload: 1 }, { scope: 'a', payload: undefined as never }]))
    expect(e).toEqual({ code: 'invalid_input', message: MESSAGES.bulkItem('a', 1, MESSAGES.payloadRequired) })
    expect(c.stats().items).toBe(0)
  })
})
