/**
 * Three node processes (child_process.fork, fixtures/node.mjs), each a store and a coherent cache
 * per group, one private redis-server. Random writes and reads on every node, bounded in time and
 * count; each group runs in replicate and in invalidate mode at once. Then:
 *
 *   - fences: every acknowledged write of a scope got its own fence, and each node saw its own
 *     fences rise — across a Redis restart that lost everything, too;
 *   - reads never go back: per node and key, the fence of each value read is never below one read
 *     before it (a node that applied entries out of order, or kept a value over a restart, fails);
 *   - convergence: after a last acknowledged write of every key, each node holds that value or
 *     nothing (invalidate; replicate after chaos), and without chaos replicate stores are equal;
 *   - chaos: Redis SIGKILLed and restarted empty, SIGSTOPped for 2 s, and the streams trimmed
 *     while one node is stopped (SIGSTOP): every node resyncs, and all converge after.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisServer } from './redis-server.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/node.mjs', import.meta.url))
/** Without chaos a busy CI machine must not look like a lost Redis: generous deadlines. */
const CALM = { blockMs: 200, timeoutMs: 5000 }
/** Under chaos a paused Redis must be noticed within the pause: short ones. */
const TWITCHY = { blockMs: 100, timeoutMs: 1000 }
const SCOPES = 4
const IDS = 8

type Ack = [scope: string, id: string, wid: string, version: number, at: number, entry: string]
type Read = [scope: string, id: string, wid: string | null, position: string]
interface Ran { acks: Ack[]; reads: Read[]; refused: number; ops: number }
interface Dump { items: Record<string, [string, string, number][]>; stats: { state: string; resyncs: number; disconnects: number; badEntries: number; applied: number; propagationMs: { p99: number } } }

