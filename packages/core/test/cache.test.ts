import { describe, expect, it } from 'vitest'
import { itemBytes, rawJson, ScopeCache, ScopeCacheError, type ErrorCode } from '../src/index.js'
import { storesClosedAfterEach } from './helpers.js'
import { checkInvariants, INTERNALS } from '../src/internals.js'

const make = storesClosedAfterEach()

const code = (fn: () => unknown): ErrorCode | 'none' => {
  try {
    fn()
    return 'none'
  } catch (e) {
    expect(e).toBeInstanceOf(ScopeCacheError)
    return (e as ScopeCacheError).code
  }
}

describe('append and get', () => {
  it('assigns seq from 1 and returns meta without payload', () => {
    const c = make()
    const a = c.append('s', { v: 1 }, { id: 'a' })
    expect(a).toMatchObject({ scope: 's', id: 'a', seq: 1 })
    expect(Number.isSafeInteger(a.ts) && a.ts > 1.7e15).toBe(true)
    expect(c.append('s', 2)).toMatchObject({ id: null, seq: 2 })
    expect(c.get('s', { id: 'a' })).toEqual({ scope: 's', id: 'a', seq: 1, ts: a.ts, expiresTs: null, payload: { v: 1 } })
    expect(c.get('s', { seq: 2 })?.payload).toBe(2)
    expect(c.get('s', { seq: 3 })).toBeUndefined()
    expect(c.get('nope', { id: 'a' })).toBeUndefined()
  })

  it('stores payload bytes exactly and returns copies', () => {
    const c = make()
    const text = '{"b" : 1,"a":12345678901234567890123, "e":"\\u00e9\\n", "x":[ ]}'
    c.append('s', rawJson(`  ${text}\n`), { id: 'r' })
    expect(c.getRaw('s', { id: 'r' })).toBe(text)
    const bytes = c.getBytes('s', { id: 'r' }) as Uint8Array
    expect(Buffer.from(bytes).toString()).toBe(text)
    bytes[0] = 0
    expect(c.getRaw('s', { id: 'r' })).toBe(text)
    c.append('s', rawJson(Buffer.from('"héllo ✓ 𝄞"')), { id: 'u' })
    expect(c.get('s', { id: 'u' })?.payload).toBe('héllo ✓ 𝄞')
    c.append('s', 'plain string', { id: 'p' })
    expect(c.getRaw('s', { id: 'p' })).toBe('"plain string"')
  })

  it('rejects duplicate ids, bad keys and bad payloads with typed errors and no trace', () => {
    const c = make()
    c.append('s', 1, { id: 'a' })
    const before = c.stats()
    expect(code(() => c.append('s', 2, { id: 'a' }))).toBe('conflict')
    expect(code(() => c.append('', 1))).toBe('invalid_input')
    expect(code(() => c.append(' s', 1))).toBe('invalid_input')
    expect(code(() => c.append('s\u0001', 1))).toBe('invalid_input')
    expect(code(() => c.append('x'.repeat(257), 1))).toBe('invalid_input')
    expect(code(() => c.append('s', 1, { id: 'a\u00a0' }))).toBe('invalid_input')
    // @ts-expect-error -- the types refuse it too; this is the run-time check
    expect(code(() => c.append('s', undefined))).toBe('invalid_input')
    // @ts-expect-error -- the types refuse it too; this is the run-time check
    expect(code(() => c.append('s', null))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson('null')))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson('{"a":}')))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson('1 2')))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson('"\ud800"')))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson(new Uint8Array([0x22, 0xc3, 0x28, 0x22]))))).toBe('invalid_input')
    expect(code(() => c.append('s', rawJson('['.repeat(10_001) + ']'.repeat(10_001))))).toBe('invalid_input')
    // @ts-expect-error -- the types refuse it too; this is the run-time check
    expect(code(() => c.append('s', 10n))).toBe('invalid_input')
    const cyc: Record<string, unknown> = {}
    cyc.self = cyc
    expect(code(() => c.append('s', cyc as never))).toBe('invalid_input')
    expect(code(() => c.append('new-scope', rawJson('{')))).toBe('invalid_input')
    expect(c.stats()).toEqual({ ...before, lastWriteTs: before.lastWriteTs })
    expect(c.scopeList().scopes.map((s) => s.scope)).toEqual(['s'])
    // 256 bytes of multi-byte characters is fine, 257 is not
    expect(code(() => c.append('é'.repeat(128), 1))).toBe('none')
    expect(code(() => c.append('é'.repeat(128) + 'x', 1))).toBe('invalid_input')
    // U+FEFF is not Go whitespace; C1 controls inside are allowed
    expect(code(() => c.append('\ufeffs\u0090', 1))).toBe('none')
    expect(code(() => c.append('s', rawJson('['.repeat(10_000) + ']'.repeat(10_000))))).toBe('none')
  })

  it('stats().lastWriteTs is the latest write of any handle, and survives a handle closing', () => {
    const c = make()
    const other = ScopeCache.attach(c.handle) // another thread slot (its own last-write word)
    const a = c.append('s', 1)
    expect(c.stats().lastWriteTs).toBe(a.ts)
    const b = other.upsert('s', 'k', 2).item
    expect(b.ts).toBeGreaterThanOrEqual(a.ts)
    expect(c.stats().lastWriteTs).toBe(b.ts)
    expect(other.stats().lastWriteTs).toBe(b.ts)
    other.close()
    expect(c.stats().lastWriteTs).toBe(b.ts)
    const again = ScopeCache.attach(c.handle) // reuses the freed slot: its value stays a past write's
    expect(c.stats().lastWriteTs).toBe(b.ts)
    expect(again.counterAdd('s', 'n', 3)).toBe(3)
    expect(c.stats().lastWriteTs).toBeGreaterThanOrEqual(b.ts)
    again.close()
  })

  it('replaces reuse the block the previous replace retired, accounted as a deferred free', () => {
    const c = make()
    const pending = (): number => c[INTERNALS]().v.i32[19] * 8 // H_PENDING_B8
    for (let i = 0; i < 8; i++) c.upsert('s', 'k' + i, { v: 'x'.repeat(20) })
    const bytes = c.stats().bytes
    for (let r = 0; r < 50; r++) {
      const i = r % 8
      // same size (swap with the spare), then a different size (an allocator round)
      expect(c.upsert('s', 'k' + i, { v: String.fromCharCode(97 + (r % 26)).repeat(20) }).created).toBe(false)
      checkInvariants(c)
      expect(pending()).toBeGreaterThan(0) // the spare: one retired block, owned by this thread
      if (r % 5 === 0) c.update('s', { id: 'k' + i }, { v: 'y'.repeat(200 + r) })
      else c.counterAdd('n', 'c' + (r % 3), r + 1)
      checkInvariants(c)
    }
    for (let i = 0; i < 8; i++) c.upsert('s', 'k' + i, { v: 'z'.repeat(20) })
    expect(c.stats().bytes).toBeGreaterThanOrEqual(bytes)
    for (let i = 0; i < 8; i++) expect(c.get('s', { id: 'k' + i })?.payload).toEqual({ v: 'z'.repeat(20) })
    c.append('s', 1) // any other allocation frees the spare in its round
    expect(pending()).toBe(0)
    checkInvariants(c)
    c.upsert('s', 'k0', 2)
    expect(pending()).toBeGreaterThan(0)
    c.close() // and close() frees it
  })

  it('a replace over the budget fails with store_full and changes nothing, with or without a spare', () => {
    const c = make({ maxStoreBytes: 64 * 1024 })
    c.upsert('s', 'big', { v: 'a'.repeat(1000) })
    c.upsert('s', 'big', { v: 'b'.repeat(1000) }) // a spare of that size now exists
    let n = 0
    try {
      for (;;) c.append('fill', { v: 'f'.repeat(1000), n: n++ })
    } catch (e) {
      expect((e as ScopeCacheError).code).toBe('store_full')
    }
    checkInvariants(c)
    const before = c.getRaw('s', { id: 'big' })
    expect(() => c.upsert('s', 'big', { v: 'c'.repeat(20_000) })).toThrow(ScopeCacheError)
    expect(c.getRaw('s', { id: 'big' })).toBe(before)
    checkInvariants(c)
    c.upsert('s', 'big', { v: 'd'.repeat(1000) }) // same size: fits
    expect(c.getRaw('s', { id: 'big' })).toBe(JSON.stringify({ v: 'd'.repeat(1000) }))
    checkInvariants(c)
  })

  it('ids and payloads of every length and alphabet round-trip (JS copy and Buffer.write paths)', () => {
    const c = make()
    const ids = ['a', 'x'.repeat(64), 'y'.repeat(65), 'é', 'a'.repeat(63) + 'é', 'z'.repeat(200) + '\u{1f600}']
    const texts = ['1', '"' + 'p'.repeat(62) + '"', '"' + 'q'.repeat(63) + '"', '"' + 'é'.repeat(30) + '"', '"' + 'r'.repeat(500) + '"']
    for (const [i, id] of ids.entries()) {
      for (const [j, t] of texts.entries()) {
        c.append('s' + j, rawJson(t), { id })
        c.upsert('u' + j, id, JSON.parse(t))
      }
      for (const [j, t] of texts.entries()) {
        expect(c.getRaw('s' + j, { id }), `${i}/${j}`).toBe(t)
        expect(c.getRaw('u' + j, { id }), `${i}/${j}`).toBe(t)
      }
    }
  })

  it('rejects an item over maxItemBytes with too_large, counted by itemBytes()', () => {
    const c = make({ maxItemBytes: 256 })
    const fits = 'x'.repeat(256 - itemBytes(1, 2))
    expect(code(() => c.append('s', fits, { id: 'a' }))).toBe('none')
    expect(code(() => c.append('s', fits + 'xxxxxxxx', { id: 'b' }))).toBe('too_large')
  })
})

