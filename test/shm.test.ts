/**
 * One store shared by processes: ScopeCache.open / ScopeCache.unlink over @scopecache/shm (a
 * /dev/shm file mapped as a SharedArrayBuffer). The processes are real (child_process.fork) and run
 * the BUILT core (packages/core/dist) and the built addon (packages/shm/prebuilds): `pnpm build`.
 *
 * Every store and gate file gets a name unique to this run and is unlinked by the test that made it
 * (afterAll sweeps any a failed test left). Every process a test starts is awaited (or killed and
 * awaited) by it. Bounded: operation counts, every wait, the kill loop (count and time).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { cpSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { ScopeCache, ScopeCacheError } from '../packages/core/dist/index.js'
import { checkInvariants, INTERNALS } from '../packages/core/dist/internals.js'
import { T_PID, T_PSTART_LO } from '../packages/core/dist/layout.js'
import { deriveSeed } from './fixtures/threads-common.mjs'
import { stressStateProblems, type ReaderReport, type WriterReport } from './helpers/stress-state.js'

interface Shm {
  create(name: string, bytes: number): SharedArrayBuffer
  open(name: string): { buffer?: SharedArrayBuffer; size: number; uid: number }
  unlink(name: string): boolean
}
const shm = createRequire(import.meta.url)('../packages/shm/index.js') as Shm

const PROCESS = fileURLToPath(new URL('./fixtures/shm-process.mjs', import.meta.url))
const VICTIM = fileURLToPath(new URL('./fixtures/shm-victim.mjs', import.meta.url))
const RUN = `t${process.pid}-${Date.now().toString(36)}`
const SEED = process.env.SCOPECACHE_SEED !== undefined ? Number(process.env.SCOPECACHE_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0
const why = (what: string): string => `${what} (SCOPECACHE_SEED=${SEED})`
let n = 0
/** A store name unique to this run; its file is /dev/shm/scopecache-<name>. */
const fresh = (): string => `${RUN}-${++n}`
const fileOf = (name: string): string => `/dev/shm/scopecache-${name}`
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

afterAll(() => {
  for (const f of readdirSync('/dev/shm')) if (f.startsWith(`scopecache-${RUN}`)) rmSync(`/dev/shm/${f}`, { force: true })
})

const codeOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    if (e instanceof ScopeCacheError) return `${e.code}: ${e.message}`
    throw e
  }
  return 'none'
}

/** Resolves with the child's exit; rejects if it has not exited within `ms` (and kills it then). */
function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`process ${child.pid} did not exit within ${ms} ms`))
    }, ms)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

