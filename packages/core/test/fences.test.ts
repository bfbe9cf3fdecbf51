/**
 * Version fences (fences.ts, invalidate.ts) in one thread: the API, and a property test that
 * drives every kind of write, drop, flush, warm, rebuild and invalidate at a few scope names and
 * checks, for each name, that its version never goes back, moves whenever the scope changed, stays
 * put while an existing scope did not change, and that an `ifVersion` write is refused exactly when
 * the scope changed since that version was read. Across threads: test/fences-threads.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { ScopeCacheError } from '../src/errors.js'
import { checkInvariants } from '../src/internals.js'
import { codeOf } from './helpers.js'


describe('version fences: the API', () => {
  it('every write moves the version; a fenced write is refused once it moved', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const v0 = cache.version('view:1') // missing scope: it has a version too
    cache.append('view:1', { a: 1 }, { id: 'a', ifVersion: v0 }) // creates it
    const v1 = cache.version('view:1')
    expect(v1).toBeGreaterThan(v0)
    expect(cache.version('view:1')).toBe(v1) // reads do not move it
    cache.get('view:1', { id: 'a' })
    expect(cache.version('view:1')).toBe(v1)
    cache.upsert('view:1', 'a', { a: 2 }, { ifVersion: v1 })
    const v2 = cache.version('view:1')
    expect(v2).toBeGreaterThan(v1)
    let e: unknown
    try {
      cache.upsert('view:1', 'a', { a: 'stale' }, { ifVersion: v1 })
    } catch (err) {
      e = err
    }
    expect((e as ScopeCacheError).code).toBe('conflict')
    expect((e as ScopeCacheError).details).toEqual({ version: v2 })
    expect(cache.get('view:1', { id: 'a' })!.payload).toEqual({ a: 2 }) // nothing written
    expect(codeOf(() => cache.update('view:1', { id: 'a' }, 3, { ifVersion: v0 }))).toBe('conflict')
    expect(codeOf(() => cache.delete('view:1', { id: 'a' }, { ifVersion: v0 }))).toBe('conflict')
    expect(codeOf(() => cache.append('view:1', 1, { ifVersion: v0 }))).toBe('conflict')
    expect(cache.version('view:1')).toBe(v2) // refused writes moved nothing
    expect(cache.delete('view:1', { id: 'a' }, { ifVersion: v2 })).toBe(1)
    expect(codeOf(() => cache.append('s', 1, { ifVersion: -1 }))).toBe('invalid_input')
    expect(codeOf(() => cache.append('s', 1, { ifVersion: 1.5 }))).toBe('invalid_input')
    expect(codeOf(() => cache.append('s', 1, { ifVersion: '3' as unknown as number }))).toBe('invalid_input')
    checkInvariants(cache)
    cache.close()
  })

  it('never goes back across drop and re-create, flush, warm and rebuild', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const seen: number[] = []
    const look = (): void => {
      const v = cache.version('x')
      if (seen.length > 0) expect(v).toBeGreaterThan(seen[seen.length - 1]!)
      seen.push(v)
    }
    look()
    for (let i = 0; i < 20; i++) cache.append('x', i)
    look()
    cache.dropScope('x')
    look()
    cache.append('x', 'again')
    look()
    cache.flush()
    look()
    cache.warm([{ scope: 'x', payload: 1 }])
    look()
    cache.warm([{ scope: 'x', payload: 2 }])
    look()
    cache.rebuild([{ scope: 'y', payload: 1 }])
    look()
    cache.rebuild([{ scope: 'x', payload: 1 }])
    look()
    cache.invalidate('x')
    look()
    cache.invalidate('x') // missing: still moves
    look()
    checkInvariants(cache)
    cache.close()
  })

  it('invalidate deletes and moves the version even when there is nothing to delete', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    cache.append('v', { n: 1 }, { id: 'a' })
    cache.append('v', { n: 2 }, { id: 'b' })
    const v1 = cache.version('v')
    expect(cache.invalidate('v', { id: 'a' })).toBe(1)
    expect(cache.get('v', { id: 'a' })).toBeUndefined()
    const v2 = cache.version('v')
    expect(v2).toBeGreaterThan(v1)
    expect(cache.invalidate('v', { id: 'nope' })).toBe(0)
    const v3 = cache.version('v')
    expect(v3).toBeGreaterThan(v2)
    expect(cache.invalidate('v', { seq: 2 })).toBe(1)
    expect(cache.invalidate('v')).toBe(0) // the scope goes (empty now)
    expect(cache.scopeList().scopes).toEqual([])
    expect(cache.version('v')).toBeGreaterThan(v3)
    const w = cache.version('gone')
    expect(cache.invalidate('gone', { id: 'x' })).toBe(0)
    expect(cache.version('gone')).toBeGreaterThan(w)
    expect(codeOf(() => cache.invalidate('', { id: 'x' }))).toBe('invalid_input')
    expect(codeOf(() => cache.invalidate('v', { id: 'x', seq: 1 } as never))).toBe('invalid_input')
    checkInvariants(cache)
    cache.close()
    expect(codeOf(() => cache.version('v'))).toBe('closed')
  })
})

describe('version fences: property', () => {
  const NAMES = ['a', 'b', 'c']
  type Op =
    | { k: 'append' | 'upsert' | 'update' | 'delete' | 'trim' | 'counter' | 'drop' | 'invalidate' | 'invalidateItem' | 'warm'; n: number; i: number }
    | { k: 'flush' | 'rebuild'; n: number; i: number }
    | { k: 'version'; n: number; i: number }
    | { k: 'fenced'; n: number; i: number }
  const kinds = ['append', 'upsert', 'update', 'delete', 'trim', 'counter', 'drop', 'invalidate', 'invalidateItem', 'warm', 'flush', 'rebuild', 'version', 'version', 'fenced', 'fenced'] as const
  const op = fc.record({ k: fc.constantFrom(...kinds), n: fc.nat(2), i: fc.nat(3) }) as fc.Arbitrary<Op>

  it('agrees with what each operation did', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
        // per name: the version read last, whether the scope existed then, and whether it changed since
        const last = new Map<string, { v: number; existed: boolean; changed: boolean }>()
        const exists = (n: string): boolean => cache.scopeList({ prefix: n }).scopes.some((s) => s.scope === n)
        const changed = (...names: string[]): void => {
          for (const n of names) {
            const l = last.get(n)
            if (l !== undefined) l.changed = true
          }
        }
        try {
          for (const o of ops) {
            const n = NAMES[o.n]!
            const id = `i${o.i}`
            switch (o.k) {
              case 'append': cache.append(n, o.i, o.i === 0 ? {} : { id: `${id}-${Math.random()}` }); changed(n); break
              case 'upsert': cache.upsert(n, id, o.i); changed(n); break
              case 'update': if (cache.update(n, { id }, o.i) > 0) changed(n); break
              case 'delete': if (cache.delete(n, { id }) > 0) changed(n); break
              case 'trim': if (cache.trim(n, { keep: o.i }) > 0) changed(n); break
              case 'counter': cache.counterAdd(n, 'c', 1); changed(n); break
              case 'drop': if (cache.dropScope(n).found) changed(n); break
              case 'invalidate': cache.invalidate(n); changed(n); break
              case 'invalidateItem': cache.invalidate(n, { id }); changed(n); break
              case 'warm': cache.warm([{ scope: n, id, payload: o.i }]); changed(n); break
              case 'flush': { const had = NAMES.filter(exists); cache.flush(); changed(...had); break }
              case 'rebuild': cache.rebuild([{ scope: n, id, payload: o.i }]); changed(...NAMES); break
              case 'version': {
                const v = cache.version(n)
                const l = last.get(n)
                const e = exists(n)
                if (l !== undefined) {
                  expect(v, `${n} went back`).toBeGreaterThanOrEqual(l.v)
                  if (l.changed) expect(v, `${n} changed but its version did not move`).toBeGreaterThan(l.v)
                  if (!l.changed && l.existed && e) expect(v, `${n} did not change but its version moved`).toBe(l.v)
                }
                last.set(n, { v, existed: e, changed: false })
                break
              }
              case 'fenced': {
                const l = last.get(n)
                if (l === undefined) break
                const code = codeOf(() => cache.upsert(n, id, 'fenced', { ifVersion: l.v }))
                if (l.changed) expect(code, `${n}: a fenced write after a change`).toBe('conflict')
                else if (l.existed && exists(n)) expect(code, `${n}: a fenced write with nothing changed`).toBeUndefined()
                if (code === undefined) {
                  // it wrote: the version it was fenced on is the one before this write
                  changed(n)
                }
                break
              }
            }
          }
          checkInvariants(cache)
        } finally {
          cache.close()
        }
      }),
      { numRuns: 300 },
    )
  })
})
