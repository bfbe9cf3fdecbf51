/**
 * Dead threads. A worker runs one operation on a shared store and
 * dies at a chosen crash point inside the core: terminated there, process.exit() there, an
 * exception thrown from there, or out of memory there. The thread that owns the Worker watches it
 * (`cache.watch`), so the reaper runs on 'exit'. Then, for every case:
 *   - the invariant checker passes: no lock held, no odd seqlock, no leaked or doubly-owned block,
 *     byte accounting exact, no dead thread slot left unreaped;
 *   - the store shows exactly the state before the operation or exactly the state after it (computed
 *     by running the same operation on a twin store, step by step for multi-step operations): the
 *     reaper rolls a torn publish window back or forward from the dead thread's undo record, so no
 *     scope is ever reported lost (were one, it would have to be empty with its seq counter kept);
 *   - another thread then writes to and reads from the same scopes.
 * A second part kills streaming writers at random moments while other threads keep reading and
 * writing, many times over, with more kills than thread slots (slots must be recycled).
 *
 * Workers import the BUILT core (packages/core/dist), like every cross-thread test here.
 */
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { rawJson, ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants, setFaultHook } from '../packages/core/dist/internals.js'
import type { ReapReport } from '../packages/core/dist/index.js'
import { checkWhileParked, expectSurvivorWhole, sleep } from './helpers/kill-checks.js'

const CRASH = new URL('./fixtures/recovery-worker.mjs', import.meta.url)
const STREAM = new URL('./fixtures/recovery-stream.mjs', import.meta.url)

type Mode = 'terminate' | 'exit' | 'throw' | 'oom'
/** `reject`: the store refuses when full instead of evicting — so its threads keep ready blocks (alloc.ts), which evicting stores do not. */
interface Case { point: string; op: string; hit?: number; modes: Mode[]; reject?: true }

