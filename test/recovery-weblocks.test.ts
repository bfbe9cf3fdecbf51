/**
 * Dead threads found without `watch` (issue 10; packages/core/src/liveness-weblocks.ts). Where the
 * runtime has Web Locks (`navigator.locks`, Node ≥ 24) each attached thread holds a lock named for
 * its store and slot; a lock wait that runs out, and a periodic sweep, probe it with `ifAvailable`,
 * and a thread whose lock is free is dead and gets reaped. Nothing here calls `watch`.
 *   - the runtime facts the design rests on: a worker's lock is held from inside `request()` (before
 *     the worker ever yields), is freed however the worker ends, and keeps no process alive;
 *   - unwatched writers terminated at random instants while a live thread keeps writing and reading:
 *     every one is reaped, the surviving threads' writes to the same scopes succeed within a bound,
 *     no lock stays held, every invariant holds, thread slots are recycled (more kills than slots);
 *   - a live thread that holds a lock for many leases (parked in Atomics.wait, like an idle pool
 *     worker) is never reaped.
 * Skipped where `navigator.locks` is missing (Node 20, 22): there `watch` is the only way
 * (test/recovery.test.ts).
 */
import { spawnSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import { checkWhileParked, expectSurvivorWhole, sleep } from './helpers/kill-checks.js'

const STREAM = new URL('./fixtures/recovery-stream.mjs', import.meta.url)
const CRASH = new URL('./fixtures/recovery-worker.mjs', import.meta.url)
const hasLocks = typeof (globalThis as { navigator?: { locks?: { request?: unknown } } }).navigator?.locks?.request === 'function'
const HOT = ['hot:0', 'hot:1', 'hot:2']

/** Whether this thread can take `name` at once (takes and gives it back). */
const free = (name: string): Promise<boolean> =>
  (globalThis as unknown as { navigator: { locks: { request: (n: string, o: object, cb: (l: unknown) => boolean) => Promise<boolean> } } })
    .navigator.locks.request(name, { ifAvailable: true }, (l) => l !== null)

/** Runs `fn` until it stops throwing lock_timeout, yielding to the event loop in between. */
async function eventually<T>(fn: () => T, boundMs: number): Promise<{ value: T; ms: number; timeouts: number }> {
  const t0 = Date.now()
  let timeouts = 0
  for (;;) {
    try {
      return { value: fn(), ms: Date.now() - t0, timeouts }
    } catch (e) {
      if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout') || Date.now() - t0 > boundMs) throw e
      timeouts++
      await sleep(1)
    }
  }
}

describe.skipIf(!hasLocks)('dead threads found without watch (Web Locks)', () => {
  it('the runtime: a worker holds its Web Lock from inside request(), loses it however it ends, and keeps no process alive', async () => {
    // A worker that requests a lock, then never yields (spins) or ends in one of three ways.
    const src = `
      const { workerData: { name, how, flag } } = require('node:worker_threads')
      navigator.locks.request(name, () => new Promise(() => {}))
      const f = new Int32Array(flag)
      Atomics.store(f, 0, 1)
      if (how === 'throw') throw new Error('boom')
      if (how === 'exit') process.exit(3)
      for (;;) {}`
    for (const how of ['terminate', 'throw', 'exit']) {
      const name = `rt:${how}:${Math.random()}`
      const flag = new Int32Array(new SharedArrayBuffer(4))
      const w = new Worker(src, { eval: true, workerData: { name, how, flag: flag.buffer } })
      w.on('error', () => {})
      const exited = new Promise((r) => w.once('exit', r))
      for (let i = 0; i < 5000 && Atomics.load(flag, 0) === 0; i++) await sleep(1)
      if (how === 'terminate') expect(await free(name), 'held while the worker has not yielded once').toBe(false)
      if (how === 'terminate') await w.terminate()
      await exited
      expect(await free(name), `freed after ${how}`).toBe(true)
    }
    // A store with a worker that attached, wrote and ended without close(), and a main thread that
    // never closes its handle: the process still exits by itself.
    const core = new URL('../packages/core/dist/index.js', import.meta.url).href
    const script = `
      import { Worker } from 'node:worker_threads'
      import { ScopeCache } from '${core}'
      const cache = ScopeCache.create({ lockLeaseMs: 100 })
      const w = new Worker(\`import { workerData } from 'node:worker_threads'
        import { ScopeCache } from '${core}'
        ScopeCache.attach(workerData).append('s', { from: 'worker' })\`, { eval: true, workerData: cache.handle })
      w.once('exit', () => { cache.append('s', { from: 'main' }); console.log(cache.stats().items) })`
    const t0 = Date.now()
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
    expect(r.stderr).toBe('')
    expect(r.status, 'the process exits by itself').toBe(0)
    expect(r.stdout.trim()).toBe('2')
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it('unwatched writers terminated at random instants: each is reaped, survivors write on, no lock stuck, every invariant holds', async () => {
    const TRIALS = Number(process.env.SCOPECACHE_WEBLOCK_KILLS ?? 64)
    const seed = Number(process.env.SCOPECACHE_SEED ?? (Date.now() % 1_000_000))
    console.log(`web-locks kills seed=${seed} (replay with SCOPECACHE_SEED=${seed}), ${TRIALS} trials`)
    let x = seed
    const rnd = (n: number): number => {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
      return x % n
    }
    const LEASE = 100
    const BOUND = 20 * LEASE // a write after a kill must succeed within this
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20, maxThreads: 6, lockLeaseMs: LEASE })
    // A live, unwatched survivor writes its own scope and reads the hot ones the whole time; it never
    // returns to its event loop, so the reaping is done by this thread.
    const stop = new Int32Array(new SharedArrayBuffer(8))
    const survivor = new Worker(STREAM, { workerData: { handle: cache.handle, role: 'survivor', stop: stop.buffer, seed } })
    const survivorExit = new Promise((resolve) => survivor.once('exit', resolve))
    const survivorDone = new Promise<{ acked: number; reads: number; errors: string[] }>((resolve, reject) => {
      survivor.once('message', resolve)
      survivor.once('error', reject)
    })
    let worstMs = 0
    let timeouts = 0
    for (let t = 0; t < TRIALS; t++) {
      const started = new Int32Array(new SharedArrayBuffer(4))
      const victim = new Worker(STREAM, {
        workerData: { handle: cache.handle, role: 'victim', started: started.buffer, seed: seed + t, attachWaitMs: 10_000 },
      })
      victim.on('error', () => {})
      const exited = new Promise((resolve) => victim.once('exit', resolve))
      const deadline = Date.now() + 10_000
      while (Atomics.load(started, 0) === 0 && Date.now() < deadline) await sleep(1)
      expect(Atomics.load(started, 0), `victim ${t} got a thread slot (dead victims' slots are recycled)`).toBe(1)
      await sleep(rnd(12))
      await victim.terminate()
      await exited
      // this thread writes to every scope the victim wrote: it must get through within the bound
      for (const scope of [...HOT, 'counters']) {
        const r = await eventually(() => (scope === 'counters' ? cache.counterAdd(scope, 'main', 1) : cache.append(scope, { main: t })), BOUND)
        worstMs = Math.max(worstMs, r.ms)
        timeouts += r.timeouts
      }
      if (t % 16 === 15 || t === TRIALS - 1) {
        // every victim so far gets reaped (nobody watches them), then the checker needs a quiet store
        const until = Date.now() + BOUND
        while (cache.recoveryStats().deadThreadsReaped < t + 1 && Date.now() < until) await sleep(5)
        expect(cache.recoveryStats().deadThreadsReaped, `after kill ${t}: every dead victim reaped, nothing else`).toBe(t + 1)
        await checkWhileParked(cache, stop, `after kill ${t}`)
      }
    }
    Atomics.store(stop, 0, 1)
    const result = await survivorDone
    await survivorExit
    // the survivor was never reaped (it closed cleanly): every acknowledged write of it is there
    expectSurvivorWhole(cache, result)
    expect(cache.recoveryStats()).toEqual({ deadThreadsReaped: TRIALS, scopesLost: 0 })
    expect(cache.scopeList({ prefix: 'hot:' }).scopes.length).toBe(3)
    console.log(`web-locks kills: ${TRIALS} unwatched victims terminated (6 thread slots), ${cache.recoveryStats().deadThreadsReaped} reaped, 0 scopes lost; main's writes after a kill: worst ${worstMs} ms, ${timeouts} lock_timeouts on the way; survivor ${result.acked} writes, ${result.reads} reads`)
    cache.close()
  })

  it('a lock wait that runs out proves its dead holder dead: the next call succeeds, with no sweep in between', async () => {
    // lease 1000 ms: the sweep runs once a second, so the reap below is the timed-out wait's own
    const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 4, lockLeaseMs: 1000 })
    cache.append('victim', { n: 'a' }, { id: 'a' })
    const signal = new SharedArrayBuffer(8)
    const worker = new Worker(CRASH, { workerData: { handle: cache.handle, signal, point: 'publish:open', mode: 'terminate', op: 'append', hit: 1 } })
    const exited = new Promise((r) => worker.once('exit', r))
    for (let i = 0; i < 5000 && Atomics.load(new Int32Array(signal), 0) === 0; i++) await sleep(1)
    expect(Atomics.load(new Int32Array(signal), 0)).toBe(1) // it died holding 'victim' inside a publish window
    await worker.terminate()
    await exited
    let first: unknown = null
    const t0 = Date.now()
    try {
      cache.append('victim', { n: 'main' }, { id: 'm' })
    } catch (e) {
      first = e
    }
    const reapedBySweep = first === null // the sweep may have got there first (it is not what this checks)
    if (!reapedBySweep) {
      expect((first as ScopeCacheError).code).toBe('lock_timeout')
      expect((first as ScopeCacheError).details?.holderAlive, 'the probe marked the holder dead').toBe(false)
      await null // a microtask turn only: no timer (no sweep) can run here
      cache.append('victim', { n: 'main' }, { id: 'm' })
    }
    console.log(`timed-out wait then next call: ${Date.now() - t0} ms${reapedBySweep ? ' (reaped by a sweep before the wait)' : ''}`)
    expect(cache.head('victim', { raw: true }).items.map((it) => it.payload)).toEqual(['{"n":"a"}', '{"n":"main"}']) // rolled back
    expect(cache.recoveryStats()).toEqual({ deadThreadsReaped: 1, scopesLost: 0 })
    expect(() => checkInvariants(cache)).not.toThrow()
    cache.close()
  })

  it('never reaps a live thread that holds a lock for many leases (parked in Atomics.wait)', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 256 * 1024, maxThreads: 4, lockLeaseMs: 50 })
    cache.append('other', { n: 'o1' })
    const signal = new SharedArrayBuffer(8)
    const holder = new Worker(CRASH, { workerData: { handle: cache.handle, signal, point: 'write:locked', mode: 'pause', op: 'appendOther', hit: 1, pauseMs: 700 } })
    const exited = new Promise((r) => holder.once('exit', r))
    for (let i = 0; i < 5000 && Atomics.load(new Int32Array(signal), 0) === 0; i++) await sleep(1)
    expect(Atomics.load(new Int32Array(signal), 0)).toBe(1)
    // several lock waits run out (each probes the holder) and several sweeps run meanwhile
    let seen = 0
    for (let i = 0; i < 4; i++) {
      try {
        cache.append('other', { n: 'main' })
      } catch (e) {
        expect((e as ScopeCacheError).code).toBe('lock_timeout')
        expect((e as ScopeCacheError).details?.holderAlive).toBe(true)
        seen++
      }
      await sleep(60)
    }
    expect(seen).toBe(4)
    expect(cache.recoveryStats().deadThreadsReaped).toBe(0)
    await exited // it finishes its write and closes
    cache.append('other', { n: 'main' })
    expect(cache.head('other', { raw: true }).items.map((it) => it.payload)).toEqual(['{"n":"o1"}', '{"n":"late"}', '{"n":"main"}'])
    expect(cache.recoveryStats().deadThreadsReaped).toBe(0)
    expect(() => checkInvariants(cache)).not.toThrow()
    cache.close()
  })
})