class Node {
  private readonly waiting = new Map<string, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }>()
  readonly proc: ChildProcess
  constructor(readonly id: string) {
    this.proc = fork(FIXTURE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.proc.on('message', (m: Record<string, unknown>) => {
      if (m.t === 'error') {
        // fail whatever waits on this node now, rather than at the test's timeout
        for (const w of this.waiting.values()) w.reject(new Error(`node ${id}: ${String(m.error)}`))
        this.waiting.clear()
        return
      }
      const w = this.waiting.get(String(m.t))
      this.waiting.delete(String(m.t))
      w?.resolve(m)
    })
  }
  reply<T>(t: string, ms = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.id}: no '${t}' within ${ms} ms`)), ms)
      this.waiting.set(t, { resolve: (m) => { clearTimeout(timer); resolve(m as T) }, reject: (e) => { clearTimeout(timer); reject(e) } })
    })
  }
  async ask<T>(msg: Record<string, unknown>, t: string): Promise<T> {
    const r = this.reply<T>(t)
    this.proc.send({ ...msg, nodeId: this.id })
    return r
  }
}

let redis: RedisServer
let nodes: Node[] = []
beforeAll(async () => {
  redis = await RedisServer.start()
  nodes = ['a', 'b', 'c'].map((id) => new Node(id))
  await Promise.all(nodes.map((n) => n.reply('ready')))
})
afterAll(async () => {
  for (const n of nodes) {
    n.proc.kill('SIGCONT')
    if (n.proc.connected) await n.ask({ t: 'close' }, 'closed').catch(() => {})
    if (n.proc.exitCode === null) n.proc.kill('SIGKILL')
  }
  await redis?.stop()
})

const allKeys = (): [string, string][] => Array.from({ length: SCOPES * IDS }, (_, k) => [`s${k % SCOPES}`, `k${Math.floor(k / SCOPES)}`])

async function runAll(groups: string[], ms: number, maxOps: number, during?: () => Promise<void>): Promise<Record<string, Ran>[]> {
  const ran = nodes.map((n, i) => n.ask<{ results: Record<string, Ran> }>({ t: 'run', ms, maxOps, scopes: SCOPES, ids: IDS, seed: 1000 + i * 7919 + groups.length }, 'ran'))
  await during?.()
  return (await Promise.all(ran)).map((r) => r.results)
}

/** The last word on every key: one acknowledged upsert each, spread over the nodes. */
async function finalRound(groups: string[]): Promise<Map<string, Map<string, string>>> {
  const keys = allKeys()
  const res = await Promise.all(nodes.map((n, i) => n.ask<{ acks: Record<string, Ack[]> }>({ t: 'final', keys: keys.filter((_, k) => k % 3 === i) }, 'finaled')))
  const last = new Map<string, Map<string, string>>()
  for (const g of groups) last.set(g, new Map(res.flatMap((r) => r.acks[g].map(([s, id, wid]) => [`${s}/${id}`, wid] as [string, string]))))
  return last
}

const dumpAll = async (): Promise<Record<string, Dump>[]> => (await Promise.all(nodes.map((n) => n.ask<{ groups: Record<string, Dump> }>({ t: 'dump' }, 'dumped')))).map((d) => d.groups)

/** Every node in sync and holding, for every key, the last word or nothing (polled, bounded). */
async function converged(groups: string[], last: Map<string, Map<string, string>>, equal: boolean, complete = equal): Promise<{ ok: boolean; why: string; dumps: Record<string, Dump>[] }> {
  let why = ''
  let dumps: Record<string, Dump>[] = []
  for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    dumps = await dumpAll()
    why = ''
    for (const g of groups) {
      const want = last.get(g) as Map<string, string>
      for (const [i, d] of dumps.entries()) {
        if (d[g].stats.state !== 'in-sync') why += `${nodes[i].id}/${g} is ${d[g].stats.state}; `
        for (const [scope, items] of Object.entries(d[g].items)) {
          for (const [id, wid] of items) if (want.get(`${scope}/${id}`) !== wid) why += `${nodes[i].id}/${g} holds ${scope}/${id}=${wid}, not ${want.get(`${scope}/${id}`)}; `
        }
      }
      if (equal) {
        const first = JSON.stringify(dumps[0][g].items)
        for (const d of dumps.slice(1)) if (JSON.stringify(d[g].items) !== first) why += `${g}: stores differ; `
      }
      if (complete) {
        if (Object.values(dumps[0][g].items).flat().length !== want.size) why += `${g}: not every key replicated; `
      }
    }
    if (why === '') return { ok: true, why, dumps }
  }
  return { ok: false, why: why.slice(0, 2000), dumps }
}

/** Stream ids `ms-seq` as one comparable BigInt. */
const idNum = (id: string): bigint => {
  const [ms = '0', seq = '0'] = id.split('-')
  return (BigInt(ms) << 24n) + BigInt(seq)
}

/**
 * Fences: distinct per scope across nodes, rising per node. Reads: never a fence below one read
 * before on that node, and never a value that an acknowledged write replaced once the node had
 * applied its stream past that write (its position when it read, against the write's entry id):
 * the history check that holds without any timing assumption. A Redis restarted empty starts its
 * ids above the old ones (they are its clock), so the check spans the restart too.
 */
function checkHistory(ran: Record<string, Ran>[], group: string, finalAcks: Ack[] = []): { reads: number; acks: number } {
  const versionOf = new Map<string, number>()
  const seen = new Map<string, string>()
  let reads = 0
  for (const [i, r] of ran.entries()) {
    const mine = new Map<string, number>()
    for (const [scope, , wid, v] of r[group].acks) {
      expect(v, `${nodes[i].id}/${group}: fences of '${scope}' rise`).toBeGreaterThan(mine.get(scope) ?? 0)
      mine.set(scope, v)
      const dup = seen.get(`${scope}#${v}`)
      expect(dup, `${group}: fence ${v} of '${scope}' given twice (${dup}, ${wid})`).toBeUndefined()
      seen.set(`${scope}#${v}`, wid)
      versionOf.set(wid, v)
    }
  }
  for (const a of finalAcks) versionOf.set(a[2], a[3])
  // per key, the acknowledged writes in fence order, with their entry ids
  const writes = new Map<string, { v: number; entry: bigint; wid: string }[]>()
  for (const r of ran) for (const [scope, id, wid, v, , entry] of r[group].acks) {
    const k = `${scope}/${id}`
    if (!writes.has(k)) writes.set(k, [])
    writes.get(k)!.push({ v, entry: idNum(entry), wid })
  }
  for (const [i, r] of ran.entries()) {
    const high = new Map<string, number>()
    for (const [scope, id, wid, position] of r[group].reads) {
      if (wid === null) continue
      const v = versionOf.get(wid)
      if (v === undefined) {
        expect(wid.startsWith(`${nodes[i].id}:`) || /^[abc]:\d+$/.test(wid), `read of a value never written: ${wid}`).toBe(true)
        continue // a write whose acknowledgement was lost (Redis paused or killed): no known fence
      }
      reads++
      const key = `${scope}/${id}`
      expect(v, `${nodes[i].id}/${group}: read ${key}=${wid} (fence ${v}) after a value with fence ${high.get(key)}`).toBeGreaterThanOrEqual(high.get(key) ?? 0)
      high.set(key, v)
      const pos = idNum(position)
      const replaced = writes.get(key)?.find((w) => w.v > v && w.entry <= pos)
      expect(replaced, `${nodes[i].id}/${group}: read ${key}=${wid} (fence ${v}) at position ${position}, past ${replaced?.wid} (fence ${replaced?.v}) which replaced it`).toBeUndefined()
    }
  }
  return { reads, acks: versionOf.size }
}

