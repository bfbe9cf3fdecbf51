/**
 * Errors cross threads with their `code`: thrown in a task, in the owner's control handlers
 * (and back through a task), or by the worker dying. Structured clone alone would deliver a
 * plain Error without `code` (STYLE.md pitfall 1), so each of these would fail without the
 * pool's own serialisation.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError, type WarmItem } from '../packages/core/dist/index.js'
import { createCachePool, PoolError, type CachePool, type CacheSource } from '../packages/pool/dist/index.js'
import { httpStatusOf } from '../packages/http/dist/index.js'

const TASKS = new URL('./fixtures/pool-tasks.mjs', import.meta.url)
const open: CachePool[] = []
const pool = (cache: ScopeCache, source?: CacheSource): CachePool => {
  const p = createCachePool({ cache, filename: TASKS, maxThreads: 2, source })
  open.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()))
})

const rejection = async (p: Promise<unknown>): Promise<Error & Record<string, unknown>> => {
  try {
    await p
  } catch (err) {
    return err as Error & Record<string, unknown>
  }
  throw new Error('expected a rejection')
}

interface ControlReply { ok: boolean; value?: unknown; name?: string; code?: string; message?: string; isScopeCacheError?: boolean; details?: unknown }

describe('errors thrown in pool workers keep their code', () => {
  it('a store error from a task arrives as ScopeCacheError with code and message', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const err = await rejection(p.run({ scope: 'd', id: 'dup' }, { name: 'appendDuplicate' }))
    expect(err).toBeInstanceOf(ScopeCacheError)
    expect(err.code).toBe('conflict')
    expect(err.message).toMatch(/already exists/)
  })

  it('details survive too (scope_full names the scope, count and cap)', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const err = await rejection(p.run(null, { name: 'throwTyped' }))
    expect(err.code).toBe('scope_full')
    expect(err.details).toEqual({ scopes: [{ scope: 's', count: 3, cap: 3 }] })
    expect(httpStatusOf(err), 'the HTTP package maps the re-created error by its code').toBe(507)
  })

  it('a non-store error keeps its class, name, code and the worker-side stack', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const err = await rejection(p.run(null, { name: 'throwPlain' }))
    expect(err).toBeInstanceOf(RangeError)
    expect(err.code).toBe('E_CUSTOM')
    expect(err.stack).toMatch(/pool-tasks\.mjs/)
  })

  it('a missing export is a TypeError, not a hang', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const err = await rejection(p.run(null, { name: 'noSuchExport' }))
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toMatch(/noSuchExport/)
  })

  it("a task module that throws while loading: each task reports that error with its code", async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const p = createCachePool({ cache, filename: new URL('./fixtures/pool-throw-at-load.mjs', import.meta.url), maxThreads: 1 })
    open.push(p)
    for (let i = 0; i < 2; i++) {
      const err = await rejection(p.run(i))
      expect(err.message).toBe('config missing at load')
      expect(err.code).toBe('E_LOAD')
    }
  })

  it('a worker that exits mid-task rejects its task with worker_exited', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const err = await rejection(p.run({ code: 7 }, { name: 'exitNow' }))
    expect(err).toBeInstanceOf(PoolError)
    expect(err.code).toBe('worker_exited')
    // and the pool carries on with a replacement worker
    expect(await p.run('after')).toMatchObject({ task: 'after' })
  })

  it('bad options are typed errors at once', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    expect(() => createCachePool({ cache, filename: 'relative/tasks.mjs' })).toThrow(expect.objectContaining({ code: 'invalid_input' }))
    expect(() => createCachePool({ cache: {} as ScopeCache, filename: TASKS })).toThrow(expect.objectContaining({ code: 'invalid_input' }))
  })
})

describe('control calls from workers to the owner keep their code both ways', () => {
  it('warm without a source: no_source in the worker', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }))
    const r = (await p.run({ op: 'warm', arg: ['a'] }, { name: 'control' })) as ControlReply
    expect(r).toMatchObject({ ok: false, name: 'PoolError', code: 'no_source' })
  })

  it("a store error raised in the owner (store_full from the source's items) reaches the worker as ScopeCacheError", async () => {
    const big: WarmItem[] = Array.from({ length: 64 }, (_, i) => ({ scope: 'big', id: `i${i}`, payload: 'x'.repeat(2000) }))
    const p = pool(ScopeCache.create({ maxStoreBytes: 64 << 10 }), () => big)
    const r = (await p.run({ op: 'rebuild' }, { name: 'control' })) as ControlReply
    expect(r).toMatchObject({ ok: false, name: 'ScopeCacheError', code: 'store_full', isScopeCacheError: true })
    expect(r.details).toMatchObject({ maxStoreBytes: 64 << 10 })
  })

  it("an error the owner's source throws keeps its code (e.g. a driver's ECONNREFUSED)", async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }), () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    })
    const r = (await p.run({ op: 'warm', arg: ['a'] }, { name: 'control' })) as ControlReply
    expect(r).toMatchObject({ ok: false, name: 'Error', code: 'ECONNREFUSED' })
  })

  it('bad arguments: invalid_input', async () => {
    const p = pool(ScopeCache.create({ maxStoreBytes: 1 << 20 }), () => [])
    const r = (await p.run({ op: 'warm', arg: 'not-an-array' }, { name: 'control' })) as ControlReply
    expect(r).toMatchObject({ ok: false, code: 'invalid_input' })
  })
})