const ALL: Mode[] = ['terminate', 'exit', 'throw']
const KILL: Mode[] = ['terminate', 'exit']
const CASES: Case[] = [
  { point: 'write:locked', op: 'append', modes: ALL },
  { point: 'write:locked', op: 'delete', modes: KILL },
  { point: 'write:locked', op: 'trim', modes: KILL },
  { point: 'insert:allocated', op: 'append', modes: [...ALL, 'oom'] },
  { point: 'insert:allocated', op: 'upsert', modes: ALL },
  { point: 'insert:allocated', op: 'update', modes: KILL },
  { point: 'insert:allocated', op: 'counter', modes: KILL },
  { point: 'insert:indexed', op: 'append', modes: ALL },
  { point: 'insert:indexed', op: 'appendGrow', hit: 9, modes: KILL },
  { point: 'publish:open', op: 'append', modes: [...ALL, 'oom'] },
  { point: 'publish:open', op: 'appendNoId', modes: KILL },
  { point: 'publish:open', op: 'upsert', modes: KILL },
  { point: 'publish:open', op: 'delete', modes: KILL },
  { point: 'publish:open', op: 'trim', modes: ALL },
  { point: 'publish:open', op: 'appendGrow', hit: 9, modes: KILL },
  { point: 'write:published', op: 'append', modes: ALL },
  { point: 'write:published', op: 'appendGrow', hit: 9, modes: KILL },
  { point: 'write:published', op: 'upsert', modes: KILL },
  { point: 'write:published', op: 'delete', modes: KILL },
  { point: 'write:published', op: 'trim', modes: KILL },
  { point: 'scope:creating', op: 'create', modes: ALL },
  { point: 'drop:unpublishing', op: 'dropScope', modes: KILL },
  { point: 'drop:unpublishing', op: 'dropPrefix', modes: KILL },
  { point: 'drop:unpublishing', op: 'flush', modes: KILL },
  { point: 'bulk:built', op: 'warm', modes: ALL },
  { point: 'bulk:built', op: 'rebuild', modes: KILL },
  { point: 'bulk:swapping', op: 'warm', modes: [...KILL, 'oom'] },
  { point: 'bulk:swapping', op: 'rebuild', modes: KILL },
  { point: 'alloc:taking', op: 'append', modes: KILL },
  { point: 'alloc:taking', op: 'appendGrow', hit: 5, modes: KILL },
  { point: 'alloc:taking', op: 'warm', hit: 3, modes: KILL },
  // a thread dying while it splits ready blocks, or while it holds some
  { point: 'alloc:splitting', op: 'appendGrow', modes: KILL, reject: true },
  { point: 'alloc:taking', op: 'appendGrow', hit: 5, modes: KILL, reject: true },
  { point: 'publish:open', op: 'appendGrow', hit: 9, modes: KILL, reject: true },
  { point: 'write:published', op: 'appendGrow', hit: 20, modes: ALL, reject: true },
  { point: 'read:copying', op: 'read', modes: KILL },
  { point: 'write:locked', op: 'upsertFenced', modes: KILL },
  { point: 'publish:open', op: 'upsertFenced', modes: ALL },
  { point: 'publish:open', op: 'invalidateItem', modes: KILL },
  { point: 'publish:open', op: 'invalidateMiss', modes: ALL },
  { point: 'drop:unpublishing', op: 'invalidateScope', modes: KILL },
  { point: 'lease:claiming', op: 'tryLock', modes: ALL },
  { point: 'lease:claiming', op: 'tryLockLapsed', modes: ALL },
  // the capacity policy: an append that drops a drop-oldest scope's oldest item, and one that evicts
  { point: 'insert:indexed', op: 'appendRing', modes: KILL },
  { point: 'publish:open', op: 'appendRing', modes: ALL },
  { point: 'ring:dropped', op: 'appendRing', modes: ALL },
  { point: 'write:published', op: 'appendRing', modes: KILL },
  { point: 'evict:locked', op: 'appendEvict', modes: ALL },
  { point: 'drop:unpublishing', op: 'appendEvict', modes: KILL },
  { point: 'write:locked', op: 'appendEvict', hit: 2, modes: KILL },
  { point: 'publish:open', op: 'appendEvict', modes: KILL },
]
const TTL_CASES: Case[] = [
  // writes that carry a TTL, on 'exp' (prefill): every write there first reclaims 'gone' (a trim:
  // publish window 1) and 'mid' (a delete: window 2), so hit 3 is the write's own window
  { point: 'publish:open', op: 'appendTtl', modes: ALL },
  { point: 'publish:open', op: 'appendTtl', hit: 2, modes: KILL },
  { point: 'publish:open', op: 'appendTtl', hit: 3, modes: ALL },
  { point: 'write:published', op: 'appendTtl', hit: 3, modes: KILL },
  { point: 'insert:allocated', op: 'upsertTtl', modes: KILL },
  { point: 'publish:open', op: 'upsertTtl', hit: 3, modes: ALL },
  { point: 'publish:open', op: 'touchInPlace', hit: 3, modes: ALL },
  { point: 'publish:open', op: 'touchCopy', hit: 3, modes: KILL },
  { point: 'publish:open', op: 'scopeTtl', hit: 3, modes: KILL },
  { point: 'publish:open', op: 'sweep', modes: KILL },
  { point: 'publish:open', op: 'sweep', hit: 2, modes: ALL },
  { point: 'write:published', op: 'sweep', hit: 2, modes: KILL },
  { point: 'bulk:built', op: 'warmTtl', modes: KILL },
  { point: 'bulk:swapping', op: 'warmTtl', modes: KILL },
]

// 'evict': nothing in these stores is full but appendEvict's big item, which evicts other scopes
const OPTIONS = { maxStoreBytes: 256 * 1024, maxThreads: 8, lockLeaseMs: 300, expirySweepMs: 0, whenFull: 'evict' as const }
/** appendEvict's payload: with the prefill it passes maxStoreBytes by ~800 bytes (two scopes go). */
const BIG = `"${'x'.repeat(256 * 1024 - 1000)}"`

/** Every scope name the cases touch: their version fences are checked. */
const FENCED = ['victim', 'other', 'counters', 'ring', 'exp', 'fresh', 'warmed', 'rebuilt']