describe('raw reads and counter details', () => {
  it('get and getMany with raw: true return the stored JSON text with the item meta, in one read', () => {
    const c = make()
    const m = c.append('s', rawJson('{ "b":1,  "a":2 }'), { id: 'x' })
    c.append('s', 'str')
    expect(c.get('s', { id: 'x' }, { raw: true })).toEqual({ scope: 's', id: 'x', seq: 1, ts: m.ts, expiresTs: null, payload: '{ "b":1,  "a":2 }' })
    expect(c.get('s', { seq: 2 }, { raw: true })?.payload).toBe('"str"')
    expect(c.get('s', { seq: 9 }, { raw: true })).toBeUndefined()
    expect(c.getMany([{ scope: 's', id: 'x' }, { scope: 'nope', seq: 1 }, { scope: 's', seq: 2 }], { raw: true }).map((it) => it?.payload)).toEqual([
      '{ "b":1,  "a":2 }', undefined, '"str"',
    ])
  })

  it('counter() says whether this call created the counter', () => {
    const c = make()
    expect(c.counter('n', 'hits', 3)).toEqual({ created: true, value: 3 })
    expect(c.counter('n', 'hits', -1)).toEqual({ created: false, value: 2 })
    expect(c.counterAdd('n', 'hits')).toBe(3)
  })
})

