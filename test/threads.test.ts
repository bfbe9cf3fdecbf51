/**
 * One store, several worker threads. The workers (test/fixtures/threads-*.mjs) are plain ESM that
 * import the BUILT core (packages/core/dist), so this file imports the built core too: the main
 * thread and the workers run the same code over the same memory layout. Build first:
 *   npx tsc -p packages/core/tsconfig.build.json
 *
 * Every worker gets a seed derived from one run seed, printed as `threads.test seed=<n>`; replay a
 * failure's operation sequences with SCOPECACHE_SEED=<n> (the interleaving of threads is up to the
 * OS). Workers are bounded in operations and in every wait; none is terminated, every one closes
 * its handle, and every one's 'exit' is awaited.
 *
 * Soak mode (not in CI): SCOPECACHE_SOAK=1 (or test/soak.sh) runs the same tests with more
 * threads and ~20× the operations, for minutes; SCOPECACHE_SOAK=<k> scales the operations by k.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { checkInvariants } from '../packages/core/dist/internals.js'
import type { ReaderReport as StressReaderReport, WriterReport as StressWriterReport } from './helpers/stress-state.js'

const SIGNAL = new URL('./fixtures/threads-signal.mjs', import.meta.url)
const STRESS = new URL('./fixtures/threads-stress.mjs', import.meta.url)
const SCOPES = new URL('./fixtures/threads-scopes.mjs', import.meta.url)
const COMMON = './fixtures/threads-common.mjs'

/** The parts of fixtures/threads-common.mjs this file uses (one definition of the payload format). */
interface Common {
  payloadText(w: number, n: number, v: number): string
  deriveSeed(seed: number, k: number): number
  readAll(cache: ScopeCache, scope: string): [number, string | null, string][]
  diffItems(actual: unknown[], expected: unknown[]): string | null
}
let common: Common

const SOAK = process.env.SCOPECACHE_SOAK === undefined || process.env.SCOPECACHE_SOAK === '' || process.env.SCOPECACHE_SOAK === '0' ? 0 : process.env.SCOPECACHE_SOAK === '1' ? 20 : Number(process.env.SCOPECACHE_SOAK)
if (!(SOAK >= 0 && Number.isFinite(SOAK))) throw new Error(`SCOPECACHE_SOAK=${process.env.SCOPECACHE_SOAK}: expected 1 or a positive scale factor`)
/** Operation counts: as given in CI, times the soak factor when soaking. */
const ops = (n: number): number => (SOAK > 0 ? Math.round(n * SOAK) : n)
/** Per-test timeout: vitest's default in CI, an hour when soaking. */
const TIMEOUT = SOAK > 0 ? 3_600_000 : undefined
const SEED = process.env.SCOPECACHE_SEED !== undefined ? Number(process.env.SCOPECACHE_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0
const why = (what: string): string => `${what} (SCOPECACHE_SEED=${SEED})`

beforeAll(async () => {
  console.log(`threads.test seed=${SEED} (replay with SCOPECACHE_SEED=${SEED})${SOAK > 0 ? `, soak ×${SOAK}` : ''}`)
  // The workers run dist: it must exist, and a build older than its sources is worth a warning
  // (an mtime is only a hint: a checkout can touch sources without changing them).
  const src = new URL('../packages/core/src/', import.meta.url)
  const dist = new URL('../packages/core/dist/', import.meta.url)
  for (const f of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const js = new URL(f.replace(/\.ts$/, '.js'), dist)
    if (!existsSync(js)) throw new Error(`packages/core/dist/${f.replace(/\.ts$/, '.js')} is missing: run npx tsc -p packages/core/tsconfig.build.json`)
    if (statSync(js).mtimeMs < statSync(new URL(f, src)).mtimeMs) {
      console.warn(`threads.test: packages/core/dist looks older than src/${f}; the workers run dist (npx tsc -p packages/core/tsconfig.build.json)`)
    }
  }
  common = (await import(COMMON)) as Common
})

/** Starts a worker attached to `cache`; resolves with its last message once it has exited with code 0. */
function spawn<R>(cache: ScopeCache, file: URL, data: Record<string, unknown>): Promise<R> {
  const worker = new Worker(file, { workerData: { handle: cache.handle, ...data } })
  cache.watch(worker)
  return new Promise((resolve, reject) => {
    let report: R | undefined
    let error: unknown
    worker.on('message', (m: R) => (report = m))
    worker.on('error', (e) => (error = e))
    worker.on('exit', (code) => {
      if (error !== undefined) reject(error)
      else if (code !== 0 || report === undefined) reject(new Error(`worker ${String(data.role)} exited with code ${code} ${report === undefined ? 'without a report' : ''}`))
      else resolve(report)
    })
  })
}

/** Waits for EVERY worker to exit (so none outlives the test), then fails on the first that failed. */
async function all<R>(runs: Promise<R>[]): Promise<R[]> {
  const settled = await Promise.allSettled(runs)
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value)
}

