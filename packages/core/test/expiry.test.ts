/**
 * Expiry (expiry.ts) in one thread, under an injected clock (`[INTERNALS]().now`, µs) so that an
 * item's end is tested to the millisecond: the API, reclaiming by writes and by sweepExpired, and
 * a property test against a plain reference (a Map per scope whose items carry an end) that mixes
 * every write with ttlMs, setScopeTtl, touch, clock moves and sweeps, and after each step compares
 * every read. Across threads: test/expiry-threads.test.ts; a dead writer's torn TTL write:
 * test/recovery.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { checkInvariants } from '../src/internals.js'
import { MAX_TTL_MS } from '../src/layout.js'
import { INTERNALS } from '../src/store.js'
import { codeOf, storesClosedAfterEach } from './helpers.js'

const make = storesClosedAfterEach()
const T0 = 1_800_000_000_000_000 // µs: a fixed instant

/** A store whose clock stands still until `clock.ms += n` moves it (by whole ms). */
function clocked(o: Parameters<typeof ScopeCache.create>[0] = {}): { c: ScopeCache; clock: { ms: number } } {
  const c = make({ expirySweepMs: 0, ...o })
  const clock = { ms: 0 }
  c[INTERNALS]().now = () => T0 + clock.ms * 1000
  return { c, clock }
}