describe('ids whose hash is 0', () => {
  it('trim removes them from the id table like any other (no dangling entry)', () => {
    const c = make({ maxStoreBytes: 256 * 1024 })
    const x = c[INTERNALS]()
    // An id that hashes to 0 under this store's seed: the finaliser maps 0 to 0, so the FNV state
    // must end at 0. Solve the last two units: ((s ^ c1) · P ^ c2) · P = 0 ⇔ s ^ c1 = c2 · P⁻¹.
    const seed = x.cfg.seed ^ 0x5bd1e995
    const P = 0x01000193
    let inv = P
    for (let k = 0; k < 5; k++) inv = Math.imul(inv, 2 - Math.imul(P, inv)) // Newton: P · inv ≡ 1
    const plain = (c: number): boolean => (c > 0x20 && c < 0x7f) || (c >= 0x100 && c < 0x2000) || (c >= 0x4e00 && c < 0xd800)
    const byHigh = new Map<number, number>() // high 16 bits of c2 · P⁻¹ → c2
    for (let c2 = 0x21; c2 < 0xd800; c2++) if (plain(c2)) byHigh.set(Math.imul(c2, inv) >>> 16, c2)
    let id = ''
    for (let n = 0; id === ''; n++) {
      const prefix = `p${n}`
      let h = 0x811c9dc5 ^ seed
      for (let i = 0; i < prefix.length; i++) h = Math.imul(h ^ prefix.charCodeAt(i), P)
      const c2 = byHigh.get(h >>> 16)
      if (c2 === undefined) continue
      const c1 = (h ^ Math.imul(c2, inv)) & 0xffff
      if (plain(c1)) id = prefix + String.fromCharCode(c1, c2)
    }
    expect(x.hashId(id)).toBe(0)
    c.append('s', { n: 'old' }, { id })
    c.append('s', { n: 'keep' }, { id: 'keep' })
    expect(c.trim('s', { keep: 1 })).toBe(1)
    expect(c.get('s', { id })).toBeUndefined()
    expect(c.upsert('s', id, { n: 'again' }).created).toBe(true)
  })
})