/** The same starting state in every store: the twin that computes "after" and the victim's. */
function prefill(cache: ScopeCache): void {
  cache.append('victim', { n: 'a' }, { id: 'a' })
  cache.append('victim', { n: 'b' }, { id: 'b' })
  cache.append('victim', rawJson('{ "n" : "c" }'))
  cache.append('other', { n: 'o1' }, { id: 'o1' })
  cache.counterAdd('counters', 'c', 10)
  cache.tryLock('lapsed', { leaseMs: 1 }) // lapsed by the time a worker takes it over
  // expiry: 'gone' (the oldest) and 'mid' expire at once (callers wait 100 ms), 'keep' in 10 minutes.
  // One warm, not four appends: an append reclaims its scope's expired items, so on a slow machine
  // the third append (> 1 ms after the first) would already remove 'gone', and the case would lose
  // the reclaim windows it counts on.
  cache.warm([
    { scope: 'exp', id: 'gone', payload: { n: 'gone' }, ttlMs: 1 },
    { scope: 'exp', id: 'keep', payload: { n: 'keep' }, ttlMs: 600_000 },
    { scope: 'exp', id: 'mid', payload: { n: 'mid' }, ttlMs: 1 },
    { scope: 'exp', id: 'plain', payload: { n: 'plain' } },
  ])
  cache.setScopeLimit('ring', { maxItems: 2, whenFull: 'drop-oldest' })
  cache.append('ring', { n: 1 }, { id: 'r1' })
  cache.append('ring', { n: 2 }, { id: 'r2' })
}

/**
 * What the main thread runs on the twin store: the same operations as the worker's OPS. `step`
 * is called after each atomic step of a multi-step operation (every state in between is legal).
 */
const TWIN: Record<string, (c: ScopeCache, step: () => void) => unknown> = {
  append: (c) => c.append('victim', rawJson('{"n":"new"}'), { id: 'new' }),
  appendNoId: (c) => c.append('victim', { n: 'anon' }),
  appendGrow: (c, step) => {
    for (let i = 0; i < 40; i++) {
      c.append('victim', { i }, { id: `grow-${i}` })
      step()
    }
  },
  upsert: (c) => c.upsert('victim', 'a', { n: 'replaced' }),
  update: (c) => c.update('victim', { seq: 2 }, { n: 'updated' }),
  counter: (c) => c.counterAdd('counters', 'c', 5),
  delete: (c) => c.delete('victim', { id: 'b' }),
  trim: (c) => c.trim('victim', { keep: 1 }),
  create: (c) => c.append('fresh', { n: 1 }, { id: 'x' }),
  dropScope: (c) => c.dropScope('victim'),
  dropPrefix: (c) => c.dropPrefix('vic'),
  flush: (c) => c.flush(),
  warm: (c) => c.warm([
    { scope: 'victim', id: 'w1', payload: { w: 1 } },
    { scope: 'victim', id: 'w2', payload: { w: 2 } },
    { scope: 'warmed', id: 'w3', payload: { w: 3 } },
  ]),
  rebuild: (c) => c.rebuild([
    { scope: 'victim', id: 'r1', payload: { r: 1 } },
    { scope: 'rebuilt', id: 'r2', payload: { r: 2 } },
  ]),
  read: (c) => c.getRaw('victim', { id: 'a' }),
  upsertFenced: (c) => c.upsert('victim', 'a', { n: 'fenced' }, { ifVersion: c.version('victim') }),
  invalidateItem: (c) => c.invalidate('victim', { id: 'b' }),
  invalidateMiss: (c) => c.invalidate('victim', { id: 'none' }),
  invalidateScope: (c) => c.invalidate('victim'),
  tryLock: (c) => c.tryLock('job'),
  tryLockLapsed: (c) => c.tryLock('lapsed'),
  appendTtl: (c) => c.append('exp', { n: 'new' }, { id: 'new', ttlMs: 60_000 }),
  upsertTtl: (c) => c.upsert('exp', 'plain', { n: 'replaced' }, { ttlMs: 60_000 }),
  touchInPlace: (c) => c.touch('exp', { id: 'keep' }, { ttlMs: 60_000 }),
  touchCopy: (c) => c.touch('exp', { id: 'plain' }, { ttlMs: 60_000 }),
  scopeTtl: (c) => c.setScopeTtl('exp', 60_000),
  sweep: (c) => c.sweepExpired(),
  warmTtl: (c) => c.warm([{ scope: 'exp', id: 'w1', payload: { w: 1 }, ttlMs: 60_000 }, { scope: 'exp', id: 'w2', payload: { w: 2 } }]),
  appendRing: (c) => c.append('ring', { n: 3 }, { id: 'r3' }),
  appendEvict: (c, step) => {
    // a step each time the write locks its scope: the second time, the eviction is done
    setFaultHook((p) => {
      if (p === 'write:locked') step()
    })
    try {
      c.append('victim', rawJson(BIG), { id: 'big' })
    } finally {
      setFaultHook(null)
    }
  },
}