describe('expiry: the API', () => {
  it('an item with ttlMs is read until its last millisecond and never from its expiresTs on, by any read', () => {
    const { c, clock } = clocked()
    const m = c.append('s', { v: 1 }, { id: 'a', ttlMs: 100 })
    c.append('s', 2, { id: 'b' })
    expect(m.ts).toBe(T0)
    const a = c.get('s', { id: 'a' })
    expect(a).toEqual({ scope: 's', id: 'a', seq: 1, ts: T0, expiresTs: T0 + 100_000, payload: { v: 1 } })
    expect(c.get('s', { id: 'b' })?.expiresTs).toBeNull()
    clock.ms = 99
    expect(c.getRaw('s', { seq: 1 })).toBe('{"v":1}')
    expect(c.tail('s').items.map((i) => i.id)).toEqual(['a', 'b'])
    clock.ms = 100
    expect(c.get('s', { id: 'a' })).toBeUndefined()
    expect(c.get('s', { seq: 1 }, { raw: true })).toBeUndefined()
    expect(c.getRaw('s', { id: 'a' })).toBeUndefined()
    expect(c.getBytes('s', { id: 'a' })).toBeUndefined()
    expect(c.getMany([{ scope: 's', id: 'a' }, { scope: 's', id: 'b' }]).map((i) => i?.id)).toEqual([undefined, 'b'])
    expect(c.head('s').items.map((i) => i.id)).toEqual(['b'])
    expect(c.tail('s').items.map((i) => i.id)).toEqual(['b'])
    expect(c.scope('s').get({ id: 'a' })).toBeUndefined()
    // counted until reclaimed; a write to the scope reclaims it first, in the same lock hold
    expect(c.stats()).toMatchObject({ items: 2, expiredItems: 0 })
    c.append('s', 3)
    expect(c.stats()).toMatchObject({ items: 2, expiredItems: 1 })
    expect(c.scopeList().scopes[0].itemCount).toBe(2)
  })

  it('head and tail windows skip expired items: limits, offsets and truncated count live ones only', () => {
    const { c, clock } = clocked()
    for (let i = 1; i <= 10; i++) c.append('s', i, { id: `k${i}`, ...(i % 2 === 0 ? { ttlMs: 10 } : {}) })
    clock.ms = 10
    expect(c.head('s', { limit: 3 })).toMatchObject({ truncated: true })
    expect(c.head('s', { limit: 3 }).items.map((i) => i.payload)).toEqual([1, 3, 5])
    expect(c.head('s', { afterSeq: 5, limit: 2 }).items.map((i) => i.payload)).toEqual([7, 9])
    expect(c.head('s', { afterSeq: 5, limit: 2 }).truncated).toBe(false)
    expect(c.tail('s', { limit: 2 }).items.map((i) => i.payload)).toEqual([7, 9])
    expect(c.tail('s', { limit: 2, offset: 2 })).toEqual({ truncated: true, items: expect.any(Array) })
    expect(c.tail('s', { limit: 2, offset: 2 }).items.map((i) => i.payload)).toEqual([3, 5])
    expect(c.tail('s', { limit: 2, offset: 3 }).items.map((i) => i.payload)).toEqual([1, 3])
    expect(c.tail('s', { limit: 2, offset: 3 }).truncated).toBe(false)
    expect(c.tail('s', { offset: 5 }).items).toEqual([])
  })

  it('setScopeTtl is the default for items written without ttlMs; ScopeInfo.itemTtlMs shows it; items keep theirs', () => {
    const { c, clock } = clocked()
    c.append('s', 0, { id: 'before' })
    c.setScopeTtl('s', 50)
    expect(c.scopeList().scopes[0].itemTtlMs).toBe(50)
    c.append('s', 1, { id: 'dflt' })
    c.append('s', 2, { id: 'own', ttlMs: 500 })
    expect(c.counterAdd('s', 'n')).toBe(1)
    expect(c.get('s', { id: 'dflt' })?.expiresTs).toBe(T0 + 50_000)
    expect(c.get('s', { id: 'n' })?.expiresTs).toBe(T0 + 50_000)
    expect(c.get('s', { id: 'before' })?.expiresTs).toBeNull()
    clock.ms = 20
    expect(c.counterAdd('s', 'n')).toBe(2) // a counter keeps its expiry
    expect(c.get('s', { id: 'n' })?.expiresTs).toBe(T0 + 50_000)
    clock.ms = 50
    expect(c.tail('s').items.map((i) => i.id)).toEqual(['before', 'own'])
    expect(c.counterAdd('s', 'n')).toBe(1) // expired: a new counter (with the default again)
    c.setScopeTtl('s', null)
    expect(c.scopeList().scopes[0].itemTtlMs).toBeNull()
    c.upsert('s', 'own', 3) // a write without ttlMs and no default: no expiry
    expect(c.get('s', { id: 'own' })?.expiresTs).toBeNull()
    c.setScopeTtl('fresh', 10) // creates the scope
    expect(c.scopeList({ prefix: 'fresh' }).scopes).toMatchObject([{ scope: 'fresh', itemCount: 0, itemTtlMs: 10 }])
    c.setScopeTtl('missing', null) // nothing to clear: no scope is created
    expect(c.scopeList({ prefix: 'missing' }).scopes).toEqual([])
  })

  it('touch gives a live item a new expiry from now, in place or in a block with room for one; 0 for a missing or expired item', () => {
    const { c, clock } = clocked()
    c.append('s', 'x', { id: 'ttl', ttlMs: 10 })
    c.append('s', 'y', { id: 'plain' })
    clock.ms = 5
    expect(c.touch('s', { id: 'ttl' }, { ttlMs: 10 })).toBe(1)
    expect(c.touch('s', { seq: 2 }, { ttlMs: 30 })).toBe(1)
    expect(c.get('s', { id: 'ttl' })).toMatchObject({ seq: 1, ts: T0, expiresTs: T0 + 15_000, payload: 'x' })
    expect(c.get('s', { id: 'plain' })).toMatchObject({ seq: 2, ts: T0, expiresTs: T0 + 35_000, payload: 'y' })
    clock.ms = 15
    expect(c.get('s', { id: 'ttl' })).toBeUndefined()
    expect(c.touch('s', { id: 'ttl' }, { ttlMs: 1000 })).toBe(0) // expired: not brought back
    expect(c.touch('s', { id: 'none' }, { ttlMs: 1000 })).toBe(0)
    expect(c.touch('nope', { seq: 1 }, { ttlMs: 1000 })).toBe(0)
    expect(c.get('s', { id: 'plain' })?.payload).toBe('y')
    checkInvariants(c)
  })

  it('an expired id is free again: append with it succeeds, upsert creates', () => {
    const { c, clock } = clocked()
    c.append('s', 1, { id: 'a', ttlMs: 1 })
    c.append('t', 1, { id: 'a', ttlMs: 1 })
    clock.ms = 1
    expect(c.append('s', 2, { id: 'a' }).seq).toBe(2)
    expect(c.upsert('t', 'a', 2).created).toBe(true)
    expect(c.update('s', { seq: 1 }, 9)).toBe(0)
    expect(c.delete('s', { seq: 1 })).toBe(0)
    expect(c.stats().expiredItems).toBe(2)
  })

  it('a write acts on no expired item even when its reclaim stops at its bound (32 deletes)', () => {
    const { c, clock } = clocked()
    c.append('s', 'live') // no trim of an oldest run: every expired item below is deleted on its own
    c.append('s', 5, { id: 'k0', ttlMs: 1 })
    for (let i = 1; i < 80; i++) c.append('s', i, { id: `k${i}`, ttlMs: 1 })
    clock.ms = 1
    expect(c.counterAdd('s', 'k0')).toBe(1) // the reclaim took k79…k48; k0 is dropped as the counter finds it
    expect(c.stats().expiredItems).toBe(33)
    expect(c.update('s', { id: 'k1' }, 'x')).toBe(0)
    expect(c.delete('s', { id: 'k2' })).toBe(0)
    expect(c.append('s', 'again', { id: 'k3' }).seq).toBe(83)
    expect(c.upsert('s', 'k4', 'fresh').created).toBe(true)
    expect(c.tail('s').items.map((i) => i.payload)).toEqual(['live', 1, 'again', 'fresh'])
    expect(c.sweepExpired() + c.stats().expiredItems).toBe(80)
    expect(c.stats().items).toBe(4)
  })

  it('sweepExpired reclaims every scope: the oldest run in one trim, the others one by one', () => {
    const { c, clock } = clocked()
    for (let i = 0; i < 50; i++) c.append('a', i, { ttlMs: 10 })
    for (let i = 0; i < 60; i++) c.append('b', i, { id: `i${i}`, ttlMs: i % 3 === 0 ? 10 : 1000 })
    c.append('c', 'kept')
    const before = c.stats().bytes
    expect(c.sweepExpired()).toBe(0)
    clock.ms = 10
    expect(c.sweepExpired()).toBe(70)
    expect(c.stats()).toMatchObject({ items: 41, expiredItems: 70 })
    expect(c.stats().bytes).toBeLessThan(before)
    expect(c.tail('b', { limit: 100 }).items).toHaveLength(40)
    expect(c.sweepExpired()).toBe(0)
    clock.ms = 1000
    expect(c.sweepExpired()).toBe(40)
    expect(c.scopeList().scopes.map((s) => [s.scope, s.itemCount])).toEqual([['a', 0], ['b', 0], ['c', 1]])
  })

  it('warm and rebuild items take ttlMs, warm items without it the scope default', () => {
    const { c, clock } = clocked()
    c.setScopeTtl('w', 20)
    c.warm([{ scope: 'w', id: 'a', payload: 1 }, { scope: 'w', id: 'b', payload: 2, ttlMs: 5 }, { scope: 'x', payload: 3 }])
    expect(c.get('w', { id: 'a' })?.expiresTs).toBe(T0 + 20_000)
    expect(c.get('w', { id: 'b' })?.expiresTs).toBe(T0 + 5_000)
    expect(c.get('x', { seq: 1 })?.expiresTs).toBeNull()
    clock.ms = 5
    expect(c.head('w').items.map((i) => i.id)).toEqual(['a'])
    c.rebuild([{ scope: 'w', id: 'c', payload: 3, ttlMs: 1 }, { scope: 'w', id: 'd', payload: 4 }])
    expect(c.scopeList().scopes).toMatchObject([{ scope: 'w', itemTtlMs: null }]) // rebuild makes scopes new
    clock.ms = 6
    expect(c.head('w').items.map((i) => i.id)).toEqual(['d'])
  })

  it('getOrLoad stores the loaded item with its ttlMs, and loads again once it expired', async () => {
    const { c, clock } = clocked()
    let loads = 0
    const load = (): number => ++loads
    const first = await c.getOrLoad('v', { id: 'x' }, load, { ttlMs: 30 })
    expect(first).toMatchObject({ payload: 1, expiresTs: T0 + 30_000 })
    expect(c.get('v', { id: 'x' })?.expiresTs).toBe(T0 + 30_000)
    clock.ms = 29
    expect((await c.getOrLoad('v', { id: 'x' }, load, { ttlMs: 30 })).payload).toBe(1)
    clock.ms = 30
    expect(await c.getOrLoad('v', { id: 'x' }, load, { ttlMs: 30 })).toMatchObject({ payload: 2, expiresTs: T0 + 60_000 })
    expect(loads).toBe(2)
    c.setScopeTtl('d', 7)
    expect((await c.getOrLoad('d', { id: 'y' }, load)).expiresTs).toBe(T0 + 37_000)
  })

  it('refuses a bad ttlMs (0, negative, fractional, non-numeric, too large) and stores nothing', () => {
    const { c } = clocked()
    c.append('s', 1, { id: 'a' })
    for (const bad of [0, -1, 1.5, '10', NaN, Infinity, MAX_TTL_MS + 1, null]) {
      const t = bad as number
      expect(codeOf(() => c.append('s', 2, { id: 'b', ttlMs: t })), `append ${String(bad)}`).toBe('invalid_input')
      expect(codeOf(() => c.upsert('s', 'b', 2, { ttlMs: t })), `upsert ${String(bad)}`).toBe('invalid_input')
      expect(codeOf(() => c.update('s', { id: 'a' }, 2, { ttlMs: t })), `update ${String(bad)}`).toBe('invalid_input')
      expect(codeOf(() => c.touch('s', { id: 'a' }, { ttlMs: t })), `touch ${String(bad)}`).toBe('invalid_input')
      expect(codeOf(() => c.warm([{ scope: 's', payload: 2, ttlMs: t }])), `warm ${String(bad)}`).toBe('invalid_input')
      if (bad !== null) expect(codeOf(() => c.setScopeTtl('s', t)), `setScopeTtl ${String(bad)}`).toBe('invalid_input')
    }
    expect(codeOf(() => c.touch('s', { id: 'a' }, undefined as never))).toBe('invalid_input')
    expect(codeOf(() => ScopeCache.create({ expirySweepMs: -1 }))).toBe('invalid_input')
    expect(c.tail('s').items).toMatchObject([{ id: 'a', payload: 1, expiresTs: null }])
    expect(c.scopeList().scopes[0]).toMatchObject({ itemCount: 1, itemTtlMs: null, lastSeq: 1 })
    expect(c.append('s', 2, { ttlMs: MAX_TTL_MS }).seq).toBe(2)
  })

  it('maxItemBytes counts the 8 bytes of an expiry', () => {
    const { c } = clocked({ maxItemBytes: 64 })
    const fits = 'x'.repeat(64 - 24 - 2 - 2) // 24-byte header, id 'a', two quotes
    c.append('s', fits, { id: 'a' })
    expect(codeOf(() => c.append('s', fits, { id: 'b', ttlMs: 10 }))).toBe('too_large')
    c.setScopeTtl('s', 10)
    expect(codeOf(() => c.append('s', fits, { id: 'c' }))).toBe('too_large')
    expect(codeOf(() => c.touch('s', { id: 'a' }, { ttlMs: 10 }))).toBe('too_large')
    expect(c.get('s', { id: 'a' })?.expiresTs).toBeNull()
  })

  it('reclaiming does not move the version: an expired item was invisible already', () => {
    const { c, clock } = clocked()
    c.append('s', 1, { ttlMs: 1 })
    const v = c.version('s')
    clock.ms = 1
    expect(c.sweepExpired()).toBe(1)
    expect(c.version('s')).toBe(v)
    c.append('s', 2, { ifVersion: v }) // a fenced write taken before the expiry still lands
  })

  it('the creating handle sweeps on an unref\'d timer', async () => {
    const c = make({ expirySweepMs: 5 })
    c.append('s', 1, { ttlMs: 1 })
    const deadline = Date.now() + 5000
    while (c.stats().expiredItems === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(c.stats()).toMatchObject({ items: 0, expiredItems: 1 })
  })
})

// ------------------------------------------------------------------------ model-based ----

interface RItem { id: string | null; seq: number; payload: number; end: number } // end: ms on the test clock, Infinity: none
interface RScope { lastSeq: number; ttl: number; items: RItem[] }

const SCOPES = ['a', 'b']
const IDS = ['x', 'y', 'z']
const ttlArb = fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined })
type Cmd =
  | { op: 'append'; scope: string; id: string | null; ttl?: number }
  | { op: 'upsert'; scope: string; id: string; ttl?: number }
  | { op: 'update'; scope: string; id: string; ttl?: number }
  | { op: 'counter'; scope: string; id: string }
  | { op: 'delete'; scope: string; id: string }
  | { op: 'touch'; scope: string; id: string; ttl: number }
  | { op: 'scopeTtl'; scope: string; ttl: number | null }
  | { op: 'warm'; scope: string; ids: (string | null)[]; ttl?: number }
  | { op: 'tick'; ms: number }
  | { op: 'sweep' }