describe('caps', () => {
  it('scope_full at scopeMaxItems names the scope; replace still works at the cap', () => {
    const c = make({ scopeMaxItems: 3 })
    for (let i = 0; i < 3; i++) c.append('cap', i, { id: `k${i}` })
    try {
      c.append('cap', 9)
      expect.unreachable()
    } catch (e) {
      expect((e as ScopeCacheError).code).toBe('scope_full')
      expect((e as ScopeCacheError).details?.scopes).toEqual([{ scope: 'cap', count: 3, cap: 3 }])
    }
    expect(c.upsert('cap', 'k1', 'new').created).toBe(false)
    expect(c.update('cap', { seq: 1 }, 'upd')).toBe(1)
    expect(code(() => c.upsert('cap', 'k9', 1))).toBe('scope_full')
    expect(c.tail('cap').items.map((i) => i.seq)).toEqual([1, 2, 3])
  })

  it('store_full never lets charged bytes pass the budget and leaves no trace', () => {
    const c = make({ maxStoreBytes: 16 * 1024 })
    let n = 0
    let err: ScopeCacheError | undefined
    for (; n < 10_000; n++) {
      try {
        c.append(`s${n % 7}`, 'x'.repeat(200), { id: `i${n}` })
      } catch (e) {
        err = e as ScopeCacheError
        break
      }
    }
    expect(err?.code).toBe('store_full')
    expect(err?.details?.maxStoreBytes).toBe(16 * 1024)
    expect(c.stats().bytes).toBeLessThanOrEqual(16 * 1024)
    const scopes = c.stats().scopes
    // a write that would create a scope and fail leaves no scope behind
    expect(code(() => c.append('brand-new', 'x'.repeat(2000)))).toBe('store_full')
    expect(c.stats().scopes).toBe(scopes)
    expect(c.get('brand-new', { seq: 1 })).toBeUndefined()
    // deletes and reads keep working on a full store
    expect(c.delete('s0', { id: 'i0' })).toBe(1)
    expect(c.get('s1', { id: 'i1' })?.payload).toBe('x'.repeat(200))
  })

  it('a store under steady churn reuses memory and does not grow', () => {
    const c = make({ maxStoreBytes: 256 * 1024 })
    for (let i = 0; i < 200; i++) c.append('q', { i, pad: 'p'.repeat(i % 50) })
    const mark = c.stats().bytes
    let peak = 0
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20; i++) c.append('q', { i, pad: 'p'.repeat((round + i) % 50) })
      c.trim('q', { keep: 200 })
      peak = Math.max(peak, c.stats().bytes)
    }
    expect(peak).toBeLessThan(mark * 1.5)
    const heap = checkInvariants(c)
    expect(heap.usedBytes + heap.freeBytes).toBeGreaterThan(0)
  })
})

