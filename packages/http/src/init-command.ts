/**
 * Boot-time warm-up, as ScopeCache v0.8.32 does it: before the public listener opens, an
 * executable runs against a private Unix socket served by the same handler, so clients never see a
 * half-filled cache. The socket lives in a fresh 0700 temp directory with mode 0600 and its path is
 * passed in `SCOPECACHE_SOCKET_PATH`. The command runs directly (no shell, no arguments, stdin
 * empty, stdout/stderr inherited) in its own process group; a timeout or an abort SIGKILLs the whole
 * group. Failure is reported, never thrown: boot continues with whatever the command wrote.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import type { RequestListener } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeGracefully, createHardenedServer, type HttpLimits } from './server-http.js'
import { listenUnix } from './listen.js'
import type { Logger } from './server-log.js'

export interface InitCommandOptions {
  /** Path of the executable. */
  command: string
  /** Kill it after this long; 0 = no limit. */
  timeoutMs: number
  listener: RequestListener
  limits: HttpLimits
  log: Logger
  /** Aborting (a signal during boot) kills the command. */
  signal?: AbortSignal
}

export type InitOutcome =
  | { status: 'completed'; ms: number }
  | { status: 'failed'; ms: number; exitCode: number | null; signal: string | null; error?: string }
  | { status: 'timed_out'; ms: number }
  | { status: 'aborted'; ms: number }

const PRIVATE_SOCKET_MODE = 0o600
const PRIVATE_GRACE_MS = 5_000

export async function runInitCommand(o: InitCommandOptions): Promise<InitOutcome> {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'scopecache-init-'))
  const socketPath = join(dir, 'init.sock')
  const server = createHardenedServer(o.listener, o.limits, o.log)
  try {
    o.log.info({ command: o.command }, `init: running ${o.command}`)
    const outcome = await listenUnix(server, socketPath, PRIVATE_SOCKET_MODE).then(
      () => runToEnd(o, socketPath, started),
      (err: Error): InitOutcome => ({ status: 'failed', ms: Date.now() - started, exitCode: null, signal: null, error: `cannot bind the private socket ${socketPath}: ${err.message}` }),
    )
    if (outcome.status === 'completed') o.log.info({ command: o.command, ms: outcome.ms }, `init: ${o.command}: completed`)
    else o.log.error({ command: o.command, ...outcome }, `init: ${o.command}: ${describe(outcome)}`)
    return outcome
  } finally {
    await closeGracefully(server, PRIVATE_GRACE_MS)
    rmSync(dir, { recursive: true, force: true })
  }
}

function describe(o: InitOutcome): string {
  switch (o.status) {
    case 'completed': return 'completed'
    case 'timed_out': return 'timed out, killed'
    case 'aborted': return 'aborted by shutdown, killed'
    case 'failed':
      return o.error ?? (o.signal !== null ? `killed by ${o.signal}` : `exited with code ${o.exitCode}`)
  }
}

function runToEnd(o: InitCommandOptions, socketPath: string, started: number): Promise<InitOutcome> {
  return new Promise((resolve) => {
    let verdict: 'timed_out' | 'aborted' | undefined
    const child = spawn(o.command, [], {
      env: { ...process.env, SCOPECACHE_SOCKET_PATH: socketPath },
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true, // its own process group, so a kill reaches what it started in the background
    })
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group is already gone
      }
    }
    const timer = o.timeoutMs > 0 ? setTimeout(() => { verdict = 'timed_out'; killGroup() }, o.timeoutMs) : undefined
    const onAbort = () => { verdict = 'aborted'; killGroup() }
    o.signal?.addEventListener('abort', onAbort, { once: true })
    if (o.signal?.aborted) onAbort()

    const finish = (outcome: InitOutcome) => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      resolve(outcome)
    }
    child.once('error', (err) => finish({ status: 'failed', ms: Date.now() - started, exitCode: null, signal: null, error: err.message }))
    child.once('exit', (code, sig) => {
      const ms = Date.now() - started
      if (verdict !== undefined) finish({ status: verdict, ms })
      else if (code === 0) finish({ status: 'completed', ms })
      else finish({ status: 'failed', ms, exitCode: code, signal: sig })
    })
  })
}
