/**
 * Model-based test: random command sequences run against the shared-memory store and against a
 * plain-JS reference (Maps and arrays, obviously correct), comparing every result and error code;
 * the invariant checker walks the store's memory after every command. Tiny caps make the full,
 * too-large and conflict paths fire often.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { itemBytes, rawJson, ScopeCache, ScopeCacheError } from '../src/index.js'
import { checkInvariants } from '../src/internals.js'

interface MItem { id: string | null; seq: number; text: string }
interface MScope { lastSeq: number; items: MItem[] }
type Model = Map<string, MScope>

const utf8 = (s: string): number => Buffer.byteLength(s)
const SCOPES = ['a', 'é:ü', 'x'.repeat(254) + 'é', 'b']
const IDS = ['k1', 'k2', 'k3', 'κ4']
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

class Ctx {
  constructor(readonly maxItemBytes: number, readonly scopeMaxItems: number) {}
  size(id: string | null, text: string): number {
    return itemBytes(id === null ? 0 : utf8(id), utf8(text))
  }
}

type Outcome = { ok: unknown } | { err: string }
const attempt = (fn: () => unknown): Outcome => {
  try {
    return { ok: fn() }
  } catch (e) {
    if (e instanceof ScopeCacheError) return { err: e.code }
    throw e
  }
}

/** Runs one operation on the model; returns its expected outcome (and mutates the model on success). */
type Op = { name: string; model(m: Model, c: Ctx): Outcome; real(s: ScopeCache): Outcome; write: boolean }

const meta = (scope: string, it: MItem): unknown => ({ scope, id: it.id, seq: it.seq })
const strip = (o: Outcome): Outcome => {
  if (!('ok' in o)) return o
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean)
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) if (k !== 'ts' && k !== 'bytes' && k !== 'createdTs' && k !== 'lastWriteTs' && k !== 'lastAccessTs' && k !== 'readCountTotal') out[k] = clean(x)
      return out
    }
    return v
  }
  return { ok: clean(o.ok) }
}

function insert(m: Model, c: Ctx, scope: string, id: string | null, text: string): Outcome {
  if (c.size(id, text) > c.maxItemBytes) return { err: 'too_large' }
  const sc = m.get(scope) ?? { lastSeq: 0, items: [] }
  if (id !== null && sc.items.some((i) => i.id === id)) return { err: 'conflict' }
  if (sc.items.length >= c.scopeMaxItems) return { err: 'scope_full' }
  const it = { id, seq: sc.lastSeq + 1, text }
  sc.lastSeq = it.seq
  sc.items.push(it)
  m.set(scope, sc)
  return { ok: meta(scope, it) }
}

const payloadArb = fc.oneof(
  // big strings, so the tight store fills up
  fc.integer({ min: 400, max: 980 }).map((n) => ({ v: 'z'.repeat(n) as unknown, text: JSON.stringify('z'.repeat(n)) })),
  fc.integer({ min: -5, max: 5 }).map((n) => ({ v: n as unknown, text: String(n) })),
  fc.string({ maxLength: 30 }).map((s) => ({ v: s as unknown, text: JSON.stringify(s) })),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null).map((v) => ({ v, text: JSON.stringify(v) })),
  fc.constantFrom(' {"b":1, "a":12345678901234567890} ', '[ 1,2 ]', '"\\u00e9"', '1e400', '"' + 'p'.repeat(150) + '"', '"' + 'q'.repeat(270) + '"', '"' + 'r'.repeat(900) + '"').map((t) => ({ v: rawJson(t) as unknown, text: t.trim() })),
)
const scopeArb = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...SCOPES) }, { weight: 1, arbitrary: fc.constantFrom(' x', 'a\u0001') })
const idArb = fc.constantFrom(...IDS)
const refArb = fc.oneof(idArb.map((id) => ({ id })), fc.integer({ min: 1, max: 12 }).map((seq) => ({ seq })))
const find = (sc: MScope | undefined, ref: { id?: string; seq?: number }): MItem | undefined =>
  sc?.items.find((i) => (ref.id !== undefined ? i.id === ref.id : i.seq === ref.seq))
const badKey = (s: string): boolean => s.startsWith(' ') || s.includes('\u0001')

