/**
 * The public API's promises about itself (issue 15): after `close()` every method throws `closed`;
 * every options object is checked against its call's keys; `maxThreadSlots` (and its deprecated
 * alias); the typed scope view; `Symbol.dispose`.
 */
import { describe, expect, it } from 'vitest'
import { OPTION_KEYS, rawJson, ScopeCache, ScopeCacheError, ScopeView, type ErrorCode } from '../src/index.js'
import { storesClosedAfterEach } from './helpers.js'

const make = storesClosedAfterEach()

const fails = (fn: () => unknown): { code: ErrorCode | 'none'; message: string } => {
  try {
    fn()
    return { code: 'none', message: '' }
  } catch (e) {
    expect(e).toBeInstanceOf(ScopeCacheError)
    return { code: (e as ScopeCacheError).code, message: (e as Error).message }
  }
}

// Every public method with arguments that would succeed on an open handle. A method added to
// ScopeCache and missing here fails the completeness check below.
const worker = { threadId: 99, once: () => undefined } as unknown as import('node:worker_threads').Worker
const CALLS: Record<string, (c: ScopeCache) => unknown> = {
  append: (c) => c.append('s', 1),
  upsert: (c) => c.upsert('s', 'a', 2),
  update: (c) => c.update('s', { id: 'a' }, 3),
  counterAdd: (c) => c.counterAdd('s', 'n'),
  counter: (c) => c.counter('s', 'n'),
  delete: (c) => c.delete('s', { seq: 1 }),
  trim: (c) => c.trim('s', { keep: 5 }),
  dropScope: (c) => c.dropScope('t'),
  dropPrefix: (c) => c.dropPrefix('t'),
  flush: (c) => c.flush(),
  warm: (c) => c.warm([{ scope: 'w', payload: 1 }]),
  rebuild: (c) => c.rebuild([{ scope: 'w', payload: 1 }]),
  get: (c) => c.get('s', { id: 'a' }),
  getRaw: (c) => c.getRaw('s', { id: 'a' }),
  getBytes: (c) => c.getBytes('s', { id: 'a' }),
  getMany: (c) => c.getMany([{ scope: 's', id: 'a' }]),
  head: (c) => c.head('s'),
  tail: (c) => c.tail('s'),
  touch: (c) => c.touch('s', { id: 'a' }, { ttlMs: 60_000 }),
  setScopeTtl: (c) => c.setScopeTtl('s2', null),
  sweepExpired: (c) => c.sweepExpired(),
  stats: (c) => c.stats(),
  recoveryStats: (c) => c.recoveryStats(),
  scopeList: (c) => c.scopeList(),
  threadSlots: (c) => c.threadSlots(),
  scope: (c) => c.scope('s'),
  watch: (c) => c.watch(worker),
  tryLock: (c) => c.tryLock('L1', { leaseMs: 50 }),
  lock: (c) => c.lock('L2', { leaseMs: 50, waitMs: 0 }),
  renew: (c) => c.renew('L3', 1),
  unlock: (c) => c.unlock('L3', 1),
  version: (c) => c.version('s'),
  invalidate: (c) => c.invalidate('s', { id: 'none' }),
  getOrLoad: (c) => c.getOrLoad('s', { id: 'a' }, () => 1),
  setScopeLimit: (c) => c.setScopeLimit('s', { maxItems: 5, whenFull: 'drop-oldest' }),
}
const NOT_CALLS = new Set(['constructor', 'close', 'maxThreads'])