describe('upsert, update, counterAdd', () => {
  it('upsert creates then replaces in place, keeping seq and position', () => {
    const c = make()
    c.append('s', 0)
    expect(c.upsert('s', 'a', 1)).toMatchObject({ created: true, item: { seq: 2 } })
    c.append('s', 3)
    expect(c.upsert('s', 'a', { v: 2 })).toMatchObject({ created: false, item: { seq: 2, id: 'a' } })
    expect(c.tail('s').items.map((i) => [i.seq, i.payload])).toEqual([[1, 0], [2, { v: 2 }], [3, 3]])
    expect(code(() => c.upsert('s', '', 1))).toBe('invalid_input')
  })

  it('update by id and seq; a miss returns 0 and creates nothing', () => {
    const c = make()
    c.append('s', 1, { id: 'a' })
    expect(c.update('s', { id: 'a' }, 'x')).toBe(1)
    expect(c.update('s', { seq: 1 }, 'y')).toBe(1)
    expect(c.getRaw('s', { id: 'a' })).toBe('"y"')
    expect(c.update('s', { seq: 9 }, 1)).toBe(0)
    expect(c.update('nope', { id: 'a' }, 1)).toBe(0)
    expect(c.stats().scopes).toBe(1)
    expect(code(() => c.update('s', {} as never, 1))).toBe('invalid_input')
    expect(code(() => c.update('s', { id: 'a', seq: 1 } as never, 1))).toBe('invalid_input')
  })

  it('counterAdd creates, adds, refuses non-integers and overflow', () => {
    const c = make()
    expect(c.counterAdd('k', 'n')).toBe(1)
    expect(c.counterAdd('k', 'n', 41)).toBe(42)
    expect(c.counterAdd('k', 'n', -50)).toBe(-8)
    c.append('k', { not: 'int' }, { id: 'o' })
    c.append('k', rawJson('1.5'), { id: 'f' })
    expect(code(() => c.counterAdd('k', 'o'))).toBe('conflict')
    expect(code(() => c.counterAdd('k', 'f'))).toBe('conflict')
    expect(code(() => c.counterAdd('k', 'n', 0))).toBe('invalid_input')
    expect(code(() => c.counterAdd('k', 'n', 1.5))).toBe('invalid_input')
    c.counterAdd('k', 'big', Number.MAX_SAFE_INTEGER)
    expect(code(() => c.counterAdd('k', 'big', 1))).toBe('invalid_input')
    expect(c.get('k', { id: 'big' })?.payload).toBe(Number.MAX_SAFE_INTEGER)
    expect(c.getRaw('k', { id: 'n' })).toBe('-8')
  })
})