/** Forks a stress process (fixtures/shm-process.mjs) and resolves with its workers' reports once it has exited. */
async function stressProcess(args: Record<string, unknown>, ms: number): Promise<(WriterReport | ReaderReport)[]> {
  const child = fork(PROCESS, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let reports: (WriterReport | ReaderReport)[] | undefined
  child.on('message', (m: { reports: (WriterReport | ReaderReport)[] }) => (reports = m.reports))
  const { code, signal } = await exited(child, ms)
  if (code !== 0 || reports === undefined) throw new Error(`stress process exited with ${code ?? signal} ${reports === undefined ? 'without reports' : ''}`)
  return reports
}

/** Runs `source` (an ES module) in a fresh node process; its stdout. */
async function runNode(source: string, cwd?: string): Promise<string> {
  // no NODE_PATH: pnpm sets one for its scripts, through which a copied core would still find @scopecache/shm
  const env = { ...process.env }
  delete env.NODE_PATH
  const child = fork('--input-type=module', ['-e', source], { cwd, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv: [] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const { code } = await exited(child, 30_000)
  if (code !== 0) throw new Error(`node exited with ${code}: ${out}`)
  return out
}

/** Waits (bounded) until every thread slot but this handle's is free: dead processes reaped. */
async function reaped(cache: ScopeCache, ms: number): Promise<{ total: number; free: number }> {
  const end = Date.now() + ms
  let slots = cache.threadSlots()
  while (slots.free < slots.total - 1 && Date.now() < end) {
    await sleep(20)
    slots = cache.threadSlots()
  }
  return slots
}

describe('a store in shared memory, several processes', () => {
  const hot = ['hot:0', 'hot:1', 'hot:2']
  const counter = { scope: 'counters', id: 'shared' }

  it('3 processes attach by name and run the stress operations (a writer and a reader thread each): exact survivors and counter sum, invariants hold', async () => {
    const name = fresh()
    const gateFile = `scopecache-${name}-gate`
    const cache = ScopeCache.open({ name, maxStoreBytes: 8 << 20, scopeMaxItems: 1_000_000 })
    shm.create(gateFile, 64)
    try {
      const processes = 3
      const ops = 1500
      const base = { hot, writers: processes, counter, threads: processes * 2 }
      const all = await Promise.all(Array.from({ length: processes }, (_, p) => stressProcess({
        name, gateFile, base,
        roles: [
          { role: 'writer', w: p, ops, seed: deriveSeed(SEED, p) },
          { role: 'reader', w: p, ops, seed: deriveSeed(SEED, 100 + p) },
        ],
      }, 50_000)))
      const reports = all.flat()
      const ws = reports.filter((r): r is WriterReport => r.role === 'writer')
      const rs = reports.filter((r): r is ReaderReport => r.role === 'reader')
      expect(reports.flatMap((r) => r.bad), why('violations seen by the processes')).toEqual([])
      expect(ws).toHaveLength(processes)
      for (const r of ws) expect(r.failed, why(`writer ${r.w} had failed writes`)).toEqual({})
      for (const r of rs) expect(r.counts.hits, why(`reader ${r.w} never hit`)).toBeGreaterThan(0)
      const { problems, found, expectedItems } = stressStateProblems(cache, ws, { hot, counter })
      expect(problems.slice(0, 20), why('final state')).toEqual([])
      expect(cache.stats().items).toBe(found)
      expect(found).toBe(expectedItems)
      expect(ws.reduce((a, r) => a + r.acked.append, 0)).toBeGreaterThan(0)
      checkInvariants(cache)
      expect(await reaped(cache, 5_000)).toEqual({ total: 256, free: 255 }) // every process closed its handles
    } finally {
      cache.close()
      ScopeCache.unlink(name)
      shm.unlink(gateFile)
    }
  }, 60_000)

  it('a writer process SIGKILLed at random instants, ≥ 100 times, while 2 processes write and read: no stuck lock, no inconsistency, every acknowledged write of the survivors there', async () => {
    const name = fresh()
    const gateFile = `scopecache-${name}-gate`
    // a short lease: a lock a killed victim held stops survivors for ~one lease before it is reaped
    const cache = ScopeCache.open({ name, maxStoreBytes: 8 << 20, scopeMaxItems: 1_000_000, lockLeaseMs: 200 })
    const gate = new Int32Array(shm.create(gateFile, 64))
    const STOP = 2
    const KILLS = 100
    const started = Date.now()
    const TIME_MS = 150_000 // 25–60 s on 2 busy cores (a Node start costs ~0.25 s of CPU there); more only when they are overloaded
    let kills = 0
    let lives = 0
    const victimStatus: string[] = []
    try {
      const base = { hot, writers: 2, counter, threads: 3, tolerate: ['lock_timeout'], stopWord: STOP, paceMs: 4 }
      // survivors: one process with a writer and a reader thread, one with a writer (few threads:
      // the victims' start-up is most of this test's CPU)
      const survivors = Promise.all([
        { role: 'writer', w: 0, ops: 1_000_000, seed: deriveSeed(SEED, 0) },
        { role: 'writer', w: 1, ops: 1_000_000, seed: deriveSeed(SEED, 1) },
        { role: 'reader', w: 0, ops: 2000, seed: deriveSeed(SEED, 100) },
      ].reduce<Record<string, unknown>[][]>((acc, r, i) => (i < 2 ? acc.push([r]) : acc[0]!.push(r), acc), [])
        .map((roles) => stressProcess({ name, gateFile, base, roles }, 200_000)))
      // victims, each killed at a random instant of its write loop; the next one starts while the
      // current one writes (a start costs ~0.3 s of CPU), six such pipelines at once
      const rnd = (k: number): number => Math.floor(Math.random() * k)
      const spawnVictim = (): { w: number; child: ChildProcess; ready: Promise<boolean> } => {
        const w = 1000 + ++lives
        const child = fork(VICTIM, [JSON.stringify({ name, w, seed: deriveSeed(SEED, w), hot, maxMs: 30_000 })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        const ready = new Promise<boolean>((resolve) => {
          child.once('message', () => resolve(true))
          child.once('exit', () => resolve(false))
        })
        return { w, child, ready }
      }
      const victims = async (): Promise<void> => {
        let next = spawnVictim()
        for (;;) {
          const { w, child, ready } = next
          const ok = await ready
          const more = lives < KILLS && Date.now() - started < TIME_MS // every victim started is killed: KILLS in all
          if (more) next = spawnVictim()
          if (ok) {
            await sleep(rnd(40))
            child.kill('SIGKILL')
          }
          const { signal, code } = await exited(child, 30_000)
          if (signal === 'SIGKILL') kills++
          else victimStatus.push(`victim ${w} exited with ${code ?? signal}`)
          if (!more) return
        }
      }
      await Promise.all(Array.from({ length: 6 }, victims))
      Atomics.store(gate, STOP, 1)
      const reports = (await survivors).flat()
      const slots = await reaped(cache, 10_000)
      const ws = reports.filter((r): r is WriterReport => r.role === 'writer')
      expect(victimStatus).toEqual([])
      expect(kills, `${kills} kills in ${Date.now() - started} ms`).toBeGreaterThanOrEqual(KILLS)
      expect(reports.flatMap((r) => r.bad), why('violations seen by the survivors')).toEqual([])
      expect(ws).toHaveLength(2)
      for (const r of ws) expect(r.acked.append, why(`survivor ${r.w} wrote nothing`)).toBeGreaterThan(0)
      const { problems, found, expectedItems } = stressStateProblems(cache, ws, {
        hot, counter, foreignScope: (s) => s.startsWith('victim:'), foreignWriter: (w) => w > 1000, foreignCounters: ['victim'],
      })
      expect(problems.slice(0, 20), why('final state')).toEqual([])
      expect(found).toBeGreaterThanOrEqual(expectedItems)
      expect(slots, 'every killed process reaped (its thread slot free again)').toEqual({ total: 256, free: 255 })
      expect(cache.recoveryStats().deadThreadsReaped).toBeGreaterThanOrEqual(kills)
      checkInvariants(cache) // includes: no lock held, no seqlock odd
      const failed = ws.reduce((a, r) => a + (r.failed.lock_timeout ?? 0), 0)
      console.log(`shm kill test seed=${SEED}: ${kills} kills of ${lives} victims in ${Date.now() - started} ms; survivors acked ${ws.reduce((a, r) => a + r.acked.append, 0)} appends, ${failed} writes failed with lock_timeout; ${cache.recoveryStats().deadThreadsReaped} reaps, ${cache.recoveryStats().scopesLost} scopes lost; ${found} items`)
    } finally {
      Atomics.store(gate, STOP, 1)
      cache.close()
      ScopeCache.unlink(name)
      shm.unlink(gateFile)
    }
  }, 210_000)

  it('several processes opening one new name at once: one creates it, every one attaches to the same store', async () => {
    const name = fresh()
    const src = `
      const { ScopeCache } = await import(${JSON.stringify(new URL('../packages/core/dist/index.js', import.meta.url).href)})
      const c = ScopeCache.open({ name: ${JSON.stringify(name)}, maxStoreBytes: 1 << 20 })
      c.append('who', { pid: process.pid }, { id: String(process.pid) })
      c.counterAdd('n', 'opened', 1)
      c.close()
      console.log(process.pid)`
    try {
      const pids = await Promise.all(Array.from({ length: 4 }, () => runNode(src)))
      const cache = ScopeCache.open({ name })
      expect(cache.get('n', { id: 'opened' })?.payload).toBe(4)
      expect(cache.tail('who').items.map((i) => i.id).sort()).toEqual(pids.map((p) => p.trim()).sort())
      expect(cache.maxStoreBytes).toBe(1 << 20)
      cache.close()
    } finally {
      ScopeCache.unlink(name)
    }
  }, 60_000)

  it('the store survives all its processes exiting (one without close) and is found again; unlink removes it', async () => {
    const name = fresh()
    const core = JSON.stringify(new URL('../packages/core/dist/index.js', import.meta.url).href)
    try {
      await runNode(`const { ScopeCache } = await import(${core})
        const c = ScopeCache.open({ name: ${JSON.stringify(name)}, maxStoreBytes: 1 << 20 })
        for (let i = 0; i < 10; i++) c.append('kept', { i })
        c.close()`)
      // a second process writes and exits without close(): its slot is left ALIVE for the next one to reap
      await runNode(`const { ScopeCache } = await import(${core})
        const c = ScopeCache.open({ name: ${JSON.stringify(name)} })
        c.upsert('kept', 'last', { by: 'second' })
        process.exit(0)`)
      const cache = ScopeCache.open({ name })
      expect(cache.tail('kept', { limit: 100 }).items.map((i) => i.payload)).toEqual([...Array.from({ length: 10 }, (_, i) => ({ i })), { by: 'second' }])
      expect(await reaped(cache, 5_000)).toEqual({ total: 256, free: 255 })
      checkInvariants(cache)
      cache.close()
      expect(ScopeCache.unlink(name)).toBe(true)
      expect(() => statSync(fileOf(name))).toThrow()
      expect(ScopeCache.unlink(name)).toBe(false)
      const again = ScopeCache.open({ name, maxStoreBytes: 1 << 20 })
      expect(again.stats().items).toBe(0)
      again.close()
    } finally {
      ScopeCache.unlink(name)
    }
  }, 60_000)
})

describe('liveness across processes', () => {
  it('a live process is never reaped, however idle; a slot whose pid now names a process with another start time (a reused pid) is', async () => {
    const name = fresh()
    const cache = ScopeCache.open({ name, maxStoreBytes: 1 << 20, lockLeaseMs: 50 }) // sweeps every 50 ms
    const core = JSON.stringify(new URL('../packages/core/dist/index.js', import.meta.url).href)
    const child = fork('--input-type=module', ['-e', `const { ScopeCache } = await import(${core})
      const c = ScopeCache.open({ name: ${JSON.stringify(name)} })
      c.append('s', 1)
      process.send('ready')
      process.on('message', () => process.exit(0))`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] })
    try {
      await new Promise((resolve, reject) => {
        child.once('message', resolve)
        child.once('exit', () => reject(new Error('child exited early')))
      })
      await sleep(500) // ~10 sweeps of this handle
      expect(cache.threadSlots()).toEqual({ total: 256, free: 254 })
      expect(cache.recoveryStats().deadThreadsReaped).toBe(0)
      // the child's slot, as if its pid now belonged to a process that started at another time
      const x = cache[INTERNALS]()
      const slot = Array.from({ length: 256 }, (_, s) => s).find((s) => Atomics.load(x.i32, x.threads.at(s) + T_PID) === child.pid)!
      Atomics.add(x.i32, x.threads.at(slot) + T_PSTART_LO, 1)
      expect(await reaped(cache, 5_000)).toEqual({ total: 256, free: 255 })
      expect(cache.recoveryStats().deadThreadsReaped).toBeGreaterThanOrEqual(1) // (the child, seeing its own slot so, may reap too)
      expect(cache.tail('s').items.map((i) => i.payload)).toEqual([1])
      checkInvariants(cache)
    } finally {
      child.send('exit')
      await exited(child, 10_000).catch(() => undefined)
      cache.close()
      ScopeCache.unlink(name)
    }
  }, 30_000)
})

describe('ScopeCache.open refuses what it cannot trust, creating and changing nothing', () => {
  const shmFiles = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith('scopecache-')).sort()

  it('names with / or .., or not a name', () => {
    const before = shmFiles()
    for (const name of ['../x', 'a/b', '..', 'a..b', '/abs', '', 'sp ace', 'x'.repeat(201)]) {
      expect(codeOf(() => ScopeCache.open({ name })), name).toMatch(/^invalid_input: .*(may not contain|a store name is|needs a 'name')/)
      expect(codeOf(() => ScopeCache.unlink(name)), name).toMatch(/^invalid_input/)
    }
    expect(codeOf(() => ScopeCache.open(null as never))).toMatch(/^invalid_input: .*needs options with a 'name'/)
    expect(codeOf(() => ScopeCache.open({ name: fresh(), maxStoreBytes: 5 }))).toMatch(/^invalid_input: .*maxStoreBytes/)
    expect(shmFiles()).toEqual(before)
  })

  /** Opening `name` throws a message matching `re`; the file is byte for byte what it was. */
  const refused = (name: string, re: RegExp): void => {
    const before = readFileSync(fileOf(name))
    const st = statSync(fileOf(name))
    expect(codeOf(() => ScopeCache.open({ name, maxStoreBytes: 1 << 20 }))).toMatch(re)
    expect(readFileSync(fileOf(name)).equals(before)).toBe(true)
    expect(statSync(fileOf(name)).mtimeMs).toBe(st.mtimeMs)
  }

  /** A real store's file, closed: what the cases below damage. */
  const madeStore = (): string => {
    const name = fresh()
    const c = ScopeCache.open({ name, maxStoreBytes: 64 << 10 })
    c.append('s', { a: 1 })
    c.close()
    return name
  }

  it('a file that is not a store', () => {
    const name = fresh()
    const junk = Buffer.alloc(64 << 10)
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) & 0xff
    writeFileSync(fileOf(name), junk, { mode: 0o600 })
    refused(name, /^invalid_input: .*is not a scopecache store: it does not start with a scopecache header/)
    writeFileSync(fileOf(name), Buffer.alloc(100, 1), { mode: 0o600 })
    refused(name, /^invalid_input: .*is not a scopecache store: 100 bytes is too small/)
    rmSync(fileOf(name))
  })

  it('a truncated store', () => {
    const name = madeStore()
    truncateSync(fileOf(name), statSync(fileOf(name)).size - 4096)
    refused(name, /^invalid_input: .*truncated or padded/)
    ScopeCache.unlink(name)
  })

  it('a store of another memory layout version', () => {
    const name = madeStore()
    const bytes = readFileSync(fileOf(name))
    bytes.writeInt32LE(bytes.readInt32LE(4) + 1, 4) // header word 1: LAYOUT_VERSION
    writeFileSync(fileOf(name), bytes)
    refused(name, /^invalid_input: .*has memory layout version \d+, and this @scopecache\/core reads version \d+/)
    ScopeCache.unlink(name)
  })

  it('an empty file whose creator never finished: a bounded wait, then an error naming the way out', () => {
    const name = fresh()
    writeFileSync(fileOf(name), '', { mode: 0o600 })
    refused(name, /^invalid_input: .*still not initialised after \d+ ms .*ScopeCache.unlink it/)
    ScopeCache.unlink(name)
  }, 20_000)

  it.runIf(process.getuid?.() === 0)('a store owned by another user (the tests run as root: the owner is checked, not just the permissions)', () => {
    const name = madeStore()
    chownSync(fileOf(name), 12345, 12345)
    refused(name, /^invalid_input: .*belongs to uid 12345, not to this process's uid 0: refusing to attach/)
    ScopeCache.unlink(name)
  })

  it('without @scopecache/shm installed: a clear error naming the package (and create() still works: no hard dependency)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopecache-noshm-'))
    try {
      cpSync(fileURLToPath(new URL('../packages/core/dist', import.meta.url)), join(dir, 'dist'), { recursive: true })
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@scopecache/core', type: 'module' }))
      const out = await runNode(`const { ScopeCache } = await import('./dist/index.js')
        const c = ScopeCache.create({ maxStoreBytes: 1 << 20 }); c.append('s', 1); c.close()
        try { ScopeCache.open({ name: ${JSON.stringify(fresh())} }); console.log('opened') } catch (e) { console.log(e.name, e.code, e.message) }`, dir)
      expect(out).toMatch(/^ScopeCacheError invalid_input .*needs the optional package @scopecache\/shm/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
