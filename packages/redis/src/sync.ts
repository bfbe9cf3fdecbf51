/**
 * The supervisor of one node's link to Redis, and its consumer. States:
 *
 *   connecting ──► in-sync ◄──────────── resyncing
 *                    │ link lost (error, a command or read past its deadline)   ▲
 *                    ▼                                                          │
 *               disconnected ── reconnect with backoff; run id, chain check ────┘
 *
 * Never stale: while a node cannot prove it holds everything the streams say, it flushes its
 * store (at once, or `maxStaleMs` after losing proof) and stores nothing — writes are refused
 * (`unavailable`), loads are returned but not stored — until a resync has started it again from
 * the streams' ends. Proof is lost when the link drops, when the Redis run id changes (a restart,
 * a failover), and when an entry's `p` (the previous entry's id, scripts.ts) is not the entry
 * this node applied last: something between was trimmed away or lost.
 *
 * Per shard the consumer keeps `chain` (the last group entry applied: a write applied by its own
 * writer right after publishing moves it too, and the consumer then skips that entry) and
 * `cursor` (the last entry read, malformed ones included).
 */
import { ScopeCacheError } from '@scopecache/core'
import { applyRemote, decodeEntry, isBad, type Entry } from './entry.js'
import { compareIds, type ShardKeys } from './keys.js'
import { deadline, openLink, type Link } from './link.js'
import type { ResolvedOptions } from './options.js'
import { evalScript, SCRIPTS } from './scripts.js'
import { Delays, type CoherenceStats, type LinkState } from './stats.js'

export interface ShardPos {
  chain: string
  cursor: string
}

/** A write of this node waiting for its entry to be applied here (directly, or by the consumer in stream order). */
export interface Pending {
  apply(): void
  done: boolean
  settle(): void
  settled: Promise<void>
}

const XREAD_COUNT = '512'

export class Sync {
  state: LinkState = 'connecting'
  link: Link | null = null
  readonly pos: ShardPos[]
  readonly pending = new Map<string, Pending>()
  readonly counts = { published: 0, conflicts: 0, applied: 0, ownSkipped: 0, badEntries: 0, applyErrors: 0, resyncs: 0, disconnects: 0 }
  private readonly delays = new Delays()
  private runId = ''
  private closing = false
  private flushTimer: NodeJS.Timeout | undefined
  /** Flushed since proof was lost: a reconnect must resync (a flushed store cannot just carry on). */
  private flushed = true
  private wake: (() => void) | null = null
  private loop: Promise<void> | null = null
  private generation = 0
  private resyncing: Promise<void> | null = null

  constructor(
    private readonly o: ResolvedOptions,
    readonly keys: ShardKeys[],
  ) {
    this.pos = keys.map(() => ({ chain: '0-0', cursor: '0-0' }))
  }

  /** Connects and resyncs once (rejecting if that fails), then supervises in the background. */
  async start(): Promise<void> {
    try {
      await this.connect()
    } catch (e) {
      this.fail(String((e as Error)?.message ?? e))
      this.state = 'closed'
      throw unavailable(`cannot connect to ${this.o.urls.join(', ')}: ${(e as Error)?.message ?? e}`)
    }
    this.loop = this.supervise()
  }

  async close(): Promise<void> {
    this.closing = true
    this.state = 'closed'
    clearTimeout(this.flushTimer)
    this.link?.destroy()
    this.link = null
    this.wake?.()
    for (const p of this.pending.values()) p.settle()
    await this.loop
  }

  stats(): CoherenceStats {
    const o = this.o
    return { state: this.state, mode: o.mode, group: o.group, nodeId: o.nodeId, shards: o.shards, runId: this.runId, ...this.counts, propagationMs: this.delays.summary() }
  }

  /** The command connection, or `unavailable`. */
  send(key: string, args: string[]): Promise<unknown> {
    const l = this.link
    if (l === null) return Promise.reject(unavailable('not connected to Redis'))
    return l.send(key, args)
  }

  /** A command or read past its deadline, or a failed one: the link cannot be trusted any more. */
  fail(why: string): void {
    const l = this.link
    if (l === null) return
    this.link = null
    l.destroy()
    this.lost(why)
  }