describe('three node processes, one Redis', () => {
  it('random writes on all nodes: fences never go back, reads never go back, every node converges', async () => {
    const groups = ['rep', 'inv']
    await Promise.all(nodes.map((n) => n.ask({ t: 'open', url: redis.url, groups: [{ group: 'rep', mode: 'replicate' }, { group: 'inv', mode: 'invalidate' }], opts: CALM }, 'opened')))
    const ran = await runAll(groups, 6000, 3000)
    for (const g of groups) {
      const { reads, acks } = checkHistory(ran, g)
      expect(acks).toBeGreaterThan(300)
      expect(reads).toBeGreaterThan(100)
    }
    // replicate: equal stores (seqs included), holding only latest acknowledged values (a key deleted last is absent)
    const before = await converged(['rep'], new Map([['rep', latest(ran, 'rep')]]), true, false)
    expect(before.ok, before.why).toBe(true)
    const last = await finalRound(groups)
    const rep = await converged(['rep'], last, true) // and every key, after a last word on each
    expect(rep.ok, rep.why).toBe(true)
    const after = await converged(groups, last, false)
    expect(after.ok, after.why).toBe(true)
    for (const d of after.dumps) {
      for (const g of groups) {
        expect(d[g].stats.resyncs).toBe(1) // the start only: nothing was lost
        expect(d[g].stats.badEntries).toBe(0)
        expect(d[g].stats.applied).toBeGreaterThan(0)
      }
    }
    const p99 = Math.max(...after.dumps.map((d) => d.rep.stats.propagationMs.p99))
    console.log(`propagation p99 (replicate, per node, max): ${p99.toFixed(1)} ms`)
  })

  it('Redis SIGKILLed and restarted empty, SIGSTOPped 2 s, streams trimmed past a stopped node: never back, all converge', async () => {
    const groups = ['crep', 'cinv']
    await Promise.all(nodes.map((n) => n.ask({ t: 'open', url: redis.url, groups: [{ group: 'crep', mode: 'replicate' }, { group: 'cinv', mode: 'invalidate' }], opts: TWITCHY }, 'opened')))
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    let killedAt = 0
    let backAt = 0
    const ran = await runAll(groups, 11_000, 6000, async () => {
      await sleep(1500)
      killedAt = Date.now()
      await redis.kill()
      await sleep(500)
      await redis.run()
      backAt = Date.now()
      await sleep(2000)
      redis.pause()
      await sleep(2000)
      redis.resume()
      await sleep(1500)
      const c = nodes[2].proc
      c.kill('SIGSTOP')
      try {
        await sleep(700) // a and b write on
        const cl = createClient({ url: redis.url })
        cl.on('error', () => {})
        await cl.connect()
        for (const g of groups) await cl.sendCommand(['XTRIM', `{${g}:s:0}`, 'MAXLEN', '0'])
        cl.destroy()
        await sleep(300)
      } finally { c.kill('SIGCONT') } // prettier-ignore
    })
    for (const g of groups) {
      checkHistory(ran, g)
      // fences never go back across the empty restart
      const acks = ran.flatMap((r) => r[g].acks)
      const byScope = new Map<string, { before: number; after: number }>()
      for (const [scope, , , v, at] of acks) {
        const b = byScope.get(scope) ?? { before: 0, after: Infinity }
        if (at < killedAt) b.before = Math.max(b.before, v)
        if (at > backAt) b.after = Math.min(b.after, v)
        byScope.set(scope, b)
      }
      for (const [scope, b] of byScope) expect(b.after, `${g}: '${scope}' fences after the restart above those before`).toBeGreaterThan(b.before)
    }
    const last = await finalRound(groups)
    const after = await converged(groups, last, false)
    expect(after.ok, after.why).toBe(true)
    // every node noticed: it lost the link and resynchronised at least once after the start (on a busy
    // machine a node still reconnecting after the kill may meet the pause in the same outage)
    for (const d of after.dumps) {
      for (const g of groups) {
        expect(d[g].stats.resyncs).toBeGreaterThanOrEqual(2)
        expect(d[g].stats.disconnects).toBeGreaterThanOrEqual(1)
      }
    }
  })
})

/** Per key, the wid of the highest acknowledged fence. */
function latest(ran: Record<string, Ran>[], group: string): Map<string, string> {
  const best = new Map<string, [number, string]>()
  for (const r of ran) for (const [s, id, wid, v] of r[group].acks) if ((best.get(`${s}/${id}`)?.[0] ?? 0) < v) best.set(`${s}/${id}`, [v, wid])
  return new Map([...best].map(([k, [, wid]]) => [k, wid]))
}
