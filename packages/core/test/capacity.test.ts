/**
 * The capacity policy (evict.ts, scope-limit.ts) in one thread: whenFull 'evict' against a
 * reference CLOCK (the same hand, bits and slot reuse, so the order is exact), the byte cap and the
 * fences under random eviction, a locked scope never taken; setScopeLimit's ring and 'reject'
 * against a model (fast-check). Across threads: test/evict-threads.test.ts; a writer killed
 * mid-eviction or mid-ring: test/recovery.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants, INTERNALS } from '../src/internals.js'
import { S_LOCK } from '../src/layout.js'
import { codeOf, storesClosedAfterEach } from './helpers.js'

const make = storesClosedAfterEach()

/** CLOCK as evict.ts runs it: slots in creation order, a LIFO free stack, a hand over [0, hwm), new scopes' bits clear. */
class ClockModel {
  slots: (string | null)[] = []
  bits: number[] = []
  free: number[] = []
  hand = 0
  evicted = 0
  constructor(readonly maxScopes: number) {}
  live(): string[] {
    return this.slots.filter((s): s is string => s !== null).sort()
  }
  read(name: string): void {
    const i = this.slots.indexOf(name)
    if (i >= 0) this.bits[i] = 1
  }
  write(name: string): void {
    const i = this.slots.indexOf(name)
    if (i >= 0) {
      this.bits[i] = 1
      return
    }
    if (this.live().length >= this.maxScopes) this.evictOne()
    const at = this.free.length > 0 ? (this.free.pop() as number) : this.slots.length
    this.slots[at] = name
    this.bits[at] = 0 // the creating write does not set it
  }
  private evictOne(): void {
    const hwm = this.slots.length
    let hand = this.hand >= hwm ? 0 : this.hand
    for (let n = 2 * hwm; n > 0; n--) {
      const s = hand
      hand = hand + 1 === hwm ? 0 : hand + 1
      if (this.slots[s] === null) continue
      if (this.bits[s] !== 0) {
        this.bits[s] = 0
        continue
      }
      this.slots[s] = null
      this.free.push(s)
      this.evicted++
      break
    }
    this.hand = hand
  }
}

const names = (c: ScopeCache): string[] => c.scopeList({ limit: 10_000 }).scopes.map((s) => s.scope).sort()

describe("whenFull: 'evict'", () => {
  it('evicts in the order of a reference CLOCK (maxScopes full; reads and writes set the bit)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ read: fc.boolean(), n: fc.integer({ min: 0, max: 11 }) }), { minLength: 1, maxLength: 120 }),
        (ops) => {
          const c = ScopeCache.create({ maxStoreBytes: 1 << 20, maxScopes: 6, whenFull: 'evict' })
          const m = new ClockModel(6)
          for (const [k, op] of ops.entries()) {
            const name = `s${op.n}`
            if (op.read) {
              c.get(name, { id: 'a' })
              m.read(name)
            } else {
              c.upsert(name, 'a', { k })
              m.write(name)
            }
            expect(names(c), `after op ${k}`).toEqual(m.live())
            expect(c.stats().evictedScopes).toBe(m.evicted)
          }
          checkInvariants(c)
          c.close()
        },
      ),
      { numRuns: 60 },
    )
  })

  it("'reject' (the default) still refuses: store_full, nothing evicted", () => {
    const c = make({ maxScopes: 2 })
    c.append('a', 1)
    c.append('b', 1)
    expect(codeOf(() => c.append('c', 1))).toBe('store_full')
    expect(names(c)).toEqual(['a', 'b'])
    expect(c.stats().evictedScopes).toBe(0)
    expect(codeOf(() => make({ whenFull: 'lru' as never }))).toBe('invalid_input')
  })

  it('keeps charged bytes under maxStoreBytes, never moves a fence back, and counts every eviction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ n: fc.integer({ min: 0, max: 39 }), size: fc.integer({ min: 1, max: 3000 }), read: fc.integer({ min: 0, max: 39 }) }), { minLength: 1, maxLength: 200 }),
        (ops) => {
          const c = ScopeCache.create({ maxStoreBytes: 16 * 1024, maxScopes: 64, whenFull: 'evict' })
          const seen = new Map<string, number>()
          let scopesEver = 0
          for (const op of ops) {
            const name = `s${op.n}`
            const had = c.version(name)
            const existed = c.scopeList({ prefix: name }).scopes.some((s) => s.scope === name)
            c.append(name, 'x'.repeat(op.size))
            if (!existed) scopesEver++
            c.getRaw(`s${op.read}`, { seq: 1 })
            const st = c.stats()
            expect(st.bytes).toBeLessThanOrEqual(16 * 1024)
            expect(c.version(name)).toBeGreaterThan(had)
            for (const [n, v] of seen) expect(c.version(n), n).toBeGreaterThanOrEqual(v)
            seen.set(name, c.version(name))
            expect(st.evictedScopes).toBe(scopesEver - st.scopes)
          }
          checkInvariants(c)
          c.close()
        },
      ),
      { numRuns: 40 },
    )
  })

  it('never takes a scope whose lock is held (a writer is in it): it evicts around it, or refuses', () => {
    const c = make({ maxScopes: 3, whenFull: 'evict' })
    c.append('held', 1)
    c.append('b', 1)
    c.append('c', 1)
    const s = c[INTERNALS]()
    const rec = s.dir.rec(s.dir.resolve('held'))
    const other = 0x7ff00001 // a token no thread of this store has: the evictor must only skip it
    Atomics.store(s.i32, rec + S_LOCK, other)
    try {
      for (let i = 0; i < 10; i++) c.append(`new${i}`, i) // each evicts one of the unlocked ones
      expect(names(c)).toContain('held')
      expect(c.stats().evictedScopes).toBe(10)
    } finally {
      Atomics.store(s.i32, rec + S_LOCK, 0)
    }
    // every other scope locked too: nothing to evict, the write is refused as with 'reject'
    const locked = names(c).filter((n) => n !== 'held').map((n) => s.dir.rec(s.dir.resolve(n)))
    for (const r of [rec, ...locked]) Atomics.store(s.i32, r + S_LOCK, other)
    try {
      expect(codeOf(() => c.append('one-more', 1))).toBe('store_full')
    } finally {
      for (const r of [rec, ...locked]) Atomics.store(s.i32, r + S_LOCK, 0)
    }
    expect(names(c)).toHaveLength(3)
  })

  it('an item larger than what eviction can free is refused after evicting, and the store stays whole', () => {
    const c = make({ maxStoreBytes: 8192, maxItemBytes: 8192, whenFull: 'evict' })
    for (let i = 0; i < 5; i++) c.append(`s${i}`, 'x'.repeat(500))
    expect(codeOf(() => c.append('big', 'y'.repeat(8100)))).toBe('store_full')
    expect(names(c)).not.toContain('big') // the scope the write created is removed again
    c.append('after', 1)
    checkInvariants(c)
  })

  it('warm evicts other scopes to fit; rebuild replaces everything as before', () => {
    const c = make({ maxStoreBytes: 16 * 1024, whenFull: 'evict' })
    for (let i = 0; i < 10; i++) c.append(`old${i}`, 'x'.repeat(1000))
    c.warm([{ scope: 'w', id: 'a', payload: 'y'.repeat(4000) }, { scope: 'w2', id: 'b', payload: 'z'.repeat(4000) }])
    expect(c.get('w', { id: 'a' })).toBeDefined()
    expect(c.get('w2', { id: 'b' })).toBeDefined()
    expect(c.stats().evictedScopes).toBeGreaterThan(0)
    expect(c.stats().bytes).toBeLessThanOrEqual(16 * 1024)
  })
})