const scopeArb = fc.constantFrom(...SCOPES)
const idArb = fc.constantFrom(...IDS)
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('append' as const), scope: scopeArb, id: fc.option(idArb, { nil: null }), ttl: ttlArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('upsert' as const), scope: scopeArb, id: idArb, ttl: ttlArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('update' as const), scope: scopeArb, id: idArb, ttl: ttlArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('counter' as const), scope: scopeArb, id: idArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), scope: scopeArb, id: idArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('touch' as const), scope: scopeArb, id: idArb, ttl: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('scopeTtl' as const), scope: scopeArb, ttl: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('warm' as const), scope: scopeArb, ids: fc.uniqueArray(fc.option(idArb, { nil: null }), { minLength: 1, maxLength: 3, selector: (v) => v ?? Math.random() }), ttl: ttlArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sweep' as const }) },
)

/** The reference: a write first drops its scope's expired items (they are gone for every read anyway). */
class Ref {
  scopes = new Map<string, RScope>()
  now = 0
  private scope(name: string): RScope {
    let s = this.scopes.get(name)
    if (s === undefined) this.scopes.set(name, (s = { lastSeq: 0, ttl: 0, items: [] }))
    return s
  }
  private live(name: string): RItem[] {
    return (this.scopes.get(name)?.items ?? []).filter((i) => i.end > this.now)
  }
  private end(s: RScope, ttl: number | undefined): number {
    const t = ttl ?? s.ttl
    return t > 0 ? this.now + t : Infinity
  }
  private drop(name: string): RScope | undefined {
    const s = this.scopes.get(name)
    if (s !== undefined) s.items = s.items.filter((i) => i.end > this.now)
    return s
  }
  run(c: Cmd): unknown {
    switch (c.op) {
      case 'append': {
        const s = this.drop(c.scope) ?? this.scope(c.scope)
        if (c.id !== null && s.items.some((i) => i.id === c.id)) return 'conflict'
        s.items.push({ id: c.id, seq: ++s.lastSeq, payload: s.lastSeq, end: this.end(s, c.ttl) })
        return s.lastSeq
      }
      case 'upsert': {
        const s = this.drop(c.scope) ?? this.scope(c.scope)
        const it = s.items.find((i) => i.id === c.id)
        if (it !== undefined) {
          it.payload = -it.seq
          it.end = this.end(s, c.ttl)
          return false
        }
        s.items.push({ id: c.id, seq: ++s.lastSeq, payload: s.lastSeq, end: this.end(s, c.ttl) })
        return true
      }
      case 'update': {
        const s = this.drop(c.scope)
        const it = s?.items.find((i) => i.id === c.id)
        if (s === undefined || it === undefined) return 0
        it.payload = it.seq * 10
        it.end = this.end(s, c.ttl)
        return 1
      }
      case 'counter': {
        const s = this.drop(c.scope) ?? this.scope(c.scope)
        const it = s.items.find((i) => i.id === c.id)
        if (it === undefined) {
          s.items.push({ id: c.id, seq: ++s.lastSeq, payload: 1, end: this.end(s, undefined) })
          return 1
        }
        if (!Number.isInteger(it.payload)) return 'conflict'
        return ++it.payload
      }
      case 'delete': {
        const s = this.drop(c.scope)
        const at = s?.items.findIndex((i) => i.id === c.id) ?? -1
        if (s === undefined || at < 0) return 0
        s.items.splice(at, 1)
        return 1
      }
      case 'touch': {
        const s = this.drop(c.scope)
        const it = s?.items.find((i) => i.id === c.id)
        if (it === undefined) return 0
        it.end = this.now + c.ttl
        return 1
      }
      case 'scopeTtl': {
        const s = this.drop(c.scope) ?? (c.ttl === null ? undefined : this.scope(c.scope))
        if (s !== undefined) s.ttl = c.ttl ?? 0
        return undefined
      }
      case 'warm': {
        const s = this.drop(c.scope) ?? this.scope(c.scope)
        s.items = c.ids.map((id) => ({ id, seq: ++s.lastSeq, payload: s.lastSeq, end: this.end(s, c.ttl) }))
        return undefined
      }
      case 'tick':
        this.now += c.ms
        return undefined
      case 'sweep':
        for (const name of this.scopes.keys()) this.drop(name)
        return undefined
    }
  }
  reads(name: string): unknown {
    const live = this.live(name)
    const out = (i: RItem): unknown => ({ id: i.id, seq: i.seq, payload: i.payload, expiresTs: i.end === Infinity ? null : T0 + i.end * 1000 })
    return { byId: IDS.map((id) => live.find((i) => i.id === id)).map((i) => (i === undefined ? undefined : out(i))), all: live.map(out), ttl: this.scopes.get(name)?.ttl || null }
  }
}

