/**
 * Lock timeouts leave nothing held, and a failed call changed nothing (issue 10, core part).
 *
 * The scenarios need a thread that dies holding the allocator lock while this thread is inside a
 * call, before the dead worker's 'exit' has been handled here: `dieHoldingAllocator` starts a
 * watched worker that process.exit()s at the fault point 'alloc:taking' (allocator lock held) and
 * blocks this thread in Atomics.wait until it got there, so this thread's event loop cannot run
 * the reaper in between. Main-thread fault hooks place that death inside a call of this thread.
 *
 * Workers import the BUILT core (packages/core/dist), like every cross-thread test here.
 */
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError } from '../packages/core/dist/index.js'
import { checkInvariants, INTERNALS, setFaultHook } from '../packages/core/dist/internals.js'
import { H_DIR_LOCK, H_DIR_VER, H_SCOPE_FREE, H_SCOPE_HWM, S_LOCK, S_NEXT_FREE, S_STATE, S_VER, SCOPE_LIVE } from '../packages/core/dist/layout.js'

const CRASH = new URL('./fixtures/recovery-worker.mjs', import.meta.url)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

afterEach(() => setFaultHook(null))

function prefill(cache: ScopeCache): void {
  cache.append('victim', { n: 'a' }, { id: 'a' })
  cache.append('victim', { n: 'b' }, { id: 'b' })
  cache.append('other', { n: 'o1' }, { id: 'o1' })
}

/**
 * A watched worker that dies holding the allocator lock (in warm's build phase: no other lock
 * held). Synchronous: returns once the worker is at the point; its 'exit' is handled later.
 */
function dieHoldingAllocator(cache: ScopeCache): Promise<void> {
  const signal = new SharedArrayBuffer(8)
  const flag = new Int32Array(signal)
  const worker = new Worker(CRASH, { workerData: { handle: cache.handle, signal, point: 'alloc:taking', mode: 'exit', op: 'warm', hit: 1 } })
  cache.watch(worker)
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  const deadline = Date.now() + 20_000
  while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) Atomics.wait(flag, 0, 0, 50)
  expect(Atomics.load(flag, 0), 'the worker reached alloc:taking').toBe(1)
  return exited
}

async function reaped(cache: ScopeCache, n = 1): Promise<void> {
  for (let i = 0; i < 300 && cache.recoveryStats().deadThreadsReaped < n; i++) await sleep(10)
  expect(cache.recoveryStats().deadThreadsReaped, 'the dead worker was reaped').toBe(n)
}

const fail = (fn: () => unknown): ScopeCacheError => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ScopeCacheError)
    return e as ScopeCacheError
  }
  throw new Error('expected a ScopeCacheError')
}

const dump = (c: ScopeCache): string => JSON.stringify(c.scopeList({ limit: 100 }).scopes.map((s) => [s.scope, c.head(s.scope, { raw: true }).items.map((it) => [it.seq, it.id, it.payload])]))

describe('item 1: a drop that times out on the allocator lock', () => {
  for (const op of ['dropScope', 'dropPrefix', 'flush'] as const) {
    it(`${op}: keeps no scope lock, and the dead holder is reaped`, async () => {
      const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 8, lockLeaseMs: 150 })
      prefill(cache)
      const before = dump(cache)
      const exited = dieHoldingAllocator(cache)
      const call = { dropScope: () => cache.dropScope('victim'), dropPrefix: () => cache.dropPrefix('vic'), flush: () => cache.flush() }[op]
      const err = fail(call)
      expect(err.code).toBe('lock_timeout')
      // nothing held by this thread: every scope lock is free, the directory lock too
      const x = cache[INTERNALS]()
      for (let s = 0; s < x.v.i32[H_SCOPE_HWM]; s++) expect(x.v.i32[x.dir.rec(s) + S_LOCK], `scope slot ${s} lock`).toBe(0)
      expect(x.v.i32[H_DIR_LOCK]).toBe(0)
      await exited
      await reaped(cache)
      expect(err.message).not.toMatch(/a live thread held it/) // its holder was dead, just not reaped yet
      expect(dump(cache), 'the failed drop changed nothing').toBe(before)
      expect(() => checkInvariants(cache)).not.toThrow()
      // the same thread goes on: writes to the scope, then a flush
      cache.append('victim', { n: 'after' })
      expect(cache.flush().scopes).toBe(2)
      expect(() => checkInvariants(cache)).not.toThrow()
      cache.close()
    })
  }
})