describe('after close()', () => {
  it('lists every public method', () => {
    const methods = Object.getOwnPropertyNames(ScopeCache.prototype).filter((n) => !NOT_CALLS.has(n))
    const priv = new Set(['open', 'itemFromOut', 'startSweep'])
    expect(methods.filter((n) => !priv.has(n)).sort()).toEqual(Object.keys(CALLS).sort())
  })

  it('every method throws closed, the handle before and another handle after see no read counted', async () => {
    const c = make()
    c.append('s', { v: 1 }, { id: 'a' })
    const settle = (r: unknown): unknown => (r instanceof Promise ? r.catch(() => undefined) : r) // lock, getOrLoad
    for (const [name, call] of Object.entries(CALLS)) expect(fails(() => settle(call(c))).code, name).toBe('none')
    await new Promise((r) => setTimeout(r, 5)) // let them settle before close
    c.append('s', 1, { id: 'a2' })
    expect(c.get('s', { id: 'a2' })?.payload).toBe(1) // the name cache is warm: the fast path must check too
    const other = make.adopt(ScopeCache.attach(c.handle))
    const reads = (): number => other.scopeList().scopes.find((s) => s.scope === 's')?.readCountTotal ?? -1
    const before = reads()
    c.close()
    c.close() // idempotent
    for (const [name, call] of Object.entries(CALLS)) expect(fails(() => call(c)).code, name).toBe('closed')
    expect(reads()).toBe(before)
    expect(reads()).toBe(before) // scopeList counts no read either
  })

  it('a scope view of a closed handle throws closed too', () => {
    const c = make()
    const v = c.scope('s')
    v.append(1)
    c.close()
    expect(fails(() => v.get({ seq: 1 })).code).toBe('closed')
    expect(fails(() => v.append(2)).code).toBe('closed')
  })

  it('Symbol.dispose closes', () => {
    const c = make()
    {
      using d = ScopeCache.attach(c.handle)
      d.append('s', 1)
    }
    expect(c.threadSlots().free).toBe(c.maxThreadSlots - 1) // only c is attached
    const d = ScopeCache.attach(c.handle)
    d[Symbol.dispose]()
    expect(fails(() => d.stats()).code).toBe('closed')
  })
})

describe('options objects', () => {
  it('unknown keys are refused, naming the key and the call', () => {
    const c = make()
    c.append('s', 1, { id: 'a' })
    const cases: [string, () => unknown, string][] = [
      ['create', () => ScopeCache.create({ maxStoreByte: 1 << 20 } as never), "create has no option 'maxStoreByte'"],
      ['open', () => ScopeCache.open({ name: 'never-created', maxStoreByte: 1 << 20 } as never), "open has no option 'maxStoreByte'"],
      ['append', () => c.append('s', 1, { id: 'b', ttl: 5 } as never), "append has no option 'ttl'"],
      ['append id string', () => c.append('s', 1, 'myid' as never), "append's options must be an object"],
      ['get', () => c.get('s', { id: 'a' }, { raw: true, parse: false } as never), "get has no option 'parse'"],
      ['getMany', () => c.getMany([{ scope: 's', id: 'a' }], { Raw: true } as never), "getMany has no option 'Raw'"],
      ['head', () => c.head('s', { after: 1 } as never), "head has no option 'after'"],
      ['tail', () => c.tail('s', { limit: 1, skip: 1 } as never), "tail has no option 'skip'"],
      ['trim', () => c.trim('s', { keep: 1, max: 2 } as never), "trim has no option 'max'"],
      ['scopeList', () => c.scopeList({ prefx: 'a' } as never), "scopeList has no option 'prefx'"],
      ['head array', () => c.head('s', [] as never), "head's options must be an object"],
      ['upsert', () => c.upsert('s', 'a', 1, { ifversion: 1 } as never), "upsert has no option 'ifversion'"],
      ['update', () => c.update('s', { id: 'a' }, 1, { if: 1 } as never), "update has no option 'if'"],
      ['delete', () => c.delete('s', { id: 'a' }, { force: true } as never), "delete has no option 'force'"],
      ['tryLock', () => c.tryLock('n', { lease: 5 } as never), "tryLock has no option 'lease'"],
      ['lock', () => c.lock('n', { wait: 5 } as never), "lock has no option 'wait'"],
      ['renew', () => c.renew('n', 1, { leaseMS: 5 } as never), "renew has no option 'leaseMS'"],
      ['getOrLoad', () => c.getOrLoad('s', { id: 'a' }, () => 1, { ttl: 5 } as never), "getOrLoad has no option 'ttl'"],
      ['touch', () => c.touch('s', { id: 'a' }, { ttl: 5 } as never), "touch has no option 'ttl'"],
      ['create expirySweep', () => ScopeCache.create({ expirySweep: 5 } as never), "create has no option 'expirySweep'"],
    ]
    for (const [what, call, msg] of cases) {
      const f = fails(call)
      expect(f.code, what).toBe('invalid_input')
      expect(f.message, what).toContain(msg)
    }
    expect(c.get('s', { id: 'b' })).toBeUndefined() // the refused append wrote nothing
    expect(c.stats().items).toBe(1)
  })

  it('every allowed key is accepted, and null or undefined mean the defaults', () => {
    const c = make()
    c.append('s', 1, { id: 'a' })
    c.append('s', 2, null)
    c.append('s', 3, undefined)
    expect(c.get('s', { id: 'a' }, { raw: true })?.payload).toBe('1')
    expect(c.getMany([{ scope: 's', seq: 2 }], { raw: false })[0]?.payload).toBe(2)
    expect(c.head('s', { afterSeq: 1, limit: 1, raw: true }).items[0]?.payload).toBe('2')
    expect(c.tail('s', { limit: 1, offset: 0, raw: false }).items[0]?.payload).toBe(3)
    expect(c.scopeList({ prefix: 's', after: '', limit: 5 }).scopes).toHaveLength(1)
    expect(c.trim('s', { maxSeq: 1 })).toBe(1)
    const v = c.version('s')
    c.upsert('s', 'u', 1, { ifVersion: v })
    expect(c.update('s', { id: 'u' }, 2, { ifVersion: c.version('s') })).toBe(1)
    expect(c.delete('s', { id: 'u' }, { ifVersion: c.version('s') })).toBe(1)
    c.append('s', 4, { id: 't', ttlMs: 60_000 })
    c.upsert('s', 't', 5, { ttlMs: 60_000 })
    expect(c.update('s', { id: 't' }, 6, { ttlMs: 60_000 })).toBe(1)
    expect(c.touch('s', { id: 't' }, { ttlMs: 60_000 })).toBe(1)
    make({ expirySweepMs: 0 }).append('x', 1)
    expect(c.setScopeLimit('s', { maxItems: 2, whenFull: 'reject' })).toEqual({ created: false })
    make({ whenFull: 'evict' }).append('e', 1)
    expect(Object.keys(OPTION_KEYS).sort()).toEqual([
      'append', 'create', 'delete', 'get', 'getMany', 'getOrLoad', 'head', 'lock', 'open', 'renew', 'scopeList', 'setScopeLimit', 'tail', 'touch', 'trim',
      'tryLock', 'update', 'upsert',
    ])
    expect(OPTION_KEYS.open).toEqual(['name', ...OPTION_KEYS.create])
  })
})

