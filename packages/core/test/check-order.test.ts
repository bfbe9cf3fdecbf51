/**
 * Which error a write reports when it has several, as ScopeCache v0.8.32 orders them (validation.go,
 * buffer_write.go, bulk.go), and the wording of a bulk item's error: its index counts within its
 * own scope, and a scope's own rule is reported bare.
 */
import { afterEach, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError } from '../src/index.js'
import { checkInvariants } from '../src/internals.js'

let open: ScopeCache[] = []
const make = (scopeMaxItems: number): ScopeCache => {
  const c = ScopeCache.create({ maxStoreBytes: 1 << 20, maxItemBytes: 256, scopeMaxItems })
  open.push(c)
  return c
}
afterEach(() => {
  for (const c of open) {
    checkInvariants(c)
    c.close()
  }
  open = []
})

/** `code: message` of what fn throws. */
const failure = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ScopeCacheError)
    return `${(e as ScopeCacheError).code}: ${(e as Error).message}`
  }
  return 'none'
}

it('append: a full scope is reported before a duplicate id', () => {
  const c = make(2)
  c.append('s', 1, { id: 'a' })
  expect(failure(() => c.append('s', 2, { id: 'a' }))).toBe("conflict: an item with this 'id' already exists in the scope")
  c.append('s', 2)
  expect(failure(() => c.append('s', 3, { id: 'a' }))).toBe('scope_full: scope is at capacity')
  expect(c.stats().items).toBe(2)
})

it('bulk: the item index counts within its scope; a scope rule is bare', () => {
  const c = make(10)
  const items = [{ scope: 'a', payload: 1 }, { scope: 'b', payload: 1 }, { scope: 'a', payload: 2 }, { scope: 'b', id: ' x', payload: 1 }]
  expect(failure(() => c.warm(items))).toBe("invalid_input: scope 'b', item at index 1: scopecache: invalid input: the 'id' field must not have leading or trailing whitespace")
  expect(failure(() => c.rebuild([{ scope: 'a', payload: 1 }, { scope: 'x'.repeat(257), payload: 1 }])))
    .toBe("invalid_input: scopecache: invalid input: the 'scope' field must not exceed 256 bytes")
  expect(failure(() => c.warm([{ scope: 'a', payload: 1 }, { scope: '', payload: 1 }]))).toBe("invalid_input: scopecache: invalid input: the 'scope' field is required")
  expect(failure(() => c.warm([{ scope: 'b', payload: 1 }, { scope: 'a', payload: 1 }, { scope: 'a', payload: 'x'.repeat(300) }])))
    .toMatch(/^too_large: scope 'a', item at index 1: scopecache: invalid input: the item's approximate size \(\d+ bytes\) exceeds the maximum of 256 bytes$/)
  expect(failure(() => c.warm([{ scope: 'a', payload: undefined }]))).toBe("invalid_input: scope 'a', item at index 0: scopecache: invalid input: the 'payload' field is required")
})

it('bulk: every item is checked before duplicates, duplicates before the caps, a scope over its cap is not checked for duplicates', () => {
  const c = make(2)
  const dup = [{ scope: 'd', id: 'k', payload: 1 }, { scope: 'd', id: 'k', payload: 2 }]
  const over = [{ scope: 'o', id: 'k', payload: 1 }, { scope: 'o', id: 'k', payload: 2 }, { scope: 'o', payload: 3 }]
  for (const op of ['warm', 'rebuild'] as const) {
    expect(failure(() => c[op]([...dup, { scope: 'd', id: ' y', payload: 1 }]))).toMatch(/^invalid_input: scope 'd', item at index 2: .*whitespace$/)
    expect(failure(() => c[op](over))).toBe('scope_full: scope is at capacity')
    expect(failure(() => c[op]([...over, ...dup]))).toBe("invalid_input: scopecache: invalid input: scope 'd': duplicate 'id' value within scope: 'k'")
    expect(failure(() => c[op]([...dup, ...over]))).toBe("invalid_input: scopecache: invalid input: scope 'd': duplicate 'id' value within scope: 'k'")
  }
  expect(c.stats().items).toBe(0)
})