describe('item 2: a write the allocator lock blocks after its publish', () => {
  it('upsert succeeds, its free is deferred, and the store stays whole', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 8, lockLeaseMs: 150 })
    prefill(cache)
    let exited: Promise<void> | null = null
    setFaultHook((p) => {
      if (p !== 'write:published') return
      setFaultHook(null)
      exited = dieHoldingAllocator(cache) // the free of the replaced block now times out
    })
    const r = cache.upsert('victim', 'a', { n: 'replaced' })
    expect(r.created).toBe(false)
    expect(cache.getRaw('victim', { id: 'a' })).toBe('{"n":"replaced"}')
    // a write that needs the allocator now fails, changes nothing, and does not call the holder live
    // (an item size none of this thread's ready blocks has: an append of the usual size needs no allocator)
    const before = dump(cache)
    const err = fail(() => cache.append('victim', { n: 'x'.repeat(300) }))
    expect(err.code).toBe('lock_timeout')
    expect(err.message).not.toMatch(/a live thread held it/)
    expect(dump(cache)).toBe(before)
    await exited
    await reaped(cache)
    // the replaced block waits in this thread's deferred frees: PENDING, owned, and accounted for
    expect(() => checkInvariants(cache)).not.toThrow()
    const pendingBefore = cache[INTERNALS]().v.i32[19] // H_PENDING_B8
    expect(pendingBefore).toBeGreaterThan(0)
    cache.append('victim', { n: 'later'.repeat(60) }) // the next allocator round frees it (a size no ready block has)
    expect(cache[INTERNALS]().v.i32[19]).toBe(0)
    expect(() => checkInvariants(cache)).not.toThrow()
    cache.close()
  })
})

describe('item 3: one call waits at most one lease', () => {
  it('an append whose index allocation times out does not wait again in its clean-up', async () => {
    const lease = 400
    const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 8, lockLeaseMs: lease })
    for (let i = 0; i < 4; i++) cache.append('grow', { i }) // the 5th append grows the entries array
    const before = dump(cache)
    let exited: Promise<void> | null = null
    let t0 = 0
    setFaultHook((p) => {
      if (p !== 'insert:allocated') return
      setFaultHook(null)
      exited = dieHoldingAllocator(cache)
      t0 = Date.now()
    })
    const err = fail(() => cache.append('grow', { i: 4 }))
    const waited = Date.now() - t0
    expect(err.code).toBe('lock_timeout')
    expect(waited, `waited ${waited} ms after the allocator holder died (lease ${lease} ms)`).toBeLessThan(lease * 1.5)
    expect(dump(cache)).toBe(before)
    await exited
    await reaped(cache)
    expect(() => checkInvariants(cache)).not.toThrow() // the reap swept the item block left behind
    expect(cache.append('grow', { i: 5 }).seq).toBe(5)
    cache.close()
  })
})