const ops: fc.Arbitrary<Op>[] = [
  fc.tuple(scopeArb, fc.option(idArb, { nil: null }), payloadArb).map(([scope, id, p]): Op => ({
    name: `append(${scope.length > 20 ? 'long' : scope}, ${id}, ${p.text})`, write: true,
    model: (m, c) => (badKey(scope) ? { err: 'invalid_input' } : insert(m, c, scope, id, p.text)),
    real: (s) => attempt(() => s.append(scope, p.v, { id })),
  })),
  fc.tuple(scopeArb, idArb, payloadArb).map(([scope, id, p]): Op => ({
    name: `upsert(${scope.length > 20 ? 'long' : scope}, ${id}, ${p.text})`, write: true,
    model: (m, c) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      if (c.size(id, p.text) > c.maxItemBytes) return { err: 'too_large' }
      const it = find(m.get(scope), { id })
      if (it === undefined) {
        const r = insert(m, c, scope, id, p.text)
        return 'ok' in r ? { ok: { created: true, item: r.ok } } : r
      }
      it.text = p.text
      return { ok: { created: false, item: meta(scope, it) } }
    },
    real: (s) => attempt(() => s.upsert(scope, id, p.v)),
  })),
  fc.tuple(scopeArb, refArb, payloadArb).map(([scope, ref, p]): Op => ({
    name: `update(${scope.length > 20 ? 'long' : scope}, ${JSON.stringify(ref)}, ${p.text})`, write: true,
    model: (m, c) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      if (c.size((ref as { id?: string }).id ?? null, p.text) > c.maxItemBytes) return { err: 'too_large' }
      const it = find(m.get(scope), ref)
      if (it === undefined) return { ok: 0 }
      if (c.size(it.id, p.text) > c.maxItemBytes) return { err: 'too_large' }
      it.text = p.text
      return { ok: 1 }
    },
    real: (s) => attempt(() => s.update(scope, ref as never, p.v)),
  })),
  fc.tuple(scopeArb, idArb, fc.integer({ min: -3, max: 3 }).filter((n) => n !== 0)).map(([scope, id, by]): Op => ({
    name: `counterAdd(${scope.length > 20 ? 'long' : scope}, ${id}, ${by})`, write: true,
    model: (m, c) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      const it = find(m.get(scope), { id })
      if (it === undefined) {
        const r = insert(m, c, scope, id, String(by))
        return 'ok' in r ? { ok: by } : r
      }
      if (!/^-?(0|[1-9][0-9]*)$/.test(it.text) || !Number.isSafeInteger(Number(it.text))) return { err: 'conflict' }
      const next = Number(it.text) + by
      if (c.size(id, String(next)) > c.maxItemBytes) return { err: 'too_large' }
      it.text = String(next)
      return { ok: next }
    },
    real: (s) => attempt(() => s.counterAdd(scope, id, by)),
  })),
  fc.tuple(scopeArb, refArb).map(([scope, ref]): Op => ({
    name: `delete(${scope.length > 20 ? 'long' : scope}, ${JSON.stringify(ref)})`, write: true,
    model: (m) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      const sc = m.get(scope)
      const it = find(sc, ref)
      if (sc === undefined || it === undefined) return { ok: 0 }
      sc.items.splice(sc.items.indexOf(it), 1)
      return { ok: 1 }
    },
    real: (s) => attempt(() => s.delete(scope, ref as never)),
  })),
  fc.tuple(scopeArb, fc.oneof(fc.integer({ min: 1, max: 12 }).map((maxSeq) => ({ maxSeq })), fc.integer({ min: 0, max: 6 }).map((keep) => ({ keep })))).map(([scope, o]): Op => ({
    name: `trim(${scope.length > 20 ? 'long' : scope}, ${JSON.stringify(o)})`, write: true,
    model: (m) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      const sc = m.get(scope)
      if (sc === undefined) return { ok: 0 }
      const before = sc.items.length
      sc.items = 'maxSeq' in o ? sc.items.filter((i) => i.seq > o.maxSeq) : sc.items.slice(Math.max(0, before - o.keep))
      return { ok: before - sc.items.length }
    },
    real: (s) => attempt(() => s.trim(scope, o as never)),
  })),
  scopeArb.map((scope): Op => ({
    name: `dropScope(${scope.length > 20 ? 'long' : scope})`, write: true,
    model: (m) => {
      if (badKey(scope)) return { err: 'invalid_input' }
      const sc = m.get(scope)
      m.delete(scope)
      return { ok: { found: sc !== undefined, items: sc?.items.length ?? 0 } }
    },
    real: (s) => attempt(() => s.dropScope(scope)),
  })),
  fc.constantFrom('a', 'é', 'x').map((prefix): Op => ({
    name: `dropPrefix(${prefix})`, write: true,
    model: (m) => {
      let scopes = 0
      let items = 0
      for (const [k, sc] of m) if (k.startsWith(prefix)) { scopes++; items += sc.items.length; m.delete(k) }
      return { ok: { scopes, items } }
    },
    real: (s) => attempt(() => s.dropPrefix(prefix)),
  })),
  fc.constant<Op>({
    name: 'flush()', write: true,
    model: (m) => {
      const r = { scopes: m.size, items: [...m.values()].reduce((n, sc) => n + sc.items.length, 0) }
      m.clear()
      return { ok: r }
    },
    real: (s) => attempt(() => { const r = s.flush(); return { scopes: r.scopes, items: r.items } }),
  }),
  fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.constantFrom(...SCOPES), fc.option(idArb, { nil: null }), payloadArb), { maxLength: 6 })).map(([all, list]): Op => ({
    name: `${all ? 'rebuild' : 'warm'}(${JSON.stringify(list.map(([s, id, p]) => [s.length > 20 ? 'long' : s, id, p.text]))})`, write: true,
    model: (m, c) => {
      const groups = new Map<string, { id: string | null; text: string }[]>()
      for (const [s, id, p] of list) {
        if (c.size(id, p.text) > c.maxItemBytes) return { err: 'too_large' }
        const g = groups.get(s) ?? []
        if (id !== null && g.some((x) => x.id === id)) return { err: 'invalid_input' }
        g.push({ id, text: p.text })
        groups.set(s, g)
      }
      if ([...groups.values()].some((g) => g.length > c.scopeMaxItems)) return { err: 'scope_full' }
      if (all) m.clear()
      for (const [s, g] of groups) {
        const last = m.get(s)?.lastSeq ?? 0
        m.set(s, { lastSeq: last + g.length, items: g.map((x, k) => ({ id: x.id, seq: last + 1 + k, text: x.text })) })
      }
      return { ok: all ? { scopes: groups.size, items: list.length } : { scopes: groups.size } }
    },
    real: (s) => attempt(() => (all ? s.rebuild : s.warm).call(s, list.map(([scope, id, p]) => ({ scope, id, payload: p.v })))),
  })),
  fc.tuple(scopeArb, refArb).map(([scope, ref]): Op => ({
    name: `get(${scope.length > 20 ? 'long' : scope}, ${JSON.stringify(ref)})`, write: false,
    model: (m) => {
      const it = find(m.get(scope), ref)
      return { ok: it === undefined ? undefined : { ...(meta(scope, it) as object), payload: it.text } }
    },
    real: (s) => attempt(() => {
      const it = s.get(scope, ref as never)
      return it === undefined ? undefined : { scope: it.scope, id: it.id, seq: it.seq, payload: s.getRaw(scope, ref as never) }
    }),
  })),
  fc.tuple(scopeArb, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.boolean()).map(([scope, n, limit, isTail]): Op => ({
    name: `${isTail ? 'tail' : 'head'}(${scope.length > 20 ? 'long' : scope}, ${n}, ${limit})`, write: false,
    model: (m) => {
      const items = m.get(scope)?.items ?? []
      let from: number
      let to: number
      let truncated: boolean
      if (isTail) {
        to = Math.max(0, items.length - n)
        from = Math.max(0, to - limit)
        truncated = from > 0
      } else {
        from = items.findIndex((i) => i.seq > n)
        if (from < 0) from = items.length
        to = Math.min(items.length, from + limit)
        truncated = to < items.length
      }
      if (to <= from) truncated = isTail ? false : truncated
      return { ok: { items: items.slice(from, to).map((i) => ({ ...(meta(scope, i) as object), payload: i.text })), truncated: to > from || !isTail ? truncated : false } }
    },
    real: (s) => attempt(() => (isTail ? s.tail(scope, { offset: n, limit, raw: true }) : s.head(scope, { afterSeq: n, limit, raw: true }))),
  })),
  fc.constant<Op>({
    name: 'scopeList()', write: false,
    model: (m) => ({ ok: { scopes: [...m].sort(([a], [b]) => byteOrder(a, b)).map(([scope, sc]) => ({ scope, itemCount: sc.items.length, lastSeq: sc.lastSeq })), truncated: false } }),
    real: (s) => attempt(() => s.scopeList()),
  }),
]
// Writes that grow the store are drawn more often than wipes, so the tight store fills up.
const WEIGHTS = [8, 4, 2, 3, 2, 2, 1, 1, 1, 1, 3, 3, 1]
const opArb: fc.Arbitrary<Op> = fc.oneof(...ops.map((arbitrary, i) => ({ arbitrary, weight: WEIGHTS[i] })))

