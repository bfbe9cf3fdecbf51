/**
 * A private redis-server for one test file: a free loopback port, no persistence, a temp dir;
 * killed, restarted, paused and resumed by the tests, and stopped by them. Without redis-server
 * the tests fail (they do not skip): CI installs Debian's `redis-server` package (.ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function requireRedisServer(): void {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    throw new Error("redis-server is not installed: these tests need a real Redis. Install Debian's package: apt-get update && apt-get install -y redis-server (.ci/run does this)")
  }
}

/** A port nothing listens on now (bound, read, released: redis refuses --port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port })
    c.once('connect', () => c.write('PING\r\n'))
    c.once('data', (d) => { c.destroy(); resolve(d.toString().startsWith('+PONG')) })
    c.once('error', () => resolve(false))
    setTimeout(() => { c.destroy(); resolve(false) }, 1000)
  })
}

export class RedisServer {
  private child: ChildProcess | null = null
  private readonly dir = mkdtempSync(join(tmpdir(), 'scopecache-redis-'))

  private constructor(readonly port: number, private readonly extra: string[]) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(extra: string[] = []): Promise<RedisServer> {
    requireRedisServer()
    const s = new RedisServer(await freePort(), extra)
    await s.run()
    return s
  }

  /** Starts (again, empty) on the same port. */
  async run(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning', ...this.extra], { stdio: 'ignore' })
    this.child = child
    const deadline = Date.now() + 10_000
    while (!(await answers(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on 127.0.0.1:${this.port}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** SIGKILL: everything it held is gone. */
  async kill(): Promise<void> {
    const c = this.child
    if (c === null || c.exitCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGCONT')
    c.kill('SIGKILL')
    await gone
    this.child = null
  }

  pause(): void { this.child?.kill('SIGSTOP') } // prettier-ignore
  resume(): void { this.child?.kill('SIGCONT') } // prettier-ignore

  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