describe('threads share one store', () => {
  it('a worker reads by id what another thread appended, with no message passing', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    const signal = new SharedArrayBuffer(16)
    const payload = { text: 'hello from A', n: 42, nested: { ok: true, list: [1, 'two', null, 3.5] }, unicode: 'héllo 中文 😀' }
    const shared = { mode: 'once', scope: 'thread:1', id: 'm1', payload, signal }
    // B starts first and waits on the signal word; A appends, then stores + notifies that word
    const [b, a] = await all<Record<string, any>>([
      spawn(cache, SIGNAL, { role: 'reader', ...shared }),
      spawn(cache, SIGNAL, { role: 'writer', ...shared }),
    ])
    expect(a.error).toBeUndefined()
    expect(b.error).toBeUndefined()
    expect(b.signalled).toBe(true)
    expect(a.meta).toMatchObject({ scope: 'thread:1', id: 'm1', seq: 1 })
    expect(b.seq).toBe(a.meta.seq)
    const item = { ...a.meta, expiresTs: null, payload }
    expect(b.byId).toEqual(item)
    expect(b.bySeq).toEqual(item)
    expect(b.rawById).toBe(JSON.stringify(payload))
    // and the main thread sees the same item; both workers released their thread slots
    expect(cache.get('thread:1', { id: 'm1' })).toEqual(item)
    expect(cache.stats()).toMatchObject({ scopes: 1, items: 1 })
    checkInvariants(cache)
    cache.close()
  }, TIMEOUT)

  it(`every append is visible to another thread as soon as a shared-memory signal says so (${ops(2000)} rounds)`, async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 4 << 20 })
    const signal = new SharedArrayBuffer(16)
    const rounds = ops(2000)
    const shared = { mode: 'rounds', scope: 'thread:rounds', rounds, signal }
    const [b, a] = await all<Record<string, any>>([
      spawn(cache, SIGNAL, { role: 'reader', ...shared }),
      spawn(cache, SIGNAL, { role: 'writer', ...shared }),
    ])
    expect(a.error).toBeUndefined()
    expect(b.error).toBeUndefined()
    expect(b.bad).toEqual([])
    expect(b.checked).toBe(rounds)
    expect(a.acked).toBe(rounds)
    expect(cache.stats().items).toBe(rounds + 1)
    checkInvariants(cache)
    cache.close()
  }, TIMEOUT)

  interface WriterReport extends StressWriterReport {
    ops: number
  }
  interface ReaderReport extends StressReaderReport {
    distinctItems: number
    deletedSeen: number
  }

  const stressCases = [
    // room to spare: every write must be acknowledged
    { name: `${SOAK > 0 ? 256 : 8} MiB store`, maxStoreBytes: (SOAK > 0 ? 256 : 8) << 20, expectFull: false },
    // about a third of what the writers would keep: store_full on every kind of write, rolled back
    // with nothing visible, while other threads keep reading and freeing
    { name: '160 KiB store, writes run into store_full', maxStoreBytes: 160 << 10, expectFull: true },
  ]

  it.each(stressCases)(`stress, $name: ${SOAK > 0 ? 6 : 3} writers and ${SOAK > 0 ? 6 : 3} readers on shared hot scopes; no torn read, no lost or phantom write, invariants hold`, async ({ maxStoreBytes, expectFull }) => {
    const cache = ScopeCache.create({ maxStoreBytes, scopeMaxItems: 1_000_000 })
    const hot = ['hot:0', 'hot:1', 'hot:2']
    const counter = { scope: 'counters', id: 'shared' }
    const writers = SOAK > 0 ? 6 : 3
    const readers = SOAK > 0 ? 6 : 3
    const writerOps = ops(3000)
    const readerOps = ops(3000)
    const gate = new SharedArrayBuffer(8) // [0] start barrier, [1] writers finished
    const threads = writers + readers
    const base = { hot, writers, counter, gate, threads }
    const started = performance.now()
    const reports = await all<WriterReport | ReaderReport>([
      ...Array.from({ length: writers }, (_, w) =>
        spawn<WriterReport>(cache, STRESS, { ...base, role: 'writer', w, ops: writerOps, seed: common.deriveSeed(SEED, w) })),
      ...Array.from({ length: readers }, (_, r) =>
        spawn<ReaderReport>(cache, STRESS, { ...base, role: 'reader', w: r, ops: readerOps, seed: common.deriveSeed(SEED, 100 + r) })),
    ])
    const elapsed = performance.now() - started

    // ---- what the workers saw
    const ws = reports.filter((r): r is WriterReport => r.role === 'writer')
    const rs = reports.filter((r): r is ReaderReport => r.role === 'reader')
    expect(ws.flatMap((r) => r.bad).concat(rs.flatMap((r) => r.bad)), why('violations seen by the workers')).toEqual([])
    for (const r of [...ws, ...rs]) expect(r.violations, why(`${r.role} ${r.w}`)).toBe(0)
    for (const r of rs) {
      expect(r.counts.items, why(`reader ${r.w} checked nothing`)).toBeGreaterThan(0)
      expect(r.counts.hits, why(`reader ${r.w} never hit`)).toBeGreaterThan(0)
    }
    const full = ws.reduce((a, r) => a + (r.failed.store_full ?? 0), 0)
    if (expectFull) expect(full, why('the tight store never ran full')).toBeGreaterThan(0)
    else for (const r of ws) expect(r.failed, why(`writer ${r.w} had failed writes`)).toEqual({})

    // ---- the store holds exactly the acknowledged state
    const expected = new Map<string, Map<string, { seq: number; text: string }>>()
    let counterSum = 0
    let counterAdds = 0
    const problems: string[] = []
    for (const r of ws) {
      counterSum += r.counterSum
      counterAdds += r.acked.counterAdd
      for (const [id, scope, n, v, seq] of r.live) {
        if (!expected.has(scope)) expected.set(scope, new Map())
        expected.get(scope)!.set(id, { seq, text: common.payloadText(r.w, n, v) })
      }
    }
    // every acknowledged surviving write, by id: its latest acknowledged version, at its seq
    for (const [scope, ids] of expected) {
      for (const [id, want] of ids) {
        const got = cache.get(scope, { id })
        const raw = cache.getRaw(scope, { id })
        if (got === undefined || got.seq !== want.seq || raw !== want.text) problems.push(`${scope}/${id}: got ${got?.seq}: ${raw}, expected ${want.seq}: ${want.text}`)
      }
    }
    // walking every scope: each expected id exactly once, nothing else
    const listed = cache.scopeList({ limit: 10_000 }).scopes
    let found = 0
    for (const row of listed) {
      const items = common.readAll(cache, row.scope)
      found += items.length
      if (row.itemCount !== items.length) problems.push(`${row.scope}: scopeList says ${row.itemCount} items, head walk found ${items.length}`)
      if (row.scope === counter.scope) {
        const want = counterAdds > 0 ? [[counter.id, String(counterSum)]] : []
        const got = items.map(([, id, text]) => [id, text])
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`counter: ${JSON.stringify(got)}, expected ${JSON.stringify(want)} (sum of acknowledged increments)`)
        continue
      }
      if (!hot.includes(row.scope) && !/^own:\d+$/.test(row.scope)) problems.push(`unexpected scope ${row.scope}`)
      const want = expected.get(row.scope) ?? new Map()
      const seen = new Set<string>()
      for (const [seq, id, text] of items) {
        const w = want.get(id as string)
        if (seen.has(id as string)) problems.push(`${row.scope}/${id} twice (seq ${seq})`)
        else if (w === undefined) problems.push(`${row.scope}/${id} (seq ${seq}) was not expected: deleted, failed, or never written`)
        else if (w.seq !== seq || w.text !== text) problems.push(`${row.scope}/${id}: seq ${seq} ${text}, expected seq ${w.seq} ${w.text}`)
        seen.add(id as string)
      }
      for (const id of want.keys()) if (!seen.has(id)) problems.push(`${row.scope}/${id} missing from the head walk`)
    }
    for (const scope of expected.keys()) if (expected.get(scope)!.size > 0 && !listed.some((r) => r.scope === scope)) problems.push(`scope ${scope} missing`)
    expect(problems.slice(0, 20), why('final state')).toEqual([])
    const stats = cache.stats()
    expect(stats.items, why('stats().items')).toBe(found)
    expect(stats.items, why('items expected')).toBe([...expected.values()].reduce((a, m) => a + m.size, 0) + (counterAdds > 0 ? 1 : 0))
    expect(stats.scopes, why('stats().scopes')).toBe(listed.length)
    checkInvariants(cache)

    const sum = (k: string): number => ws.reduce((a, r) => a + (r.acked[k] ?? 0), 0)
    const rsum = (k: string): number => rs.reduce((a, r) => a + r.counts[k], 0)
    console.log(
      `stress ${maxStoreBytes >> 10} KiB seed=${SEED}: ${writers}×${writerOps} writer ops ` +
        `(acked append ${sum('append')}, upsert ${sum('upsert')}, update ${sum('update')}, delete ${sum('delete')}, counterAdd ${sum('counterAdd')}; store_full ${full}), ` +
        `${rsum('iterations')} reader iterations (${rsum('pages')} pages, ${rsum('gets')} gets, ${rsum('hits')} hits, ${rsum('items')} items checked, ` +
        `${rsum('counterReads')} counter reads, ${rsum('lists')} listings), ${found} items at the end, ${Math.round(elapsed)} ms`,
    )
    cache.close()
  }, TIMEOUT)

  interface ScopesReport {
    role: 'owner' | 'churn' | 'bulk' | 'bulk-reader' | 'reader'
    k: number
    counts: Record<string, number>
    model?: [string, number, [number, string | null, string][]][]
    violations: number
    bad: string[]
  }

  it('threads writing to different scopes while others warm, trim and drop theirs: each keeps exactly its own state, no page mixes warm batches, invariants hold', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 16 << 20, scopeMaxItems: 100_000 })
    const owners = SOAK > 0 ? 5 : 3
    const churnScopes = 6
    const roles: [ScopesReport['role'], number, number][] = [
      ...Array.from({ length: owners }, (_, k): [ScopesReport['role'], number, number] => ['owner', k, ops(2500)]),
      ['churn', 0, ops(1500)],
      ['bulk', 0, ops(400)],
      ['bulk-reader', 0, ops(20_000)],
      ...Array.from({ length: SOAK > 0 ? 3 : 1 }, (_, k): [ScopesReport['role'], number, number] => ['reader', k, ops(3000)]),
    ]
    const gate = new SharedArrayBuffer(16) // [0] start barrier, [1] set when the bulk writer is done, [2] once the bulk reader reads, [3] once it has checked a batch
    const started = performance.now()
    const reports = await all(
      roles.map(([role, k, ops], i) =>
        spawn<ScopesReport>(cache, SCOPES, { role, k, ops, seed: common.deriveSeed(SEED, 200 + i), gate, threads: roles.length, owners, churnScopes })),
    )
    const elapsed = performance.now() - started
    expect(reports.flatMap((r) => r.bad), why('violations seen by the workers')).toEqual([])
    for (const r of reports) expect(r.violations, why(`${r.role} ${r.k}`)).toBe(0)
    for (const r of reports.filter((x) => x.role === 'reader' || x.role === 'bulk-reader')) {
      expect(r.counts.items, why(`${r.role} ${r.k} checked nothing`)).toBeGreaterThan(0)
      expect(r.counts.wholeBatches, why(`${r.role} ${r.k} never saw a whole warm batch`)).toBeGreaterThan(0)
    }

    // the store is exactly the union of the writers' models
    const expected = new Map<string, { lastSeq: number; items: [number, string | null, string][] }>()
    for (const r of reports) for (const [scope, lastSeq, items] of r.model ?? []) expected.set(scope, { lastSeq, items })
    const listed = cache.scopeList({ limit: 10_000 }).scopes
    expect(listed.map((s) => s.scope).sort(), why('scopes')).toEqual([...expected.keys()].sort())
    let items = 0
    for (const row of listed) {
      const want = expected.get(row.scope)!
      expect(common.diffItems(common.readAll(cache, row.scope), want.items), why(row.scope)).toBeNull()
      expect([row.itemCount, row.lastSeq], why(`${row.scope} count, lastSeq`)).toEqual([want.items.length, want.lastSeq])
      items += want.items.length
    }
    expect(cache.stats(), why('stats')).toMatchObject({ scopes: expected.size, items })
    checkInvariants(cache)
    // and, with the threads gone, rebuild leaves exactly what it was given
    expect(cache.rebuild([{ scope: 'only', payload: 1 }, { scope: 'only', id: 'k', payload: 2 }])).toEqual({ scopes: 1, items: 2 })
    expect(cache.scopeList().scopes.map((s) => [s.scope, s.itemCount, s.lastSeq])).toEqual([['only', 2, 2]])
    expect(cache.stats()).toMatchObject({ scopes: 1, items: 2 })
    checkInvariants(cache)

    const c = (role: string, key: string): number => reports.filter((r) => r.role === role).reduce((a, r) => a + r.counts[key], 0)
    console.log(
      `different scopes seed=${SEED}: owners ${c('owner', 'ops')} ops, churn ${c('churn', 'ops')} ops, bulk ${c('bulk', 'ops')} batches, ` +
        `${c('owner', 'verified') + c('churn', 'verified') + c('bulk', 'verified')} full-scope comparisons, readers ${c('reader', 'ops')} iterations / ${c('reader', 'items')} items checked, bulk reader ${c('bulk-reader', 'batchPages') + c('reader', 'batchPages')} bulk pages (${c('bulk-reader', 'wholeBatches') + c('reader', 'wholeBatches')} whole batches); ` +
        `${expected.size} scopes, ${items} items at the end, ${Math.round(elapsed)} ms`,
    )
    cache.close()
  }, TIMEOUT)
})