/** Runs `cmd` on the real store with the payloads the reference gave the items it wrote (after `ref.run`). */
function runReal(c: ScopeCache, cmd: Cmd, ref: Ref): unknown {
  const ttlOpt = (t: number | undefined): { ttlMs?: number } => (t === undefined ? {} : { ttlMs: t })
  const items = 'scope' in cmd ? ref.scopes.get(cmd.scope)?.items ?? [] : []
  const payloadOf = (id: string | null, seq?: number): number => items.find((i) => (seq !== undefined ? i.seq === seq : i.id === id))?.payload ?? 0
  try {
    switch (cmd.op) {
      case 'append': {
        const seq = ref.scopes.get(cmd.scope)?.lastSeq ?? 0
        return c.append(cmd.scope, payloadOf(null, seq), { id: cmd.id, ...ttlOpt(cmd.ttl) }).seq
      }
      case 'upsert': return c.upsert(cmd.scope, cmd.id, payloadOf(cmd.id), ttlOpt(cmd.ttl)).created
      case 'update': return c.update(cmd.scope, { id: cmd.id }, payloadOf(cmd.id), ttlOpt(cmd.ttl))
      case 'counter': return c.counterAdd(cmd.scope, cmd.id)
      case 'delete': return c.delete(cmd.scope, { id: cmd.id })
      case 'touch': return c.touch(cmd.scope, { id: cmd.id }, { ttlMs: cmd.ttl })
      case 'scopeTtl': return c.setScopeTtl(cmd.scope, cmd.ttl)
      case 'warm':
        c.warm(items.map((i) => ({ scope: cmd.scope, id: i.id, payload: i.payload, ...ttlOpt(cmd.ttl) })))
        return undefined
      case 'tick': return undefined
      case 'sweep': c.sweepExpired(); return undefined
    }
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

/** The real store's reads of a scope, in the reference's shape; head, tail and point reads must agree. */
function realReads(c: ScopeCache, name: string): unknown {
  const out = (i: { id: string | null; seq: number; payload: unknown; expiresTs: number | null } | undefined): unknown =>
    i === undefined ? undefined : { id: i.id, seq: i.seq, payload: i.payload, expiresTs: i.expiresTs }
  const head = c.head(name, { limit: 100 }).items
  const tail = c.tail(name, { limit: 100 }).items
  expect(tail.map((i) => i.seq)).toEqual(head.map((i) => i.seq))
  for (const i of head) expect(c.get(name, { seq: i.seq })?.expiresTs).toBe(i.expiresTs)
  return { byId: IDS.map((id) => out(c.get(name, { id }))), all: head.map(out), ttl: c.scopeList({ prefix: name }).scopes.find((s) => s.scope === name)?.itemTtlMs ?? null }
}

describe('expiry: ScopeCache vs a reference under an injected clock', () => {
  it('agrees on every read after every step, reclaims exactly what expired, keeps every invariant', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), (cmds) => {
        const c = ScopeCache.create({ maxStoreBytes: 1 << 20, expirySweepMs: 0 })
        const ref = new Ref()
        c[INTERNALS]().now = () => T0 + ref.now * 1000
        try {
          for (const cmd of cmds) {
            const want = ref.run(cmd)
            expect(runReal(c, cmd, ref), JSON.stringify(cmd)).toEqual(want)
            for (const name of SCOPES) expect(realReads(c, name), `${JSON.stringify(cmd)}: reads of ${name}`).toEqual(ref.reads(name))
            checkInvariants(c)
          }
          // a sweep leaves exactly the live items, and counts every one it or a write removed
          c.sweepExpired()
          ref.run({ op: 'sweep' })
          let stored = 0
          for (const s of ref.scopes.values()) stored += s.items.length
          expect(c.stats().items).toBe(stored)
        } finally {
          c.close()
        }
      }),
      { numRuns: 200 },
    )
  })
})