describe('ordered reads', () => {
  const fill = (c: ScopeCache, n: number): void => {
    for (let i = 1; i <= n; i++) c.append('s', i, { id: `k${i}` })
  }

  it('tail: newest window oldest-first, offset, truncated means older items exist', () => {
    const c = make()
    fill(c, 10)
    expect(c.tail('s', { limit: 3 })).toMatchObject({ truncated: true })
    expect(c.tail('s', { limit: 3 }).items.map((i) => i.seq)).toEqual([8, 9, 10])
    expect(c.tail('s', { limit: 3, offset: 2 }).items.map((i) => i.seq)).toEqual([6, 7, 8])
    expect(c.tail('s', { limit: 20 })).toMatchObject({ truncated: false })
    expect(c.tail('s', { offset: 10 })).toEqual({ items: [], truncated: false })
    expect(c.tail('s', { limit: 5, offset: 7 }).items.map((i) => i.seq)).toEqual([1, 2, 3])
    expect(code(() => c.tail('s', { limit: 0 }))).toBe('invalid_input')
    expect(code(() => c.tail('s', { offset: -1 }))).toBe('invalid_input')
  })

  it('head: cursor read after a seq, truncated means more exist', () => {
    const c = make()
    fill(c, 10)
    expect(c.head('s', { limit: 4 }).items.map((i) => i.seq)).toEqual([1, 2, 3, 4])
    expect(c.head('s', { afterSeq: 8 })).toMatchObject({ truncated: false })
    expect(c.head('s', { afterSeq: 8 }).items.map((i) => i.seq)).toEqual([9, 10])
    expect(c.head('s', { afterSeq: 4, limit: 2 })).toMatchObject({ truncated: true })
    expect(c.head('s', { afterSeq: 10 })).toEqual({ items: [], truncated: false })
    c.trim('s', { maxSeq: 5 })
    expect(c.head('s', { afterSeq: 2, limit: 2 }).items.map((i) => i.seq)).toEqual([6, 7])
    expect(c.head('s', { raw: true }).items[0].payload).toBe('6')
    expect(code(() => c.head('s', { afterSeq: -1 }))).toBe('invalid_input')
  })

  it('get by seq finds items across holes left by deletes', () => {
    const c = make()
    fill(c, 50)
    for (const s of [3, 4, 10, 20, 21, 22, 49]) expect(c.delete('s', { seq: s })).toBe(1)
    for (let s = 1; s <= 50; s++) {
      const gone = [3, 4, 10, 20, 21, 22, 49].includes(s)
      expect(c.get('s', { seq: s })?.payload).toBe(gone ? undefined : s)
      expect(c.get('s', { id: `k${s}` })?.seq).toBe(gone ? undefined : s)
    }
    expect(c.delete('s', { id: 'k3' })).toBe(0)
  })

  it('getMany returns positional results and caps targets', () => {
    const c = make()
    fill(c, 3)
    const r = c.getMany([{ scope: 's', id: 'k2' }, { scope: 's', seq: 9 }, { scope: 'x', seq: 1 }, { scope: 's', seq: 3 }])
    expect(r.map((i) => i?.payload)).toEqual([2, undefined, undefined, 3])
    expect(code(() => c.getMany(Array.from({ length: 1001 }, () => ({ scope: 's', seq: 1 }))))).toBe('invalid_input')
    expect(code(() => c.getMany([{ scope: 's' } as never]))).toBe('invalid_input')
  })

  it('reads are permissive about bad keys but strict about malformed calls', () => {
    const c = make()
    fill(c, 2)
    expect(c.get(' bad', { id: 'k1' })).toBeUndefined()
    expect(c.get('s', { id: 'k1\u0000' })).toBeUndefined()
    expect(c.tail('\u0000').items).toEqual([])
    expect(code(() => c.get('s', {} as never))).toBe('invalid_input')
    expect(code(() => c.get('s', { seq: 0 }))).toBe('invalid_input')
    expect(code(() => c.get('s', { seq: 1.5 }))).toBe('invalid_input')
  })

  it('limit is clamped to 10 000', () => {
    const c = make({ maxStoreBytes: 8 << 20, scopeMaxItems: 20_000 })
    for (let i = 0; i < 10_005; i++) c.append('big', i)
    expect(c.tail('big', { limit: 50_000 }).items.length).toBe(10_000)
  })
})

describe('seq is never reused within a scope life', () => {
  it('delete, trim, drain and warm continue the counter; drop restarts it', () => {
    const c = make()
    for (let i = 0; i < 5; i++) c.append('s', i)
    c.delete('s', { seq: 5 })
    expect(c.append('s', 'x').seq).toBe(6)
    c.trim('s', { keep: 0 })
    expect(c.stats().scopes).toBe(1)
    expect(c.append('s', 'y').seq).toBe(7)
    c.warm([{ scope: 's', payload: 'w1' }, { scope: 's', payload: 'w2' }])
    expect(c.tail('s').items.map((i) => [i.seq, i.payload])).toEqual([[8, 'w1'], [9, 'w2']])
    expect(c.append('s', 'z').seq).toBe(10)
    expect(c.dropScope('s')).toEqual({ found: true, items: 3 })
    expect(c.append('s', 'again').seq).toBe(1)
  })
})

