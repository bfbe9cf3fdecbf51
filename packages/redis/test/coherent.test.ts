/**
 * One node per store, several in this process, one private redis-server: the write path, both
 * modes, the Redis-held fences, bad stream entries, and the never-stale rules (kill, restart
 * empty, pause, trim). The many-process run is in convergence.test.ts.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScopeCache } from '@scopecache/core'
import { createCoherentCache } from '../src/index.js'
import { convergeOn, nodes, until } from './helpers.js'
import { RedisServer } from './redis-server.js'

let redis: RedisServer
beforeAll(async () => { redis = await RedisServer.start() })
afterAll(async () => { await redis?.stop() })

const rawClient = () => createClient({ url: redis.url })
async function raw<T>(fn: (c: ReturnType<typeof rawClient>) => Promise<T>): Promise<T> {
  const c = rawClient()
  c.on('error', () => {})
  await c.connect()
  try { return await fn(c) } finally { c.destroy() } // prettier-ignore
}

describe('replicate mode', () => {
  it('a write on one node is stored on the others, in stream order; fences go up', async () => {
    const g = await nodes(redis.url, 3, { mode: 'replicate', group: 'rep1' })
    try {
      const [a, b, c] = g.nodes
      const w1 = await a.upsert('s', 'k', { v: 1 })
      const w2 = await b.upsert('s', 'k', { v: 2 })
      expect(w2.version).toBeGreaterThan(w1.version)
      expect(a.get('s', { id: 'k' })?.payload).toBeDefined()
      expect(await until(() => [a, b, c].every((n) => (n.get('s', { id: 'k' })?.payload as { v: number } | undefined)?.v === 2))).toBe(true)
      await c.append('log', 'x', { id: 'l1' })
      await c.append('log', 'y')
      expect(await until(() => a.tail('log').items.length === 2 && b.tail('log').items.length === 2)).toBe(true)
      expect(a.tail('log').items.map((i) => [i.id, i.payload])).toEqual([['l1', 'x'], [null, 'y']])
      await b.delete('log', { id: 'l1' })
      expect(await until(() => a.get('log', { id: 'l1' }) === undefined && c.get('log', { id: 'l1' }) === undefined)).toBe(true)
      const st = a.stats().coherence
      expect(st.state).toBe('in-sync')
      expect(st.applied).toBeGreaterThan(0)
      expect(st.propagationMs.count).toBeGreaterThan(0)
    } finally { await g.close() } // prettier-ignore
  })

  it('ifVersion is checked against the Redis-held fence: a write fenced on an older version is refused on every node', async () => {
    const g = await nodes(redis.url, 2, { mode: 'replicate', group: 'rep2' })
    try {
      const [a, b] = g.nodes
      const v0 = await a.version('doc')
      expect(await b.version('doc')).toBe(v0)
      const w = await a.upsert('doc', 'x', 'first', { ifVersion: v0 })
      expect(w.version).toBe(v0 + 1)
      await expect(b.upsert('doc', 'x', 'late', { ifVersion: v0 })).rejects.toMatchObject({ code: 'conflict', details: { version: v0 + 1 } })
      expect(await until(() => b.get('doc', { id: 'x' })?.payload === 'first')).toBe(true)
      expect(a.stats().coherence.conflicts + b.stats().coherence.conflicts).toBe(1)
      await expect(a.upsert('doc', 'x', 'z', { ifVersion: -1 })).rejects.toMatchObject({ code: 'invalid_input' })
    } finally { await g.close() } // prettier-ignore
  })

  it('refuses bad input before publishing: nothing reaches the stream', async () => {
    const g = await nodes(redis.url, 1, { mode: 'replicate', group: 'rep3' })
    try {
      const [a] = g.nodes
      await expect(a.upsert('', 'x', 1)).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(a.upsert('s', 'x', undefined as never)).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(a.append('s', 'x'.repeat(2 << 20))).rejects.toMatchObject({ code: 'too_large' })
      await expect(a.update('s', { id: 'x', seq: 1 } as never, 1)).rejects.toMatchObject({ code: 'invalid_input' })
      expect(a.stats().coherence.published).toBe(0)
      expect(await raw((c) => c.exists('{rep3:s:0}'))).toBe(0)
    } finally { await g.close() } // prettier-ignore
  })
})

describe('invalidate mode', () => {
  it('the writer holds the value; the others drop the item (or the scope) it names', async () => {
    const g = await nodes(redis.url, 2, { group: 'inv1' })
    try {
      const [a, b] = g.nodes
      b.cache.upsert('s', 'k', 'old') // filled locally, e.g. by a load
      b.cache.upsert('s', 'other', 'kept')
      await a.upsert('s', 'k', 'new')
      expect(a.get('s', { id: 'k' })?.payload).toBe('new')
      expect(await until(() => b.get('s', { id: 'k' }) === undefined)).toBe(true)
      expect(b.get('s', { id: 'other' })?.payload).toBe('kept')
      await a.append('s', 'appended') // an append changes the scope as a whole: dropped there
      expect(await until(() => b.get('s', { id: 'other' }) === undefined)).toBe(true)
    } finally { await g.close() } // prettier-ignore
  })

  it('a slow loader on A and an invalidate on B: the stale value is returned to its caller, stored nowhere', async () => {
    const g = await nodes(redis.url, 2, { group: 'inv2' })
    try {
      const [a, b] = g.nodes
      let source = 'v1'
      let release!: () => void
      const gate = new Promise<void>((r) => { release = r })
      let started!: () => void
      const loading = new Promise<void>((r) => { started = r })
      const pending = a.getOrLoad('user', { id: '7' }, async () => {
        const seen = source // the loader reads the source …
        started()
        await gate // … and is slow to return it
        return seen
      })
      await loading
      source = 'v2'
      await b.invalidate('user', { id: '7' }) // acknowledged by Redis before A's loader returns
      release()
      const item = await pending
      expect(item.payload).toBe('v1')
      expect(item.seq).toBe(0) // returned, not stored
      expect(a.get('user', { id: '7' })).toBeUndefined()
      expect(b.get('user', { id: '7' })).toBeUndefined()
      // a load that nothing overtakes is stored
      const fresh = await a.getOrLoad('user', { id: '7' }, () => source)
      expect(fresh.seq).toBeGreaterThan(0)
      expect(a.get('user', { id: '7' })?.payload).toBe('v2')
    } finally { await g.close() } // prettier-ignore
  })
})

describe('bad stream entries', () => {
  it('malformed, unknown op, oversized: logged, skipped, counted; the scope they name is dropped; no crash, no resync', async () => {
    const g = await nodes(redis.url, 2, { mode: 'replicate', group: 'bad' })
    try {
      const [a, b] = g.nodes
      await a.upsert('s', 'k', 1)
      await a.upsert('t', 'k', 1)
      expect(await until(() => b.get('s', { id: 'k' }) !== undefined && b.get('t', { id: 'k' }) !== undefined)).toBe(true)
      const resyncs = b.stats().coherence.resyncs
      await raw(async (c) => {
        await c.xAdd('{bad:s:0}', '*', { garbage: 'yes' }) // no chain link, no scope
        await c.sendCommand(['EVAL', "local l = redis.call('HGET', KEYS[2], 'last') local id = redis.call('XADD', KEYS[1], '*', 'p', l, 'f', '99', 's', 's', 'o', 'explode') redis.call('HSET', KEYS[2], 'last', id)", '2', '{bad:s:0}', '{bad:s:0}:m'])
        await c.sendCommand(['EVAL', "local l = redis.call('HGET', KEYS[2], 'last') local id = redis.call('XADD', KEYS[1], '*', 'p', l, 'f', '100', 's', 't', 'o', 'upsert', 'i', 'k', 'v', ARGV[1]) redis.call('HSET', KEYS[2], 'last', id)", '2', '{bad:s:0}', '{bad:s:0}:m', JSON.stringify('x'.repeat(2 << 20))])
        await c.xAdd('{bad:s:0}', '*', { p: 'nonsense', s: 'u' })
      })
      await a.upsert('after', 'k', 'fine') // a good entry after the bad ones still applies, in order
      expect(await until(() => b.get('after', { id: 'k' })?.payload === 'fine')).toBe(true)
      for (const n of [a, b]) {
        // A applies its own 'after' once the entry it links to (the third bad one, the last the
        // chain names) is behind it, so its consumer may meet the fourth (unlinked) entry later
        expect(await until(() => n.stats().coherence.badEntries >= 4)).toBe(true)
        expect(n.stats().coherence.badEntries).toBe(4)
        expect(n.get('s', { id: 'k' })).toBeUndefined() // named by a bad entry: dropped (never stale)
        expect(n.get('t', { id: 'k' })).toBeUndefined()
      }
      expect(b.stats().coherence.resyncs).toBe(resyncs)
      expect(g.logs[1].some((l) => l.includes("unknown op 'explode'"))).toBe(true)
      expect(g.logs[1].some((l) => l.includes('over maxItemBytes'))).toBe(true)
    } finally { await g.close() } // prettier-ignore
  })
})

describe('never stale', () => {
  it('trimmed past a node: it notices the gap, flushes and resyncs', async () => {
    const g = await nodes(redis.url, 2, { mode: 'replicate', group: 'trim', blockMs: 50 })
    try {
      const [a, b] = g.nodes
      await a.upsert('s', 'k', 'v1')
      expect(await until(() => b.get('s', { id: 'k' })?.payload === 'v1')).toBe(true)
      // b stops following (its link is dropped), a writes on, the stream is trimmed past b
      const held = b.sync
      const link = held.link
      held.link = null
      link?.destroy()
      await a.upsert('s', 'k', 'v2')
      await raw((c) => c.sendCommand(['XTRIM', '{trim:s:0}', 'MAXLEN', '0']))
      expect(await until(() => b.stats().coherence.state === 'in-sync' && b.stats().coherence.resyncs >= 2)).toBe(true)
      expect(b.get('s', { id: 'k' })).toBeUndefined() // flushed: never the overwritten v1
    } finally { await g.close() } // prettier-ignore
  })

  it('Redis killed and restarted empty: nodes flush, refuse writes while away, resync, and fences keep going up', async () => {
    const g = await nodes(redis.url, 2, { mode: 'replicate', group: 'kill', blockMs: 50, timeoutMs: 1000 })
    try {
      const [a, b] = g.nodes
      const before = await a.upsert('s', 'k', 'v1')
      expect(await until(() => b.get('s', { id: 'k' })?.payload === 'v1')).toBe(true)
      await redis.kill()
      expect(await until(() => a.stats().coherence.state !== 'in-sync' && b.stats().coherence.state !== 'in-sync')).toBe(true)
      expect(a.get('s', { id: 'k' })).toBeUndefined()
      expect(b.get('s', { id: 'k' })).toBeUndefined()
      await expect(a.upsert('s', 'k', 'v2')).rejects.toMatchObject({ code: 'unavailable' })
      const loaded = await b.getOrLoad('s', { id: 'k' }, () => 'from source')
      expect(loaded).toMatchObject({ payload: 'from source', seq: 0 }) // served, not stored
      await redis.run()
      expect(await until(() => a.stats().coherence.state === 'in-sync' && b.stats().coherence.state === 'in-sync', 10_000)).toBe(true)
      const after = await convergeOn(a, [b], 's', 'k', 'v3')
      expect(after?.version).toBeGreaterThan(before.version) // fences never go backwards, even across an empty restart
      expect(a.stats().coherence.disconnects).toBeGreaterThan(0)
    } finally { await g.close() } // prettier-ignore
  })

  it('Redis paused (SIGSTOP): a node past its deadline flushes; writes fail; all converge after SIGCONT', async () => {
    const g = await nodes(redis.url, 2, { mode: 'replicate', group: 'pause', blockMs: 50, timeoutMs: 1000 })
    try {
      const [a, b] = g.nodes
      await a.upsert('s', 'k', 'v1')
      expect(await until(() => b.get('s', { id: 'k' })?.payload === 'v1')).toBe(true)
      redis.pause()
      try {
        await expect(a.upsert('s', 'k', 'v2')).rejects.toMatchObject({ code: 'unavailable' })
        expect(await until(() => b.stats().coherence.state !== 'in-sync')).toBe(true)
        expect(b.get('s', { id: 'k' })).toBeUndefined()
      } finally { redis.resume() } // prettier-ignore
      expect(await until(() => a.stats().coherence.state === 'in-sync' && b.stats().coherence.state === 'in-sync', 10_000)).toBe(true)
      expect(await convergeOn(a, [b], 's', 'k', 'v3')).not.toBeNull()
    } finally { await g.close() } // prettier-ignore
  })

  it('maxStaleMs: a node keeps what it holds for that long after losing proof, then flushes', async () => {
    const g = await nodes(redis.url, 1, { mode: 'replicate', group: 'stale', blockMs: 50, timeoutMs: 1000, maxStaleMs: 400 })
    try {
      const [a] = g.nodes
      await a.upsert('s', 'k', 'v1')
      const lostAt = Date.now()
      await redis.kill()
      expect(await until(() => a.stats().coherence.state === 'disconnected')).toBe(true)
      if (Date.now() - lostAt < 350) expect(a.get('s', { id: 'k' })?.payload).toBe('v1') // still within the bound
      expect(await until(() => a.get('s', { id: 'k' }) === undefined, 3000)).toBe(true)
      await redis.run()
      expect(await until(() => a.stats().coherence.state === 'in-sync', 10_000)).toBe(true)
    } finally { await g.close() } // prettier-ignore
  })
})

describe('options', () => {
  it('bad options are invalid_input and start nothing; an unreachable Redis rejects with unavailable', async () => {
    const cache = ScopeCache.create({ maxStoreBytes: 1 << 20 })
    try {
      await expect(createCoherentCache({ cache, redis: redis.url, group: 'a{b}' })).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(createCoherentCache({ cache, redis: 'http://x', group: 'g' })).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(createCoherentCache({ cache, redis: redis.url, group: 'g', mode: 'both' as never })).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(createCoherentCache({ cache, redis: redis.url, group: 'g', shards: 0 })).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(createCoherentCache({ cache, redis: redis.url, group: 'g', nope: 1 } as never)).rejects.toMatchObject({ code: 'invalid_input' })
      await expect(createCoherentCache({ cache, redis: 'redis://127.0.0.1:1', group: 'g', timeoutMs: 300 })).rejects.toMatchObject({ code: 'unavailable' })
    } finally { cache.close() } // prettier-ignore
  })
})
