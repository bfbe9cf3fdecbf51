/**
 * Sharding on a real Redis Cluster: three masters (redis-server --cluster-enabled yes) on
 * loopback ports, joined with `redis-cli --cluster create`. Scopes hash to 6 streams whose hash
 * tags spread them over the masters; each stream's fences sit in its slot (one script per write).
 */
import { spawnSync } from 'node:child_process'
import { createClient } from 'redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { nodes, until } from './helpers.js'
import { RedisServer } from './redis-server.js'

let masters: RedisServer[] = []
beforeAll(async () => {
  for (let i = 0; i < 3; i++) masters.push(await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']))
  const r = spawnSync('redis-cli', ['--cluster', 'create', ...masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stderr || r.stdout}`)
  const ok = await until(async () => {
    for (const m of masters) {
      const c = createClient({ url: m.url })
      c.on('error', () => {})
      await c.connect()
      const info = String(await c.sendCommand(['CLUSTER', 'INFO']))
      c.destroy()
      if (!info.includes('cluster_state:ok')) return false
    }
    return true
  }, 20_000)
  if (!ok) throw new Error('the cluster did not reach cluster_state:ok')
}, 60_000)
afterAll(async () => {
  for (const m of masters) await m.stop()
  masters = []
})

it('three masters: shards spread over them, writes replicate, fences checked per slot', async () => {
  const g = await nodes(masters[0].url, 2, { redis: { cluster: masters.map((m) => m.url) }, group: 'cg', shards: 6, mode: 'replicate' })
  try {
    const [a, b] = g.nodes
    for (let i = 0; i < 40; i++) await a.upsert(`scope${i}`, 'k', i)
    expect(await until(() => b.cache.stats().items === 40)).toBe(true)
    for (let i = 0; i < 40; i++) expect(b.get(`scope${i}`, { id: 'k' })?.payload).toBe(i)
    const v = await b.version('scope3')
    await expect(b.upsert('scope3', 'k', 'late', { ifVersion: v - 1 })).rejects.toMatchObject({ code: 'conflict' })
    await b.upsert('scope3', 'k', 'ok', { ifVersion: v })
    expect(await until(() => a.get('scope3', { id: 'k' })?.payload === 'ok')).toBe(true)
    // every master holds some of the group's streams
    for (const m of masters) {
      const c = createClient({ url: m.url })
      c.on('error', () => {})
      await c.connect()
      const keys = (await c.sendCommand(['KEYS', '{cg:s:*'])) as string[]
      c.destroy()
      expect(keys.length, `master ${m.port} holds none of the shards`).toBeGreaterThan(0)
    }
    expect(a.stats().coherence).toMatchObject({ state: 'in-sync', shards: 6, badEntries: 0 })
  } finally { await g.close() } // prettier-ignore
})