describe('trim, drop, flush', () => {
  it('trim by maxSeq and by keep', () => {
    const c = make()
    for (let i = 1; i <= 10; i++) c.append('s', i, { id: `k${i}` })
    expect(c.trim('s', { maxSeq: 3 })).toBe(3)
    expect(c.trim('s', { maxSeq: 3 })).toBe(0)
    expect(c.get('s', { id: 'k3' })).toBeUndefined()
    expect(c.trim('s', { keep: 4 })).toBe(3)
    expect(c.tail('s').items.map((i) => i.seq)).toEqual([7, 8, 9, 10])
    expect(c.trim('nope', { keep: 1 })).toBe(0)
    expect(code(() => c.trim('s', {} as never))).toBe('invalid_input')
    expect(code(() => c.trim('s', { maxSeq: 0 }))).toBe('invalid_input')
    expect(code(() => c.trim('s', { maxSeq: 1, keep: 1 } as never))).toBe('invalid_input')
    // ids of trimmed items can be used again
    expect(c.append('s', 'again', { id: 'k1' }).seq).toBe(11)
  })

  it('dropScope, dropPrefix, flush report what they removed', () => {
    const c = make()
    c.append('user:1:a', 1)
    c.append('user:1:b', 1)
    c.append('user:1:b', 2)
    c.append('user:2:a', 1)
    expect(c.dropPrefix('user:1:')).toEqual({ scopes: 2, items: 3 })
    expect(c.dropScope('user:1:a')).toEqual({ found: false, items: 0 })
    expect(code(() => c.dropPrefix(''))).toBe('invalid_input')
    const before = c.stats().bytes
    expect(c.flush()).toEqual({ scopes: 1, items: 1, bytes: before })
    expect(c.stats()).toMatchObject({ scopes: 0, items: 0, bytes: 0 })
  })
})

describe('warm and rebuild', () => {
  it('warm replaces only listed scopes, atomically and all-or-nothing', () => {
    const c = make({ scopeMaxItems: 3 })
    c.append('a', 1, { id: 'x' })
    c.append('keep', 1)
    expect(c.warm([{ scope: 'a', id: 'y', payload: 2 }, { scope: 'b', payload: 3 }])).toEqual({ scopes: 2 })
    expect(c.get('a', { id: 'x' })).toBeUndefined()
    expect(c.get('a', { id: 'y' })?.seq).toBe(2)
    expect(c.get('b', { seq: 1 })?.payload).toBe(3)
    expect(c.get('keep', { seq: 1 })?.payload).toBe(1)
    const snapshot = JSON.stringify(c.scopeList())
    expect(code(() => c.warm([{ scope: 'a', id: 'd', payload: 1 }, { scope: 'a', id: 'd', payload: 2 }]))).toBe('invalid_input')
    try {
      c.warm([1, 2, 3, 4].map((i) => ({ scope: 'c', payload: i })).concat([1, 2, 3, 4].map((i) => ({ scope: 'd', payload: i }))))
      expect.unreachable()
    } catch (e) {
      expect((e as ScopeCacheError).code).toBe('scope_full')
      expect((e as ScopeCacheError).message).toBe('multiple scopes are at capacity')
      expect((e as ScopeCacheError).details?.scopes?.map((s) => s.scope).sort()).toEqual(['c', 'd'])
    }
    expect(code(() => c.warm([{ scope: 'a', payload: 1 }, { scope: ' bad', payload: 1 }]))).toBe('invalid_input')
    expect(JSON.stringify(c.scopeList())).toBe(snapshot)
    expect(c.warm([])).toEqual({ scopes: 0 })
  })

  it('warm that would pass the budget fails with store_full and changes nothing', () => {
    const c = make({ maxStoreBytes: 8192 })
    c.append('a', 'small')
    const before = c.stats().bytes
    expect(code(() => c.warm([{ scope: 'b', payload: 'x'.repeat(3000) }, { scope: 'c', payload: 'x'.repeat(3000) }, { scope: 'd', payload: 'x'.repeat(3000) }]))).toBe('store_full')
    expect(c.stats().bytes).toBe(before)
    expect(c.stats().scopes).toBe(1)
  })

  it('rebuild replaces everything with new scopes; [] empties the store', () => {
    const c = make()
    c.append('old', 1)
    c.append('s', 1)
    c.append('s', 2)
    expect(c.rebuild([{ scope: 's', id: 'a', payload: 'A' }, { scope: 't', payload: 'T' }])).toEqual({ scopes: 2, items: 2 })
    expect(c.get('old', { seq: 1 })).toBeUndefined()
    expect(c.get('s', { id: 'a' })?.seq).toBe(1)
    expect(c.scopeList().scopes.map((s) => [s.scope, s.lastSeq, s.readCountTotal])).toEqual([['s', 1, 1], ['t', 1, 0]])
    expect(c.rebuild([])).toEqual({ scopes: 0, items: 0 })
    expect(c.stats()).toMatchObject({ scopes: 0, items: 0, bytes: 0 })
  })
})