/** An item: seq, id, payload, and its TTL in whole seconds from its ts (twin and victim write at different instants). */
interface ScopeState { lastSeq: number; itemTtlMs: number | null; items: [number, string | null, string, number | null][] }
type Snapshot = Map<string, ScopeState>

function snapshot(cache: ScopeCache): Snapshot {
  const out: Snapshot = new Map()
  for (const info of cache.scopeList({ limit: 10_000 }).scopes) {
    const items = cache.head(info.scope, { limit: 10_000, raw: true }).items.map((it) =>
      [it.seq, it.id, it.payload as string, it.expiresTs === null ? null : Math.round((it.expiresTs - it.ts) / 1e6)] as [number, string | null, string, number | null])
    out.set(info.scope, { lastSeq: info.lastSeq, itemTtlMs: info.itemTtlMs, items })
  }
  return out
}

const show = (s: Snapshot): string => JSON.stringify([...s].sort(([a], [b]) => (a < b ? -1 : 1)))

/**
 * null when `now` is exactly `before` or exactly one of the states after a step (lost scopes
 * aside: those must be empty with their seq counter kept), else what differs.
 */
function judge(now: Snapshot, before: Snapshot, afters: Snapshot[], lost: string[]): string | null {
  const legal = [before, ...afters]
  if (lost.length === 0) {
    return legal.some((s) => show(s) === show(now)) ? null : `store is neither before nor after:\n now    ${show(now)}\n before ${show(before)}\n after  ${show(afters[afters.length - 1])}`
  }
  for (const scope of lost) {
    const s = now.get(scope)
    if (s === undefined || s.items.length !== 0) return `lost scope '${scope}' is not empty`
    const was = Math.max(before.get(scope)?.lastSeq ?? 0, 0)
    if (s.lastSeq < was) return `lost scope '${scope}' rewound its seq counter (${s.lastSeq} < ${was})`
  }
  const names = new Set([...now.keys(), ...legal.flatMap((s) => [...s.keys()])])
  for (const name of names) {
    if (lost.includes(name)) continue
    const n = JSON.stringify(now.get(name) ?? null)
    if (!legal.some((s) => JSON.stringify(s.get(name) ?? null) === n)) return `scope '${name}' is neither before nor after: ${n}`
  }
  return null
}


/** Runs one crash case; resolves with what the reaper reported and whether the point was reached. */
async function crash(cache: ScopeCache, c: Case, mode: Mode): Promise<{ reached: boolean; report: ReapReport | null; failure: string }> {
  const signal = new SharedArrayBuffer(4)
  const flag = new Int32Array(signal)
  const worker = new Worker(CRASH, {
    workerData: { handle: cache.handle, signal, point: c.point, mode, op: c.op, hit: c.hit ?? 1 },
    resourceLimits: mode === 'oom' ? { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } : undefined,
    stdout: true,
    stderr: true,
  })
  let report: ReapReport | null = null
  cache.watch(worker, (r) => {
    report = r
  })
  let failure = ''
  worker.on('error', (e) => (failure = String(e))) // 'throw' and 'oom' end with an error event; that is the point
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
  let done = false
  void exited.then(() => {
    done = true
  })
  const deadline = Date.now() + 15_000
  while (!done && Atomics.load(flag, 0) === 0 && Date.now() < deadline) await sleep(1)
  if (mode === 'terminate' && Atomics.load(flag, 0) === 1) await worker.terminate()
  if (!done && Atomics.load(flag, 0) === 2) await worker.terminate() // finished without reaching it
  await exited
  await sleep(0)
  return { reached: Atomics.load(flag, 0) === 1, report, failure }
}

