/**
 * `scopecache serve`, run as the built command: address line, requests, threads, Unix socket,
 * init-command ordering and failures, graceful SIGTERM, usage errors, environment variables.
 * Each test starts its own process on port 0 (or a private socket) and stops it.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort, killAll, request, runCli } from './fixtures/cli-harness.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const hasReusePort = major > 22 || (major === 22 && minor >= 12)

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scopecache-cli-test-'))
  for (const f of ['cli-init-warm.mjs', 'cli-init-fail.mjs', 'cli-init-hang.mjs']) chmodSync(fixture(f), 0o755)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(killAll)

describe('scopecache serve over TCP', () => {
  it('prints where it listens, answers /help and a write + read, and exits 0 on SIGTERM', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1'])
    const { address, threads } = await cli.listening()
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(Number(new URL(address).port)).toBeGreaterThan(0)
    expect(threads).toBe(1)
    const help = await request({ base: address }, 'GET', '/help')
    expect(help.status).toBe(200)
    expect(help.headers['x-scopecache-thread']).toBe('1')
    const w = await request({ base: address }, 'POST', '/append', { scope: 's', id: 'a', payload: { hello: 'world' } })
    expect(w.status).toBe(200)
    const r = await request({ base: address }, 'GET', '/get?scope=s&id=a')
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ hello: 'world' })
    expect(await cli.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(cli.logs().some((l) => l['msg'] === 'stopped')).toBe(true)
  })

  it(`--threads 2 ${hasReusePort ? 'serves from 2 threads on one port (reusePort)' : 'serves from 1 thread on Node 20 and says why'}`, async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '2'])
    const { address, threads } = await cli.listening()
    const seen = new Set<string>()
    // a fresh connection per request: the kernel spreads connections over the reusePort sockets
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const r = await request({ base: address }, 'GET', '/help')
      seen.add(String(r.headers['x-scopecache-thread']))
    }
    if (hasReusePort) {
      expect(threads).toBe(2)
      expect([...seen].sort()).toEqual(['1', '2'])
      // both threads read the same store: a write through one is visible through the other
      await request({ base: address }, 'POST', '/append', { scope: 'shared', id: 'x', payload: 1 })
      const threadsSeen = new Set<string>()
      for (let i = 0; i < 200 && threadsSeen.size < 2; i++) {
        const r = await request({ base: address }, 'GET', '/get?scope=shared&id=x')
        expect(r.status).toBe(200)
        threadsSeen.add(String(r.headers['x-scopecache-thread']))
      }
      expect(threadsSeen.size).toBe(2)
    } else {
      expect(threads).toBe(1)
      expect([...seen]).toEqual(['1'])
      expect(cli.logs().some((l) => l['level'] === 'warn' && String(l['msg']).includes('reusePort'))).toBe(true)
    }
    expect((await cli.stop()).code).toBe(0)
  })

  it('a port already in use is a runtime failure: exit 1 with a logged reason', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const cli = runCli(['serve', '--port', String(port), '--threads', '1'])
      expect((await cli.exited).code).toBe(1)
      expect(cli.logs().some((l) => l['level'] === 'fatal' && String(l['err']).includes('EADDRINUSE'))).toBe(true)
    } finally {
      await new Promise((r) => blocker.close(r))
    }
  })
})

describe('scopecache serve --socket', () => {
  it('listens on a 0660 Unix socket, replaces a stale socket file, removes it after SIGTERM', async () => {
    const path = join(dir, 'public.sock')
    await makeStaleSocket(path)
    expect(statSync(path).isSocket()).toBe(true)

    const cli = runCli(['serve', '--socket', path, '--threads', '2'])
    const { address, threads } = await cli.listening()
    expect(address).toBe(`unix:${path}`)
    expect(threads).toBe(1)
    expect(statSync(path).mode & 0o777).toBe(0o660)
    const w = await request({ socketPath: path }, 'POST', '/append', { scope: 'u', id: '1', payload: 'x' })
    expect(w.status).toBe(200)
    const r = await request({ socketPath: path }, 'GET', '/get?scope=u&id=1')
    expect(r.status).toBe(200)
    expect((await cli.stop('SIGTERM')).code).toBe(0)
    expect(existsSync(path)).toBe(false)
  })

  it('refuses a path that is not a socket (exit 1) and leaves the file alone', async () => {
    const path = join(dir, 'not-a-socket')
    writeFileSync(path, 'keep me')
    const cli = runCli(['serve', '--socket', path])
    expect((await cli.exited).code).toBe(1)
    expect(readFileSync(path, 'utf8')).toBe('keep me')
  })
})

describe('scopecache serve --init-command', () => {
  it('opens the public port only after the command finished: the first answer already sees its items', async () => {
    const port = await freePort()
    const cli = runCli(['serve', '--port', String(port), '--threads', '1', '--init-command', fixture('cli-init-warm.mjs')], {
      INIT_DELAY_MS: '600',
      INIT_ITEMS: '3',
    })
    let refused = 0
    let first: Awaited<ReturnType<typeof request>> | undefined
    const deadline = Date.now() + 15_000
    while (first === undefined && Date.now() < deadline) {
      try {
        first = await request({ base: `http://127.0.0.1:${port}` }, 'GET', '/get?scope=warm&id=i3')
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
        refused++
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    expect(refused).toBeGreaterThan(0) // the poll really ran while the command was busy
    expect(first?.status).toBe(200)
    expect(JSON.parse(first!.body)).toEqual({ n: 3, socketMode: '600' })
    await cli.listening()
    const logs = cli.logs().map((l) => String(l['msg']))
    expect(logs.some((m) => /^init: running .*cli-init-warm\.mjs$/.test(m))).toBe(true)
    expect(logs.some((m) => /^init: .*cli-init-warm\.mjs: completed$/.test(m))).toBe(true)
    expect(logs.findIndex((m) => m.endsWith(': completed'))).toBeLessThan(logs.indexOf('listening'))
    expect(cli.out).toContain('init fixture wrote 3 items')
    expect((await cli.stop()).code).toBe(0)
  })

  it('a failing command is logged and boot continues', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1', '--init-command', fixture('cli-init-fail.mjs')])
    const { address } = await cli.listening()
    expect((await request({ base: address }, 'GET', '/help')).status).toBe(200)
    const failed = cli.logs().find((l) => l['level'] === 'error' && String(l['msg']).startsWith('init:'))
    expect(failed?.['msg']).toMatch(/cli-init-fail\.mjs: exited with code 3$/)
    expect((await cli.stop()).code).toBe(0)
  })

  it('a missing command is logged and boot continues', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1', '--init-command', join(dir, 'does-not-exist')])
    await cli.listening()
    const failed = cli.logs().find((l) => l['level'] === 'error' && String(l['msg']).startsWith('init:'))
    expect(failed?.['msg']).toMatch(/ENOENT/)
    expect((await cli.stop()).code).toBe(0)
  })

  it('a command over --init-timeout is killed with its process group, logged, and boot continues', async () => {
    const pidFile = join(dir, 'hang.pids')
    const started = Date.now()
    const cli = runCli(['serve', '--port', '0', '--threads', '1', '--init-command', fixture('cli-init-hang.mjs'), '--init-timeout', '0.8'], {
      INIT_PID_FILE: pidFile,
    })
    const { address } = await cli.listening()
    expect(Date.now() - started).toBeLessThan(8_000)
    expect((await request({ base: address }, 'GET', '/help')).status).toBe(200)
    expect(cli.logs().some((l) => l['level'] === 'error' && /cli-init-hang\.mjs: timed out, killed$/.test(String(l['msg'])))).toBe(true)
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as number[]
    await waitUntil(() => pids.every((pid) => !alive(pid)))
    expect((await cli.stop()).code).toBe(0)
  })

  it('SIGTERM during the init command kills it and exits 0 without opening the port', async () => {
    const pidFile = join(dir, 'hang2.pids')
    const cli = runCli(['serve', '--port', '0', '--init-command', fixture('cli-init-hang.mjs'), '--init-timeout', '0'], { INIT_PID_FILE: pidFile })
    await cli.waitFor(/init: running/)
    await waitUntil(() => existsSync(pidFile))
    expect((await cli.stop('SIGTERM')).code).toBe(0)
    expect(cli.out.some((l) => l.startsWith('scopecache listening'))).toBe(false)
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as number[]
    await waitUntil(() => pids.every((pid) => !alive(pid)))
  })
})

describe('scopecache serve shutdown', () => {
  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1'])
    const { address } = await cli.listening()
    const { port } = new URL(address)
    const sock = net.connect(Number(port), '127.0.0.1')
    await new Promise((r) => sock.once('connect', r))
    const body = JSON.stringify({ scope: 'g', id: 'late', payload: 42 })
    let reply = ''
    sock.setEncoding('utf8').on('data', (d: string) => (reply += d))
    // headers and half the body now; SIGTERM; the rest of the body after the server started stopping
    sock.write(`POST /append HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    await new Promise((r) => setTimeout(r, 100))
    cli.proc.kill('SIGTERM')
    await cli.waitFor(/"shutting down"/)
    await new Promise((r) => setTimeout(r, 200))
    sock.end(body.slice(10))
    const { code } = await cli.exited
    expect(code).toBe(0)
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    sock.destroy()
  })
})

describe('scopecache serve signals', () => {
  it('SIGINT stops it like SIGTERM (exit 0)', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1'])
    await cli.listening()
    expect(await cli.stop('SIGINT')).toEqual({ code: 0, signal: null })
  })

  it('a second signal while draining exits at once with code 1', async () => {
    const cli = runCli(['serve', '--port', '0', '--threads', '1'])
    const { address } = await cli.listening()
    const sock = net.connect(Number(new URL(address).port), '127.0.0.1')
    sock.on('error', () => {})
    await new Promise((r) => sock.once('connect', r))
    sock.write('POST /append HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{') // never finished: keeps the drain busy
    await new Promise((r) => setTimeout(r, 100))
    cli.proc.kill('SIGTERM')
    await cli.waitFor(/"shutting down"/)
    const t0 = Date.now()
    cli.proc.kill('SIGTERM')
    expect((await cli.exited).code).toBe(1)
    expect(Date.now() - t0).toBeLessThan(2_000)
    sock.destroy()
  })
})

describe('scopecache usage errors (exit 2)', () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['serve', '--port', '70000'], {}, /--port: "70000" is not a port number/],
    [['serve', '--threads', '0'], {}, /--threads: "0" is not a positive integer/],
    [['serve', '--threads', '500'], {}, /--threads: at most 128/],
    [['serve', '--log-level', 'loud'], {}, /--log-level: "loud" is not one of fatal, error/],
    [['serve', '--max-store-mb', '0'], {}, /--max-store-mb: "0" is not a positive number of MiB/],
    [['serve', '--frobnicate'], {}, /Unknown option '--frobnicate'/],
    [['serve', '--host', '0.0.0.0'], {}, /--host 0\.0\.0\.0 is not a loopback address; add --allow-remote/],
    [['serve', '--socket', '/tmp/x.sock', '--port', '1'], {}, /do not combine it with --port/],
    [['serve'], { SCOPECACHE_PORT: 'eighty' }, /SCOPECACHE_PORT: "eighty" is not a port number/],
    [['serve'], { SCOPECACHE_INIT_TIMEOUT_SEC: 'soon' }, /SCOPECACHE_INIT_TIMEOUT_SEC: "soon" is not a number of seconds/],
    [['serve', '--when-full', 'lru'], {}, /--when-full: "lru" is not reject or evict/],
    [['serve'], { SCOPECACHE_WHEN_FULL: 'drop' }, /SCOPECACHE_WHEN_FULL: "drop" is not reject or evict/],
    [['launch'], {}, /unknown command "launch"/],
  ]
  it.each(cases)('%j %j', async (args, env, message) => {
    const cli = runCli(args, env)
    expect((await cli.exited).code).toBe(2)
    expect(cli.err.join('')).toMatch(message)
  })

  it('--help and serve --help print usage and exit 0', async () => {
    const main = runCli(['--help'])
    expect((await main.exited).code).toBe(0)
    expect(main.out.join('\n')).toMatch(/scopecache serve \[options\]/)
    const serve = runCli(['serve', '--help'])
    expect((await serve.exited).code).toBe(0)
    const text = serve.out.join('\n')
    for (const flag of ['--port', '--host', '--allow-remote', '--socket', '--threads', '--scope-max-items', '--max-store-mb', '--max-item-mb', '--when-full', '--init-command', '--init-timeout', '--max-connections', '--log-level']) {
      expect(text).toContain(flag)
    }
  })
})

describe('scopecache serve environment', () => {
  it('reads SCOPECACHE_* variables; flags win', async () => {
    const port = await freePort()
    const cli = runCli(['serve', '--log-level', 'info'], {
      SCOPECACHE_PORT: String(port),
      SCOPECACHE_THREADS: '1',
      SCOPECACHE_LOG_LEVEL: 'loud', // invalid, but the flag wins so it is never read
      SCOPECACHE_SCOPE_MAX_ITEMS: '2',
      SCOPECACHE_MAX_STORE_MB: '3',
      SCOPECACHE_MAX_ITEM_MB: '0.5',
    })
    const { address, threads } = await cli.listening()
    expect(address).toBe(`http://127.0.0.1:${port}`)
    expect(threads).toBe(1)
    for (const id of ['a', 'b']) expect((await request({ base: address }, 'POST', '/append', { scope: 'cap', id, payload: 1 })).status).toBe(200)
    expect((await request({ base: address }, 'POST', '/append', { scope: 'cap', id: 'c', payload: 1 })).status).toBe(507)
    const help = (await request({ base: address }, 'GET', '/help')).body
    expect(help).toContain('scope_max_items: 2\n')
    expect(help).toContain(`max_store_bytes: ${3 * 1024 * 1024}\n`)
    expect(help).toContain(`max_item_bytes: ${512 * 1024}\n`)
    expect((await cli.stop()).code).toBe(0)
  })
})

/** Running (a zombie waiting for a reaper that a container's pid 1 may never be counts as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

async function waitUntil(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Leaves a socket file with nobody listening: a child binds it and is SIGKILLed (no unlink). */
async function makeStaleSocket(path: string): Promise<void> {
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((r) => child.stdout!.once('data', r))
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
}