  // ---- the supervisor -------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const gen = ++this.generation
    const link = await openLink(this.o.urls, this.o.cluster, this.o.shards, this.o.timeoutMs, (why) => { if (gen === this.generation) this.fail(why) })
    if (this.closing) { link.destroy(); return }
    this.link = link
    const runId = await link.runId()
    const restarted = this.runId !== '' && runId !== this.runId
    if (restarted) this.o.log(`Redis run id changed (${this.runId} → ${runId}): restarted or failed over; resynchronising`)
    this.runId = runId
    if (this.flushed || restarted || !(await this.chainsIntact())) await this.resync()
    else this.inSync()
  }

  private async supervise(): Promise<void> {
    let attempt = 0
    while (!this.closing) {
      try {
        if (this.link === null) await this.connect()
        attempt = 0
        await this.consume()
      } catch (e) {
        if (!this.closing) this.fail(`${(e as Error)?.message ?? e}`)
      }
      if (this.closing) break
      if (this.link === null) {
        // back off: 50 ms doubling to 2 s, jittered so restarted nodes do not reconnect in step
        const ms = Math.min(2000, 50 * 2 ** attempt++) * (0.5 + Math.random() / 2)
        await new Promise<void>((r) => { const t = setTimeout(r, ms); this.wake = () => { clearTimeout(t); r() } })
        this.wake = null
      }
    }
  }

  private lost(why: string): void {
    if (this.state === 'closed') return
    if (this.state === 'in-sync' || this.state === 'resyncing') {
      this.counts.disconnects++
      this.o.log(`lost the link to Redis (${why}); ${this.o.maxStaleMs === 0 ? 'flushing' : `flushing in ${this.o.maxStaleMs} ms`} until resynchronised`)
    }
    if (this.state !== 'disconnected') {
      this.state = 'disconnected'
      if (this.o.maxStaleMs === 0) this.flushNow()
      else this.flushTimer = setTimeout(() => { if (this.state !== 'in-sync') this.flushNow() }, this.o.maxStaleMs)
    }
  }

  private flushNow(): void {
    this.o.cache.flush()
    this.flushed = true
    for (const p of this.pending.values()) p.settle() // their entries may never be read here now
  }

  private inSync(): void {
    clearTimeout(this.flushTimer)
    this.flushed = false
    this.state = 'in-sync'
  }

  /** Every shard: nothing after what this node applied has gone missing. */
  private async chainsIntact(): Promise<boolean> {
    for (let n = 0; n < this.keys.length; n++) {
      const k = this.keys[n]
      if ((await evalScript((key, a) => this.send(key, a), SCRIPTS.check, [k.stream, k.meta], [this.pos[n].chain, this.pos[n].cursor])) !== 'ok') return false
    }
    return true
  }

  /** Flush, then start every shard from its stream's end (one resync at a time: readers share it). */
  resync(): Promise<void> {
    this.resyncing ??= this.doResync().finally(() => { this.resyncing = null })
    return this.resyncing
  }

  private async doResync(): Promise<void> {
    this.state = 'resyncing'
    this.counts.resyncs++
    clearTimeout(this.flushTimer)
    this.flushNow()
    const starts: ShardPos[] = []
    for (const k of this.keys) {
      const [chain, cursor] = (await evalScript((key, a) => this.send(key, a), SCRIPTS.resync, [k.stream, k.meta], [])) as [string, string]
      starts.push({ chain: String(chain), cursor: String(cursor) })
    }
    if (this.state !== 'resyncing') return // lost again meanwhile
    this.flushNow() // nothing is stored while resyncing; flushed again all the same, with the new positions
    starts.forEach((s, n) => Object.assign(this.pos[n], s))
    this.inSync()
  }

  // ---- the consumer ---------------------------------------------------------------------------

  /** Runs every reader until the link fails (throws) or the node closes. */
  private async consume(): Promise<void> {
    const link = this.link
    if (link === null) return
    await Promise.all(link.readers.map((shards, r) => this.reader(link, r, shards)))
  }

  private async reader(link: Link, r: number, shards: number[]): Promise<void> {
    const { blockMs, timeoutMs } = this.o
    while (this.link === link && !this.closing) {
      const args = ['XREAD', 'COUNT', XREAD_COUNT, 'BLOCK', String(blockMs), 'STREAMS', ...shards.map((n) => this.keys[n].stream), ...shards.map((n) => this.pos[n].cursor)]
      const reply = await deadline(link.read(r, args), blockMs + timeoutMs, 'XREAD')
      if (this.link !== link || this.state !== 'in-sync') {
        if (this.resyncing !== null) await this.resyncing
        continue
      }
      if (reply === null || reply === undefined || (Array.isArray(reply) && reply.length === 0)) {
        // idle: prove nothing was trimmed away unseen (the chain check runs on entries otherwise)
        if (!(await this.shardsIntact(shards))) await this.resync()
        continue
      }
      if (!this.applyReply(reply, shards)) await this.resync()
    }
  }

  private async shardsIntact(shards: number[]): Promise<boolean> {
    for (const n of shards) {
      const k = this.keys[n]
      const chain = this.pos[n].chain
      const ok = await evalScript((key, a) => this.send(key, a), SCRIPTS.check, [k.stream, k.meta], [chain, this.pos[n].cursor])
      if (ok !== 'ok' && this.pos[n].chain === chain && this.state === 'in-sync') {
        this.o.log(`shard ${n}: entries after ${chain} are gone from the stream (trimmed, or Redis lost them); resynchronising`)
        return false
      }
    }
    return true
  }

  /** Applies one XREAD reply in order; false on a gap (the caller resyncs). */
  private applyReply(reply: unknown, shards: number[]): boolean {
    const byKey = new Map(shards.map((n) => [this.keys[n].stream, n]))
    // [[key, entries], …] in RESP2; node-redis may hand it over as { key: entries }
    const streams = (Array.isArray(reply) ? reply : Object.entries(reply as object)) as [string, [string, unknown][]][]
    for (const [key, entries] of streams) {
      const n = byKey.get(String(key))
      if (n === undefined) continue
      const pos = this.pos[n]
      for (const [rawId, fields] of entries) {
        const id = String(rawId)
        if (compareIds(id, pos.cursor) <= 0) continue // already read (a resync moved the cursor past this reply)
        pos.cursor = id
        const e = decodeEntry(id, fields, this.o.cache.maxItemBytes)
        if (isBad(e)) {
          this.counts.badEntries++
          this.o.log(`shard ${n}: skipped bad entry ${id}: ${e.bad}${e.scope === null ? '' : ` (scope '${e.scope}' dropped here)`}`)
          if (e.scope !== null) this.dropScope(e.scope)
          if (!e.unchained) pos.chain = id // written by the script: a link of the chain all the same
          continue
        }
        if (compareIds(id, pos.chain) <= 0) { this.counts.ownSkipped++; continue } // applied by its writer already
        if (e.prev !== pos.chain) {
          this.o.log(`shard ${n}: entry ${id} follows ${e.prev}, but the last applied here is ${pos.chain}: entries went missing; resynchronising`)
          return false
        }
        this.applyEntry(e)
        pos.chain = id
      }
    }
    return true
  }

  private applyEntry(e: Entry): void {
    const mine = e.node === this.o.nodeId ? this.pending.get(e.token) : undefined
    if (mine !== undefined) {
      this.counts.ownSkipped++
      this.applyOwn(mine)
      return
    }
    try {
      applyRemote(this.o.cache, e)
      this.counts.applied++
      this.delays.add(performance.timeOrigin + performance.now() - e.wallMs)
    } catch (err) {
      this.counts.applyErrors++
      this.o.log(`entry ${e.id} (${e.op} in '${e.scope}') not applied here (${(err as Error).message}); scope dropped`)
      this.dropScope(e.scope)
    }
  }

  /** A write of this node, applied now that every entry before it has been. */
  applyOwn(p: Pending): void {
    if (!p.done) {
      p.done = true
      p.apply()
    }
    p.settle()
  }

  dropScope(scope: string): void {
    try {
      this.o.cache.invalidate(scope)
    } catch {
      this.o.cache.flush() // cannot drop it (a lock held too long): drop everything instead, never stale
    }
  }
}

export const unavailable = (why: string): ScopeCacheError => new ScopeCacheError('unavailable', `scopecache: the coherent cache cannot publish: ${why}`)
