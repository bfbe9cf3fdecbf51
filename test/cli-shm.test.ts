/**
 * `scopecache serve --shm NAME`: several serve processes share one store in shared memory (on one
 * port with reusePort, Node ≥ 22.12; on two ports elsewhere), and the store outlives them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ScopeCache } from '../packages/core/dist/index.js'
import { freePort, killAll, request, runCli } from './fixtures/cli-harness.js'

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const hasReusePort = major > 22 || (major === 22 && minor >= 12)

afterEach(killAll)

describe('scopecache serve --shm', () => {
  it(`two serve processes share one store ${hasReusePort ? 'on one port (reusePort)' : 'on two ports (Node 20: no reusePort)'}; it outlives them`, async () => {
    const name = `cli-${process.pid}-${Date.now().toString(36)}`
    try {
      const p1 = await freePort()
      const p2 = hasReusePort ? p1 : await freePort()
      const a = runCli(['serve', '--shm', name, '--port', String(p1), '--threads', '1', '--max-store-mb', '4'])
      await a.listening()
      const b = runCli(['serve', '--shm', name, '--port', String(p2), '--threads', '1'])
      await b.listening()
      // writes through the port(s) while both serve: each lands in whichever process took the connection
      for (let i = 0; i < 20; i++) {
        const base = `http://127.0.0.1:${i % 2 === 0 ? p1 : p2}`
        expect((await request({ base }, 'POST', '/append', { scope: 's', id: `i${i}`, payload: i })).status).toBe(200)
      }
      expect(await a.stop('SIGTERM')).toEqual({ code: 0, signal: null })
      // the survivor serves every write, its own and the stopped process's
      const r = await request({ base: `http://127.0.0.1:${p2}` }, 'GET', '/tail?scope=s&limit=100')
      expect(JSON.parse(r.body).items.map((it: { payload: number }) => it.payload)).toEqual(Array.from({ length: 20 }, (_, i) => i))
      expect(await b.stop('SIGTERM')).toEqual({ code: 0, signal: null })
      // no process serves it now; it is still there, with the creator's options
      const cache = ScopeCache.open({ name })
      expect(cache.stats().items).toBe(20)
      expect(cache.maxStoreBytes).toBe(4 << 20)
      cache.close()
    } finally {
      ScopeCache.unlink(name)
    }
  }, 60_000)

  it('a name that could leave /dev/shm is refused at start (exit 2)', async () => {
    const cli = runCli(['serve', '--shm', '../etc', '--port', '0'])
    expect((await cli.exited).code).toBe(2)
    expect(cli.err.join('')).toMatch(/shm store "\.\.\/etc": .*may not contain '\/' or '\.\.'/)
  })
})