describe('item 4: a stack overflow inside warm() that creates a scope', () => {
  // A RangeError thrown inside the swap window, where a stack overflow would hit: deterministic.
  for (const op of ['warm (new scope)', 'warm (new and existing)', 'rebuild'] as const) {
    it(`${op}: a RangeError inside the swap closes every window and changes nothing`, () => {
      const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 4 })
      prefill(cache)
      const before = dump(cache)
      const x = cache[INTERNALS]()
      const i32 = x.v.i32
      setFaultHook((p) => {
        if (p === 'bulk:swapping') throw new RangeError('Maximum call stack size exceeded')
      })
      const items = op === 'warm (new scope)'
        ? [{ scope: 'fresh', id: 'f', payload: 1 }]
        : [{ scope: 'fresh', id: 'f', payload: 1 }, { scope: 'victim', id: 'v', payload: 2 }]
      expect(() => (op === 'rebuild' ? cache.rebuild(items) : cache.warm(items))).toThrow(RangeError)
      setFaultHook(null)
      expect(i32[H_DIR_VER] & 1, 'directory version left odd').toBe(0)
      for (let s = 0; s < i32[H_SCOPE_HWM]; s++) expect(i32[x.dir.rec(s) + S_VER] & 1, `scope slot ${s}: version left odd`).toBe(0)
      expect(dump(cache)).toBe(before)
      expect(() => checkInvariants(cache)).not.toThrow()
      // and the store goes on: the same warm now works, and a miss needs no lock
      expect(op === 'rebuild' ? cache.rebuild(items).scopes : cache.warm(items).scopes).toBe(items.length)
      expect(cache.getRaw('fresh', { id: 'f' })).toBe('1')
      expect(() => checkInvariants(cache)).not.toThrow()
      cache.close()
    })
  }

  it('real stack overflows at every depth: no window left open, no slot leaked, directory misses lock-free', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreads: 4, maxScopes: 4096 })
    const x = cache[INTERNALS]()
    const i32 = x.v.i32
    let attempts = 0
    let overflows = 0
    // Recurse until the stack overflows, then on the way back up try a scope-creating warm in every
    // frame: each try has a little more stack than the one before, so some overflow inside warm.
    const descend = (): void => {
      try {
        descend()
      } catch {
        // the stack ran out below this frame
      }
      if (attempts >= 3000) return
      attempts++
      try {
        cache.warm([{ scope: `s${attempts}`, payload: { k: attempts } }])
      } catch (e) {
        if (!(e instanceof RangeError)) throw e
        overflows++
      }
    }
    descend()
    expect(overflows).toBeGreaterThan(0)
    expect(i32[H_DIR_VER] & 1, 'directory version left odd').toBe(0)
    const hwm = i32[H_SCOPE_HWM]
    const free = new Set<number>()
    for (let s = i32[H_SCOPE_FREE]; s !== 0; s = i32[x.dir.rec(s - 1) + S_NEXT_FREE]) free.add(s - 1)
    for (let s = 0; s < hwm; s++) {
      const rec = x.dir.rec(s)
      expect(i32[rec + S_VER] & 1, `scope slot ${s}: version left odd`).toBe(0)
      expect(i32[rec + S_LOCK], `scope slot ${s}: lock left held`).toBe(0)
      expect(i32[rec + S_STATE] === SCOPE_LIVE || free.has(s), `scope slot ${s}: neither live nor free (leaked)`).toBe(true)
    }
    // a miss does not take the directory lock: it answers at once while another token holds it
    i32[H_DIR_LOCK] = 0x7ff
    const t0 = Date.now()
    expect(cache.getRaw('no-such-scope', { seq: 1 })).toBeUndefined()
    // (taking the lock would wait out the whole lease, then throw: half of it leaves room for a slow machine)
    expect(Date.now() - t0).toBeLessThan(cache[INTERNALS]().cfg.lockLeaseMs / 2)
    i32[H_DIR_LOCK] = 0
    expect(cache.warm([{ scope: 'after', payload: 1 }]).scopes).toBe(1)
    expect(cache.getRaw('after', { seq: 1 })).toBe('1')
  })
})

