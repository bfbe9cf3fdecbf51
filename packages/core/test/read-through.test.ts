/**
 * getOrLoad (read-through.ts) in one thread: one loader per missing item among concurrent callers,
 * a throwing loader handing over to the next caller, a load overtaken by an invalidate returned but
 * not stored, and argument checks. Across threads: test/read-through-threads.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { ScopeCache } from '../src/cache.js'
import { ScopeCacheError } from '../src/errors.js'
import { checkInvariants } from '../src/internals.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('getOrLoad', () => {
  it('a miss runs the loader once and stores its value; a hit does not run it', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    let runs = 0
    const loader = async (): Promise<{ n: number }> => {
      runs++
      await sleep(20)
      return { n: 42 }
    }
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.getOrLoad('view:1', { id: 'a' }, loader)))
    expect(runs).toBe(1)
    for (const it of all) expect(it).toMatchObject({ scope: 'view:1', id: 'a', seq: 1, payload: { n: 42 } })
    expect(cache.get('view:1', { id: 'a' })!.payload).toEqual({ n: 42 })
    expect((await cache.getOrLoad('view:1', { id: 'a' }, loader)).payload).toEqual({ n: 42 })
    expect(runs).toBe(1)
    // a sync loader works too
    expect((await cache.getOrLoad('view:1', { id: 'b' }, () => 'sync')).payload).toBe('sync')
    checkInvariants(cache)
    cache.close()
  })

  it('a throwing loader: its caller gets the error, the next waiter loads', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    let runs = 0
    const loader = async (): Promise<string> => {
      runs++
      await sleep(10)
      if (runs === 1) throw new Error('database down')
      return 'second try'
    }
    const [first, second, third] = await Promise.allSettled([
      cache.getOrLoad('v', { id: 'x' }, loader),
      cache.getOrLoad('v', { id: 'x' }, loader),
      cache.getOrLoad('v', { id: 'x' }, loader),
    ])
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'database down' } })
    expect(second).toMatchObject({ status: 'fulfilled', value: { payload: 'second try', seq: 1 } })
    expect(third).toMatchObject({ status: 'fulfilled', value: { payload: 'second try', seq: 1 } })
    expect(runs).toBe(2)
    checkInvariants(cache)
    cache.close()
  })

  it('a load overtaken by an invalidate is returned but not stored', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    let source = 'old'
    const slow = cache.getOrLoad('v', { id: 'x' }, async () => {
      const read = source
      await sleep(30)
      return read
    })
    await sleep(5)
    source = 'new'
    cache.invalidate('v', { id: 'x' })
    const got = await slow
    expect(got).toEqual({ scope: 'v', id: 'x', seq: 0, ts: 0, expiresTs: null, payload: 'old' })
    expect(cache.get('v', { id: 'x' })).toBeUndefined()
    expect((await cache.getOrLoad('v', { id: 'x' }, () => source)).payload).toBe('new')
    checkInvariants(cache)
    cache.close()
  })

  it('checks its arguments; a closed handle throws closed', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const code = (f: () => unknown): string | undefined => {
      try {
        f()
      } catch (e) {
        return (e as ScopeCacheError).code
      }
      return undefined
    }
    expect(code(() => cache.getOrLoad('', { id: 'a' }, () => 1))).toBe('invalid_input')
    expect(code(() => cache.getOrLoad('s', { seq: 1 } as never, () => 1))).toBe('invalid_input')
    expect(code(() => cache.getOrLoad('s', { id: 'a' }, 'nope' as never))).toBe('invalid_input')
    expect(code(() => cache.getOrLoad('s', { id: 'a' }, () => 1, { leaseMs: 0 }))).toBe('invalid_input')
    expect(code(() => cache.getOrLoad('s', { id: 'a' }, () => 1, { waitMs: -1 }))).toBe('invalid_input')
    // a loader returning what cannot be stored: its caller gets that error, nothing is stored
    await expect(cache.getOrLoad('s', { id: 'a' }, () => undefined)).rejects.toBeInstanceOf(ScopeCacheError)
    expect(cache.get('s', { id: 'a' })).toBeUndefined()
    // a wait that runs out is lock_timeout
    const hold = cache.getOrLoad('s', { id: 'slow' }, () => sleep(200).then(() => 1))
    await expect(cache.getOrLoad('s', { id: 'slow' }, () => 2, { waitMs: 20 })).rejects.toMatchObject({ code: 'lock_timeout' })
    expect((await hold).payload).toBe(1)
    checkInvariants(cache)
    cache.close()
    expect(code(() => cache.getOrLoad('s', { id: 'a' }, () => 1))).toBe('closed')
  })
})
