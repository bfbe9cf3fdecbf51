// A private redis-server for the benchmarks: loopback only, port 6399, no persistence, started as
// a child of this process and stopped by it. Returns a reason instead of throwing when it cannot
// run, so suites skip the Redis rows with that reason.
import { spawn, execFileSync } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'

export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6399)

function redisVersion() {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return null
  }
}

/** Whether something already listens on the port (then it is not ours to benchmark or stop). */
function portInUse(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** → { client, version, stop() } or { skip: 'why' } */
export async function startRedis() {
  const version = redisVersion()
  if (!version) return { skip: 'redis-server not installed (benchmarks/setup.sh installs it with apt-get; it failed or was not run)' }
  if (await portInUse(REDIS_PORT)) return { skip: `127.0.0.1:${REDIS_PORT} is already in use (set BENCH_REDIS_PORT to a free port)` }
  const child = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  let exited = false
  // Never leave our redis-server behind, even when this process is stopped (runner timeout, Ctrl-C).
  const killChild = () => { if (!exited) child.kill('SIGKILL') }
  const onSignal = () => { killChild(); process.exit(130) }
  process.once('exit', killChild)
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  child.once('exit', () => {
    exited = true
    process.off('exit', killChild)
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  })
  const client = new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false })
  client.on('error', () => {})
  const deadline = Date.now() + 5000
  for (;;) {
    if (exited) return { skip: `redis-server exited at start: ${log.trim().split('\n').pop()}` }
    try {
      await client.connect()
      if ((await client.ping()) === 'PONG') break
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        return { skip: `redis-server did not answer on 127.0.0.1:${REDIS_PORT} within 5 s: ${log.trim().split('\n').pop() ?? ''}` }
      }
      await sleep(50)
    }
  }
  const stop = async () => {
    client.disconnect()
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([gone, sleep(2000).then(() => child.kill('SIGKILL'))])
    }
  }
  return { client, version: version.split(' ').slice(0, 3).join(' '), stop }
}