describe('a thread that dies inside the core', () => {
  const cases = CASES.flatMap((c) => c.modes.map((mode) => ({ ...c, mode })))
  const ttlCases = TTL_CASES.flatMap((c) => c.modes.map((mode) => ({ ...c, mode })))

  it(`leaves the store whole: ${cases.length} crash points × modes`, () => crashEach(cases))
  it(`leaves the store whole when the write carries a TTL: ${ttlCases.length} crash points × modes`, () => crashEach(ttlCases))
})

async function crashEach(cases: (Case & { mode: Mode })[]): Promise<void> {
  {
    const lostTotal = new Map<string, number>()
    for (const c of cases) {
      const label = `${c.point} during ${c.op} (${c.mode})`
      const opts = c.reject === true ? { ...OPTIONS, whenFull: 'reject' as const } : OPTIONS
      const cache = ScopeCache.create(opts)
      const twin = ScopeCache.create(opts)
      prefill(cache)
      prefill(twin)
      await sleep(100) // 'gone' and 'mid' expire, by every thread's clock
      const before = snapshot(cache)
      const versionsBefore = new Map(FENCED.map((n) => [n, cache.version(n)]))
      const afters: Snapshot[] = []
      TWIN[c.op](twin, () => afters.push(snapshot(twin)))
      afters.push(snapshot(twin))

      const { reached, report, failure } = await crash(cache, c, c.mode)
      expect(reached, `${label}: the operation never reached the point (${failure || 'no error'}; stats ${JSON.stringify(cache.stats())})`).toBe(true)
      expect(() => checkInvariants(cache), label).not.toThrow()
      const lost = [...((report as ReapReport | null)?.scopesLost ?? [])]
      // a thread that caught an exception inside a publish window empties the scope itself
      if (cache.recoveryStats().scopesLost > lost.length) lost.push('victim')
      if (lost.length > 0) lostTotal.set(label, lost.length)
      expect(judge(snapshot(cache), before, afters, lost), label).toBeNull()
      expect(lost, `${label}: every write is all-or-nothing, so no scope may be lost`).toEqual([])
      // the id tables agree with the entries: every item is found by its id (a torn id slot is not)
      for (const [scope, st] of snapshot(cache)) {
        for (const [, id, payload] of st.items) if (id !== null) expect(cache.getRaw(scope, { id }), `${label}: ${scope}/${id} by id`).toBe(payload)
      }
      // every scope's version fence never goes back, and moved if the scope did (dropped or evicted too)
      const now = snapshot(cache)
      for (const n of FENCED) {
        const versionAfter = cache.version(n)
        const was = versionsBefore.get(n) as number
        expect(versionAfter, `${label}: version of '${n}' went back`).toBeGreaterThanOrEqual(was)
        if (JSON.stringify(now.get(n)) !== JSON.stringify(before.get(n))) expect(versionAfter, `${label}: '${n}' changed, its version did not`).toBeGreaterThan(was)
      }

      // the store goes on: the same scopes take writes and reads from this thread
      const dropped = !cache.scopeList({ limit: 10_000 }).scopes.some((sc) => sc.scope === 'victim')
      const meta = cache.append('victim', { post: c.op }, { id: `post-${c.op}` })
      expect(cache.getRaw('victim', { id: `post-${c.op}` }), label).toBe(`{"post":"${c.op}"}`)
      // a dropped scope written again is a new scope (seq from 1); a kept one never goes back
      if (!dropped) expect(meta.seq, `${label}: seq went backwards`).toBeGreaterThan(before.get('victim')?.lastSeq ?? 0)
      cache.counterAdd('counters', 'c', 1)
      // the lease table's mutex is free again: a lock call neither waits nor times out
      const lease = cache.tryLock(`post-${c.op}`, { leaseMs: 10 })
      expect(lease, label).not.toBeNull()
      expect(cache.unlock(`post-${c.op}`, lease!.token), label).toBe(true)
      expect(() => checkInvariants(cache), `${label}, after more writes`).not.toThrow()
      if (c.op !== 'read') expect(cache.recoveryStats().deadThreadsReaped, label).toBeGreaterThanOrEqual(1)
      cache.close()
      twin.close()
    }
    console.log(`crash points: ${cases.length} cases; scopes reported lost in: ${[...lostTotal].map(([k, n]) => `${k}: ${n}`).join('; ') || 'none'}`)
  }
}