let storeFullSeen = 0

class OpCommand implements fc.Command<{ m: Model; c: Ctx }, ScopeCache> {
  constructor(readonly op: Op) {}
  check = (): boolean => true
  run(model: { m: Model; c: Ctx }, real: ScopeCache): void {
    const snapshot = new Map([...model.m].map(([k, v]) => [k, { lastSeq: v.lastSeq, items: v.items.map((i) => ({ ...i })) }]))
    const got = strip(this.op.real(real))
    if ('err' in got && got.err === 'store_full') {
      storeFullSeen++
      // The model does not count bytes: accept store_full, but the write must leave no trace.
      model.m.clear()
      for (const [k, v] of snapshot) model.m.set(k, v)
      expect(strip({ ok: real.scopeList() })).toEqual(strip(scopeListOf(model.m)))
    } else {
      const want = this.op.model(model.m, model.c)
      expect(got).toEqual(want)
    }
    checkInvariants(real)
  }
  toString = (): string => this.op.name
}

const scopeListOf = (m: Model): Outcome => ({
  ok: { scopes: [...m].sort(([a], [b]) => byteOrder(a, b)).map(([scope, sc]) => ({ scope, itemCount: sc.items.length, lastSeq: sc.lastSeq })), truncated: false },
})

describe('model-based: the store behaves like a plain Map-of-arrays reference', () => {
  for (const [label, maxStoreBytes] of [['roomy store', 1 << 20], ['tight store', 4096]] as const) {
    it(`random command sequences, ${label}`, () => {
      storeFullSeen = 0
      fc.assert(
        fc.property(fc.commands([opArb.map((op) => new OpCommand(op))], { maxCommands: 200, size: '+1' }), (cmds) => {
          const c = new Ctx(1024, 6)
          const real = ScopeCache.create({ maxStoreBytes, maxItemBytes: c.maxItemBytes, scopeMaxItems: c.scopeMaxItems, maxThreads: 4 })
          try {
            fc.modelRun(() => ({ model: { m: new Map(), c }, real }), cmds)
          } finally {
            real.close()
          }
        }),
        { numRuns: 300 },
      )
      // the tight store must really exercise the full path (the roomy one may never fill)
      if (maxStoreBytes < 65536) expect(storeFullSeen).toBeGreaterThan(0)
    })
  }

  it('the reference agrees with hand-checked sequences', () => {
    const m: Model = new Map()
    const c = new Ctx(320, 6)
    expect(insert(m, c, 'a', 'k1', '1')).toEqual({ ok: { scope: 'a', id: 'k1', seq: 1 } })
    expect(insert(m, c, 'a', 'k1', '2')).toEqual({ err: 'conflict' })
    expect(insert(m, c, 'a', null, '"' + 'x'.repeat(300) + '"')).toEqual({ err: 'too_large' })
    for (let i = 0; i < 5; i++) insert(m, c, 'a', null, String(i))
    expect(insert(m, c, 'a', null, '9')).toEqual({ err: 'scope_full' })
    expect(m.get('a')?.lastSeq).toBe(6)
  })
})