describe('stats and scopeList', () => {
  it('counts reads exactly within one thread and pages by byte order', () => {
    const c = make()
    for (const s of ['b', 'a', 'é', '\u{1F600}', '\uffff', 'ab']) c.append(s, 1)
    c.get('a', { seq: 1 })
    c.get('a', { seq: 1 })
    c.tail('a')
    c.get('a', { seq: 9 }) // a miss does not count
    const all = c.scopeList()
    expect(all.scopes.map((s) => s.scope)).toEqual(['a', 'ab', 'b', 'é', '\uffff', '\u{1F600}'])
    expect(all.scopes[0]).toMatchObject({ itemCount: 1, lastSeq: 1, readCountTotal: 3 })
    expect(all.scopes[0].lastAccessTs).toBeGreaterThan(0)
    const p1 = c.scopeList({ limit: 2 })
    expect(p1).toMatchObject({ truncated: true })
    const p2 = c.scopeList({ limit: 10, after: p1.scopes[1].scope })
    expect(p2.scopes.map((s) => s.scope)).toEqual(['b', 'é', '\uffff', '\u{1F600}'])
    expect(c.scopeList({ prefix: 'a' }).scopes.map((s) => s.scope)).toEqual(['a', 'ab'])
    const st = c.stats()
    expect(st).toMatchObject({ scopes: 6, items: 6, maxStoreBytes: 1 << 20 })
    expect(st.bytes).toBe(all.scopes.reduce((n, s) => n + s.bytes, 0))
  })

  it('errors carry a stable code across threads via toWire/fromWire', () => {
    const e = new ScopeCacheError('scope_full', 'scope is at capacity', { scopes: [{ scope: 's', count: 1, cap: 1 }] })
    const back = ScopeCacheError.fromWire(structuredClone(e.toWire()))
    expect(back).toBeInstanceOf(ScopeCacheError)
    expect([back.code, back.message, back.details?.scopes?.[0].cap]).toEqual(['scope_full', 'scope is at capacity', 1])
    expect('status' in back, 'the store knows no HTTP status (@scopecache/http maps codes)').toBe(false)
  })

  it('attach gives the same store; close frees the thread slot', () => {
    const c = make({ maxThreads: 2 })
    const other = ScopeCache.attach(c.handle)
    other.append('shared', 'from other', { id: 'x' })
    expect(c.getRaw('shared', { id: 'x' })).toBe('"from other"')
    expect(code(() => ScopeCache.attach(c.handle))).toBe('too_many_threads')
    other.close()
    expect(code(() => other.append('s', 1))).toBe('closed')
    ScopeCache.attach(c.handle).close()
    expect(code(() => ScopeCache.attach({ kind: 'nope' } as never))).toBe('invalid_input')
  })
})