describe('thread slots', () => {
  it('maxThreadSlots sizes the slots; maxThreads is its deprecated alias; both at once is refused', () => {
    const a = make({ maxThreadSlots: 3 })
    expect(a.maxThreadSlots).toBe(3)
    expect(a.maxThreads).toBe(3)
    expect(a.threadSlots()).toEqual({ total: 3, free: 2 })
    const b = make({ maxThreads: 4 })
    expect(b.maxThreadSlots).toBe(4)
    const both = fails(() => ScopeCache.create({ maxThreadSlots: 2, maxThreads: 2 }))
    expect(both.code).toBe('invalid_input')
    expect(fails(() => ScopeCache.create({ maxThreadSlots: 0 })).message).toContain("option 'maxThreadSlots'")
    const more = [ScopeCache.attach(a.handle), ScopeCache.attach(a.handle)]
    expect(a.threadSlots().free).toBe(0)
    const full = fails(() => ScopeCache.attach(a.handle))
    expect(full.code).toBe('too_many_threads')
    expect(full.message).toContain('maxThreadSlots')
    for (const m of more) m.close()
    expect(a.threadSlots().free).toBe(2)
  })
})

describe('scope views', () => {
  interface Message {
    text: string
    n: number
  }

  it('reads and writes one scope through the same calls', () => {
    const c = make()
    const room = c.scope<Message>('room:a')
    expect(room).toBeInstanceOf(ScopeView)
    expect(room.name).toBe('room:a')
    expect(room.append({ text: 'hi', n: 1 }, { id: 'm1' })).toMatchObject({ scope: 'room:a', id: 'm1', seq: 1 })
    room.append(rawJson('{"text":"raw","n":2}'))
    expect(room.upsert('m1', { text: 'hi!', n: 1 }).created).toBe(false)
    expect(room.update({ seq: 2 }, { text: 'raw2', n: 2 })).toBe(1)
    expect(room.get({ id: 'm1' })?.payload).toEqual({ text: 'hi!', n: 1 })
    expect(room.get({ id: 'm1' }, { raw: true })?.payload).toBe('{"text":"hi!","n":1}')
    expect(room.getRaw({ seq: 2 })).toBe('{"text":"raw2","n":2}')
    expect(Buffer.from(room.getBytes({ seq: 2 }) ?? []).toString()).toBe('{"text":"raw2","n":2}')
    room.append({ text: 'three', n: 3 })
    expect(room.tail({ limit: 2 }).items.map((i) => i.payload.n)).toEqual([2, 3])
    expect(room.tail({ limit: 1, raw: true }).items[0]?.payload).toBe('{"text":"three","n":3}')
    expect(room.head({ afterSeq: 1 }).items.map((i) => i.seq)).toEqual([2, 3])
    expect(room.since(2).items.map((i) => i.seq)).toEqual([3])
    expect(room.since(0, 1)).toMatchObject({ truncated: true })
    expect(room.delete({ id: 'm1' })).toBe(1)
    expect(room.trim({ keep: 1 })).toBe(1)
    expect(c.tail('room:a').items.map((i) => i.seq)).toEqual([3])
    const timed = c.scope<Message>('room:ttl')
    expect(timed.upsert('m9', { text: 'ttl', n: 9 }, { ttlMs: 60_000 }).created).toBe(true)
    expect(timed.touch({ id: 'm9' }, { ttlMs: 120_000 })).toBe(1)
    expect(timed.update({ id: 'm9' }, { text: 'ttl2', n: 9 }, { ttlMs: 1000 })).toBe(1)
    expect(timed.get({ id: 'm9' })?.expiresTs).toBeGreaterThan(0)
    expect(room.drop()).toEqual({ found: true, items: 1 })
    expect(room.tail().items).toEqual([])
  })

  it('carries the scope-level calls beyond ScopeCache: version, invalidate, getOrLoad, setTtl, setLimit', async () => {
    const c = make()
    const feed = c.scope<Message>('feed')
    expect(feed.setLimit({ maxItems: 2, whenFull: 'drop-oldest' })).toEqual({ created: true })
    for (let n = 1; n <= 3; n++) feed.append({ text: `m${n}`, n })
    expect(feed.tail().items.map((i) => i.payload.n)).toEqual([2, 3])
    expect(c.scopeList().scopes.find((s) => s.scope === 'feed')).toMatchObject({ maxItems: 2, whenFull: 'drop-oldest' })
    feed.setTtl(60_000)
    expect(feed.append({ text: 'm4', n: 4 }, { id: 'm4' })).toMatchObject({ seq: 4 })
    expect(feed.get({ id: 'm4' })?.expiresTs).toBeGreaterThan(0)
    feed.setTtl(null)
    expect(c.scopeList().scopes.find((s) => s.scope === 'feed')?.itemTtlMs).toBeNull()
    const v = feed.version()
    expect(() => feed.delete({ id: 'm4' }, { ifVersion: v - 1 })).toThrow(expect.objectContaining({ code: 'conflict' }))
    expect(feed.invalidate({ id: 'm4' })).toBe(1)
    expect(feed.version()).toBeGreaterThan(v)
    const loaded = await feed.getOrLoad({ id: 'm5' }, () => ({ text: 'loaded', n: 5 }))
    expect(loaded.payload).toEqual({ text: 'loaded', n: 5 })
    expect(c.get('feed', { id: 'm5' })?.payload).toEqual({ text: 'loaded', n: 5 })
  })

  it('refuses an invalid scope name when made', () => {
    const c = make()
    expect(fails(() => c.scope(' padded')).code).toBe('invalid_input')
    expect(fails(() => c.scope('')).code).toBe('invalid_input')
  })
})
