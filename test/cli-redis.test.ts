/**
 * `scopecache serve --redis URL --group NAME`: two servers (the built command, two listener
 * threads where reusePort works) are nodes of one group over a private redis-server. A write
 * through one is visible through the other (replicate), a fenced write on an old version is a 409
 * on both, what the group cannot order is a 400, and /metrics reports the node's state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisServer } from '../packages/redis/test/redis-server.js'
import { killAll, request, runCli } from './fixtures/cli-harness.js'

let redis: RedisServer
beforeAll(async () => { redis = await RedisServer.start() })
afterAll(async () => { await redis?.stop() })
afterEach(killAll)

const until = async (cond: () => Promise<boolean>, ms = 5000): Promise<boolean> => {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 10))) {
    if (await cond()) return true
    if (Date.now() > end) return false
  }
}

describe('scopecache serve --redis', () => {
  it('two servers of one group: writes replicate, fences are the group\'s, /metrics has the node state', async () => {
    const args = ['serve', '--port', '0', '--threads', '2', '--redis', redis.url, '--group', 'web', '--redis-mode', 'replicate']
    const a = runCli(args)
    const b = runCli(args)
    const [{ address: A }, { address: B }] = await Promise.all([a.listening(), b.listening()])
    const w = await request({ base: A }, 'POST', '/upsert', { scope: 'user:1', id: 'profile', payload: { name: 'Ada' } })
    expect(w.status).toBe(200)
    expect(await until(async () => (await request({ base: B }, 'GET', '/get?scope=user:1&id=profile')).body === '{"name":"Ada"}')).toBe(true)
    const v = JSON.parse((await request({ base: B }, 'GET', '/version?scope=user:1')).body).version as number
    expect(JSON.parse((await request({ base: A }, 'GET', '/version?scope=user:1')).body).version).toBe(v)
    const late = await request({ base: B }, 'POST', '/upsert', { scope: 'user:1', id: 'profile', payload: { name: 'late' }, if_version: v - 1 })
    expect(late.status).toBe(409)
    const ok = await request({ base: B }, 'POST', '/upsert', { scope: 'user:1', id: 'profile', payload: { name: 'Grace' }, if_version: v })
    expect(ok.status).toBe(200)
    expect(await until(async () => (await request({ base: A }, 'GET', '/get?scope=user:1&id=profile')).body === '{"name":"Grace"}')).toBe(true)
    const inv = await request({ base: A }, 'POST', '/invalidate', { scope: 'user:1', id: 'profile' })
    expect(inv.status).toBe(200)
    expect(await until(async () => (await request({ base: B }, 'GET', '/get?scope=user:1&id=profile')).status === 404)).toBe(true)
    const counter = await request({ base: A }, 'POST', '/counter_add', { scope: 'c', id: 'n', by: 1 })
    expect(counter.status).toBe(400)
    expect(counter.body).toContain('coherent group')
    // the node's figures reach the listener threads four times a second
    let m = ''
    expect(await until(async () => /scopecache_coherence_applied_total [1-9]/.test((m = (await request({ base: B }, 'GET', '/metrics')).body)))).toBe(true)
    expect(m).toContain('scopecache_coherence_state{state="in-sync"} 1')
    expect(await a.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(await b.stop('SIGTERM')).toEqual({ code: 0, signal: null })
  })

  it('usage errors: --redis without --group, a bad URL, a bad mode', async () => {
    for (const args of [['--redis', redis.url], ['--redis', 'http://x', '--group', 'g'], ['--redis', redis.url, '--group', 'g', '--redis-mode', 'both']]) {
      const cli = runCli(['serve', '--port', '0', ...args])
      expect((await cli.exited).code).toBe(2)
    }
  })
})