describe('a reap that must wait', () => {
  it('gives stolen locks back when a live holder outlasts the lease, and repairs the torn scope on the retry', async () => {
    const cache = ScopeCache.create({ ...OPTIONS, lockLeaseMs: 150 })
    prefill(cache)
    const before = snapshot(cache)
    // a live thread holds 'other' for 4 leases (it is slow, not dead)
    const holdSignal = new SharedArrayBuffer(8)
    const holder = new Worker(CRASH, { workerData: { handle: cache.handle, signal: holdSignal, point: 'write:locked', mode: 'pause', op: 'appendOther', hit: 1, pauseMs: 600 } })
    cache.watch(holder)
    const holderExit = new Promise((r) => holder.once('exit', r))
    for (let i = 0; i < 5000 && Atomics.load(new Int32Array(holdSignal), 0) === 0; i++) await sleep(1)
    // meanwhile a writer dies inside its publish window on 'victim': the first reap times out on 'other'
    const { reached } = await crash(cache, { point: 'publish:open', op: 'append', modes: ['terminate'] }, 'terminate')
    expect(reached).toBe(true)
    await holderExit
    for (let i = 0; i < 200 && cache.recoveryStats().deadThreadsReaped === 0; i++) await sleep(10) // the retry
    expect(cache.recoveryStats()).toEqual({ deadThreadsReaped: 1, scopesLost: 0 })
    const now = snapshot(cache)
    expect(JSON.stringify(now.get('victim'))).toBe(JSON.stringify(before.get('victim'))) // rolled back, not emptied
    expect(now.get('other')?.items.map((it) => it[2])).toEqual(['{"n":"o1"}', '{"n":"late"}']) // the slow writer finished
    expect(() => checkInvariants(cache)).not.toThrow()
    cache.close()
  })
})

describe('threads killed at random moments while others work', () => {
  it('keeps every invariant, loses no acknowledged write of a live thread, recycles thread slots', async () => {
    const TRIALS = Number(process.env.SCOPECACHE_KILLS ?? 120)
    const seed = Number(process.env.SCOPECACHE_SEED ?? (Date.now() % 1_000_000))
    console.log(`random kills seed=${seed} (replay with SCOPECACHE_SEED=${seed}), ${TRIALS} trials`)
    let x = seed
    const rnd = (n: number): number => {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
      return x % n
    }
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20, maxThreads: 6, lockLeaseMs: 500 })
    // A survivor thread writes its own scope and reads the hot ones the whole time.
    const stop = new Int32Array(new SharedArrayBuffer(8))
    const survivor = new Worker(STREAM, { workerData: { handle: cache.handle, role: 'survivor', stop: stop.buffer, seed } })
    cache.watch(survivor)
    const survivorExit = new Promise((resolve) => survivor.once('exit', resolve))
    const survivorDone = new Promise<{ acked: number; reads: number; errors: string[] }>((resolve, reject) => {
      survivor.once('message', resolve)
      survivor.once('error', reject)
    })
    let reaped = 0
    let lost = 0
    for (let t = 0; t < TRIALS; t++) {
      const started = new Int32Array(new SharedArrayBuffer(4))
      const victim = new Worker(STREAM, { workerData: { handle: cache.handle, role: 'victim', started: started.buffer, seed: seed + t } })
      cache.watch(victim, (r) => {
        reaped++
        lost += r.scopesLost.length
      })
      victim.on('error', () => {})
      const exited = new Promise((resolve) => victim.once('exit', resolve))
      const deadline = Date.now() + 10_000
      while (Atomics.load(started, 0) === 0 && Date.now() < deadline) await sleep(1)
      await sleep(rnd(12))
      await victim.terminate()
      await exited
      await sleep(0)
      // this thread keeps writing between kills too
      cache.append('hot:0', { main: t })
      if (t % 20 === 19) await checkWhileParked(cache, stop, `after kill ${t}`)
    }
    Atomics.store(stop, 0, 1)
    const result = await survivorDone
    await survivorExit
    expectSurvivorWhole(cache, result)
    expect(lost).toBe(0)
    console.log(`random kills: ${TRIALS} victims terminated (6 thread slots), ${reaped} reaps with something to recover, ${lost} scopes lost; survivor ${result.acked} writes, ${result.reads} reads`)
    cache.close()
  })
})