// ------------------------------------------------------------------------- scope limits ----

interface MItem { seq: number; id: string | null; payload: number }

/** One scope with a limit, as scope-limit.ts specifies it (scopeMaxItems 8). */
class RingModel {
  items: MItem[] = []
  lastSeq = 0
  limit = 0
  ring = false
  dropped = 0
  exists = false
  append(id: string | null, payload: number): string | undefined {
    const n = this.items.length
    let drop = 0
    if (this.limit === 0 ? n >= 8 : n >= this.limit && !this.ring) return 'scope_full'
    if (this.limit > 0 && n >= this.limit) drop = n - this.limit + 1
    if (id !== null && this.items.some((it) => it.id === id)) return 'conflict' // refused: nothing dropped
    this.shed(drop)
    this.items.push({ seq: ++this.lastSeq, id, payload })
    this.exists = true
    return undefined
  }
  upsert(id: string, payload: number): string | undefined {
    const at = this.items.find((it) => it.id === id)
    if (at === undefined) return this.append(id, payload)
    at.payload = payload
    return undefined
  }
  private shed(k: number): void {
    this.items.splice(0, k)
    this.dropped += k
  }
}

describe('setScopeLimit', () => {
  type Op =
    | { k: 'append'; id: number | null }
    | { k: 'upsert'; id: number }
    | { k: 'delete'; id: number }
    | { k: 'limit'; max: number | null; ring: boolean }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('append' as const), id: fc.option(fc.integer({ min: 0, max: 20 })) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('upsert' as const), id: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('limit' as const), max: fc.option(fc.integer({ min: 1, max: 8 })), ring: fc.boolean() }) },
  )

  it("agrees with the model: 'drop-oldest' keeps the newest N in order, 'reject' refuses at N", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => {
        const c = ScopeCache.create({ maxStoreBytes: 1 << 20, scopeMaxItems: 8 })
        const m = new RingModel()
        c.setScopeLimit('r', { maxItems: 3, whenFull: 'drop-oldest' })
        m.limit = 3
        m.ring = true
        let k = 0
        for (const o of ops) {
          k++
          const payload = k
          let want: string | undefined
          let got: string | undefined
          if (o.k === 'append') {
            const id = o.id === null ? null : `i${o.id}`
            want = m.append(id, payload)
            got = codeOf(() => c.append('r', payload, id === null ? undefined : { id }))
          } else if (o.k === 'upsert') {
            want = m.upsert(`i${o.id}`, payload)
            got = codeOf(() => c.upsert('r', `i${o.id}`, payload))
          } else if (o.k === 'delete') {
            const at = m.items.findIndex((it) => it.id === `i${o.id}`)
            if (at >= 0) m.items.splice(at, 1)
            got = codeOf(() => c.delete('r', { id: `i${o.id}` }))
          } else {
            m.limit = o.max ?? 0
            m.ring = o.max !== null && o.ring
            got = codeOf(() => c.setScopeLimit('r', { maxItems: o.max, whenFull: o.ring ? 'drop-oldest' : 'reject' }))
          }
          expect(got, `${JSON.stringify(o)} at op ${k}`).toBe(want)
          const items = c.head('r', { limit: 100 }).items.map((it) => ({ seq: it.seq, id: it.id, payload: it.payload }))
          expect(items, `items after op ${k}`).toEqual(m.items)
          expect(c.stats().droppedOldest).toBe(m.dropped)
          const row = c.scopeList({ prefix: 'r' }).scopes[0]
          expect([row.maxItems, row.whenFull]).toEqual(m.limit === 0 ? [null, null] : [m.limit, m.ring ? 'drop-oldest' : 'reject'])
          for (const it of m.items) if (it.id !== null) expect(c.get('r', { id: it.id })?.payload).toBe(it.payload)
        }
        checkInvariants(c)
        c.close()
      }),
      { numRuns: 150 },
    )
  })

  it('a ring of thousands of appends with ids stays whole: ids of dropped items miss, tables are reused', () => {
    const c = make({ maxStoreBytes: 4 << 20 })
    c.setScopeLimit('feed', { maxItems: 100, whenFull: 'drop-oldest' })
    for (let i = 0; i < 5000; i++) c.append('feed', { i }, i % 5 === 0 ? undefined : { id: `m${i}` })
    const page = c.head('feed', { limit: 1000 }).items
    expect(page.map((it) => it.seq)).toEqual(Array.from({ length: 100 }, (_, k) => 4901 + k))
    expect(c.get('feed', { id: 'm4899' })).toBeUndefined()
    expect(c.get('feed', { id: 'm4999' })?.payload).toEqual({ i: 4999 })
    expect(c.stats()).toMatchObject({ items: 100, droppedOldest: 4900 })
    const bytes = c.stats().bytes
    for (let i = 5000; i < 6000; i++) c.append('feed', { i }, { id: `m${i}` })
    expect(c.stats().bytes).toBeLessThan(bytes * 1.5) // dropped items' bytes come back
  })

  it('checks its arguments and changes nothing on bad input; creates a missing scope; a drop takes the limit with it', () => {
    const c = make({ scopeMaxItems: 50 })
    for (const bad of [0, -1, 1.5, 51, '3', Number.NaN, undefined]) {
      expect(codeOf(() => c.setScopeLimit('s', { maxItems: bad as never })), String(bad)).toBe('invalid_input')
    }
    expect(codeOf(() => c.setScopeLimit('s', { maxItems: 3, whenFull: 'drop-newest' as never }))).toBe('invalid_input')
    expect(codeOf(() => c.setScopeLimit('s', { maxItems: 3, limit: 2 } as never))).toBe('invalid_input')
    expect(codeOf(() => c.setScopeLimit('s', null as never))).toBe('invalid_input')
    expect(codeOf(() => c.setScopeLimit('', { maxItems: 3 }))).toBe('invalid_input')
    expect(c.stats().scopes).toBe(0)
    expect(c.setScopeLimit('s', { maxItems: 2 })).toEqual({ created: true })
    expect(c.scopeList().scopes[0]).toMatchObject({ scope: 's', itemCount: 0, maxItems: 2, whenFull: 'reject' })
    c.append('s', 1)
    c.append('s', 2)
    const e = codeOf(() => c.append('s', 3))
    expect(e).toBe('scope_full')
    expect(c.setScopeLimit('s', { maxItems: null })).toEqual({ created: false })
    c.append('s', 3) // no limit: the store's scopeMaxItems again
    c.setScopeLimit('s', { maxItems: 2, whenFull: 'drop-oldest' })
    c.dropScope('s')
    for (let i = 0; i < 5; i++) c.append('s', i)
    expect(c.scopeList().scopes[0]).toMatchObject({ itemCount: 5, maxItems: null, whenFull: null })
  })

  it('warm keeps the limit and the next append applies it; rebuild drops it', () => {
    const c = make()
    c.setScopeLimit('w', { maxItems: 3, whenFull: 'drop-oldest' })
    c.warm(Array.from({ length: 6 }, (_, i) => ({ scope: 'w', id: `w${i}`, payload: i })))
    expect(c.scopeList().scopes[0]).toMatchObject({ itemCount: 6, maxItems: 3 })
    c.append('w', 'next')
    expect(c.head('w').items.map((it) => it.payload)).toEqual([4, 5, 'next'])
    expect(c.stats().droppedOldest).toBe(4)
    c.rebuild([{ scope: 'w', payload: 1 }])
    expect(c.scopeList().scopes[0]).toMatchObject({ maxItems: null })
  })
})