describe('item 7: small API gaps', () => {
  it('null options mean the defaults', () => {
    const cache = ScopeCache.create(null)
    cache.append('s', { n: 1 })
    expect(cache.head('s', null).items.length).toBe(1)
    expect(cache.tail('s', null).items.length).toBe(1)
    expect(cache.scopeList(null).scopes.map((s) => s.scope)).toEqual(['s'])
    cache.close()
  })

  it('attach checks the buffer size and layout', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 64 * 1024 })
    const whole = new Uint8Array(cache.handle.buffer)
    const copy = (n: number): SharedArrayBuffer => {
      const sab = new SharedArrayBuffer(n)
      new Uint8Array(sab).set(whole.subarray(0, Math.min(n, whole.length)))
      return sab
    }
    for (const n of [whole.length - 4, whole.length - 64, 4096, 2052]) {
      const err = fail(() => ScopeCache.attach({ kind: 'scopecache/v1', buffer: copy(n) }))
      expect(err.code, `${n} bytes`).toBe('invalid_input')
      expect(err.message).toMatch(/not a whole scopecache store/)
    }
    const other = ScopeCache.attach({ kind: 'scopecache/v1', buffer: copy(whole.length) }) // a whole copy is a store
    other.close()
    cache.close()
  })

  it('reads on a closed handle throw closed', () => {
    const cache = ScopeCache.create({ maxStoreBytes: 64 * 1024 })
    cache.append('s', { n: 1 }, { id: 'a' })
    expect(cache.getRaw('s', { id: 'a' })).toBe('{"n":1}') // the name is now in the handle's cache
    cache.close()
    const reads: [string, () => unknown][] = [
      ['get', () => cache.get('s', { id: 'a' })],
      ['getRaw', () => cache.getRaw('s', { seq: 1 })],
      ['getBytes', () => cache.getBytes('s', { seq: 1 })],
      ['getMany', () => cache.getMany([{ scope: 's', seq: 1 }])],
      ['head', () => cache.head('s')],
      ['tail', () => cache.tail('s')],
      ['get (unknown scope)', () => cache.get('nope', { seq: 1 })],
      ['scopeList', () => cache.scopeList()],
      ['stats', () => cache.stats()],
    ]
    for (const [name, read] of reads) expect(fail(read).code, name).toBe('closed')
  })

  it('a reader outlasts a writer paused inside its publish window instead of taking its lock', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 64 * 1024, lockLeaseMs: 2000 })
    cache.append('hot', { n: 1 }, { id: 'a' })
    const x = cache[INTERNALS]()
    const rec = x.dir.rec(x.dir.findLocked('hot'))
    const sab = new SharedArrayBuffer(8) // [0] the window is open; [1] this thread has its answer
    // A stand-in writer: holds the scope lock, keeps the window odd for 0.5 ms, then keeps the lock
    // until this thread has its answer (flag[1]; 10 s at most). A reader that fell back to the lock
    // could not answer before the lock is released, so the lock still held proves it did not.
    const code = `
      const { workerData } = require('node:worker_threads')
      const i32 = new Int32Array(workerData.buffer)
      const flag = new Int32Array(workerData.sab)
      const spin = (ns) => { const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < ns) {} }
      Atomics.store(i32, workerData.lock, 0x7ff)
      Atomics.add(i32, workerData.ver, 1)
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      spin(500000n)
      Atomics.add(i32, workerData.ver, 1)
      Atomics.wait(flag, 1, 0, 10000)
      Atomics.store(i32, workerData.lock, 0)`
    const w = new Worker(code, { eval: true, workerData: { buffer: cache.handle.buffer, sab, lock: rec + S_LOCK, ver: rec + S_VER } })
    const exited = new Promise((r) => w.once('exit', r))
    const flag = new Int32Array(sab)
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 50)
    const got = cache.getRaw('hot', { id: 'a' })
    const lockHeld = Atomics.load(x.i32, rec + S_LOCK) === 0x7ff
    Atomics.store(flag, 1, 1)
    Atomics.notify(flag, 1)
    expect(got).toBe('{"n":1}')
    expect(lockHeld, 'the read answered while the writer still held the lock').toBe(true)
    await exited
    cache.close()
  })
})
