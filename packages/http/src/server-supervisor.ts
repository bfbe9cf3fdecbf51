/**
 * Starts, watches and stops the listener threads of one server. Listener 1 binds first (so port 0
 * resolves to a real port), the others then bind the same port with SO_REUSEPORT. Every thread is
 * `cache.watch`ed, so a thread that dies has its store locks taken over; it is then restarted after
 * a short delay, at most RESTARTS_PER_WINDOW times per window across the server: a thread that
 * crashes on every start must not turn into a busy loop. When no listener is left and the budget
 * is spent, `onFatal` is called (the CLI exits 1).
 */
import { Worker } from 'node:worker_threads'
import type { ScopeCache } from '@scopecache/core'
import { ListenError } from './listen.js'
import type { HttpLimits } from './server-http.js'
import type { Logger, LogLevel } from './server-log.js'
import type { ListenerData, ListenTarget, ToListener, ToSupervisor } from './server-protocol.js'
import type { WriteGate } from './coherent-writes.js'
import { serveGate } from './coherent-gate.js'

const RESTART_WINDOW_MS = 60_000
const RESTARTS_PER_WINDOW = 5
const RESTART_DELAY_MS = 200
/** A draining thread that has not exited this long after its grace period is terminated. */
const STOP_MARGIN_MS = 2_000

export interface SupervisorConfig {
  workerUrl: URL
  cache: ScopeCache
  metricsBuffer: SharedArrayBuffer
  limits: HttpLimits
  logLevel: LogLevel
  log: Logger
  onFatal?: (err: Error) => void
  /** A node of a coherent group: listener threads send it their writes (coherent-gate.ts). */
  coherent?: { gate: WriteGate; buffer: SharedArrayBuffer }
}

interface Slot {
  index: number
  worker: Worker | undefined
}

export class ListenerSupervisor {
  private readonly slots: Slot[] = []
  private readonly restarts: number[] = []
  private target: ListenTarget | undefined
  private stopping = false

  constructor(private readonly cfg: SupervisorConfig) {}

  /** Listener threads serving now. */
  get threads(): number {
    return this.workers.length
  }

  get workers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker === undefined ? [] : [s.worker]))
  }

  /**
   * Binds listener 1 on `first` (throws a ListenError if it cannot), then `count - 1` more on the
   * same address; an extra one that cannot bind is logged and left out. Resolves with the bound
   * target (a TCP target carries the real port).
   */
  async start(first: ListenTarget, count: number): Promise<ListenTarget> {
    const one = await this.spawn(1, first)
    this.slots.push({ index: 1, worker: one.worker })
    const target: ListenTarget = first.kind === 'tcp' ? { ...first, port: one.port! } : first
    this.target = target
    const rest = await Promise.allSettled(Array.from({ length: count - 1 }, (_, i) => this.spawn(i + 2, target)))
    rest.forEach((r, i) => {
      if (r.status === 'fulfilled') this.slots.push({ index: i + 2, worker: r.value.worker })
      else this.cfg.log.warn({ thread: i + 2, err: (r.reason as Error).message }, 'extra listener thread could not listen; serving without it')
    })
    return target
  }

  /** Asks every thread to drain within `graceMs`, terminates stragglers, resolves when all exited. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    await Promise.all(this.workers.map((w) => stopListener(w, graceMs)))
  }

  private spawn(index: number, target: ListenTarget): Promise<{ worker: Worker; port: number | undefined }> {
    const { cache, metricsBuffer, limits, logLevel, log } = this.cfg
    return new Promise((resolve, reject) => {
      const coherent = this.cfg.coherent
      const data: ListenerData = { index, handle: cache.handle, metricsBuffer, target, limits, logLevel, coherenceBuffer: coherent?.buffer }
      const worker = new Worker(this.cfg.workerUrl, { workerData: data })
      cache.watch(worker)
      let listening = false
      worker.on('message', (m: ToSupervisor) => {
        if (m.type === 'listening') {
          listening = true
          resolve({ worker, port: m.port })
        } else if (m.type === 'listen-failed') {
          void worker.terminate()
          reject(new ListenError(m.code, m.message))
        } else if (m.type === 'write' && coherent !== undefined) {
          serveGate(coherent.gate, m, (r) => worker.postMessage(r))
        }
      })
      worker.on('error', (err) => log.error({ thread: index, err }, 'listener thread crashed'))
      worker.once('exit', (code) => {
        if (!listening) {
          reject(new ListenError('thread_exit', `listener thread ${index} exited with code ${code} before listening`))
          return
        }
        const slot = this.slots.find((s) => s.worker === worker)
        if (slot === undefined || this.stopping) return
        slot.worker = undefined
        log.error({ thread: index, exitCode: code }, 'listener thread died')
        this.restart(slot)
      })
    })
  }

  private restart(slot: Slot): void {
    const { log } = this.cfg
    const now = Date.now()
    while (this.restarts.length > 0 && now - this.restarts[0]! > RESTART_WINDOW_MS) this.restarts.shift()
    if (this.restarts.length >= RESTARTS_PER_WINDOW) {
      log.error({ thread: slot.index }, `not restarting: ${RESTARTS_PER_WINDOW} restarts within ${RESTART_WINDOW_MS / 1000} s`)
      if (this.threads === 0) this.cfg.onFatal?.(new Error('no listener thread left and restarts exhausted'))
      return
    }
    this.restarts.push(now)
    setTimeout(() => {
      if (this.stopping) return
      this.spawn(slot.index, this.target!).then(
        ({ worker }) => {
          if (this.stopping) {
            void worker.terminate()
            return
          }
          slot.worker = worker
          log.info({ thread: slot.index }, 'listener thread restarted')
        },
        (err: Error) => {
          log.error({ thread: slot.index, err: err.message }, 'listener thread restart failed')
          this.restart(slot)
        },
      )
    }, RESTART_DELAY_MS)
  }
}

function stopListener(w: Worker, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void w.terminate(), graceMs + STOP_MARGIN_MS)
    w.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    w.postMessage({ type: 'shutdown', graceMs } satisfies ToListener)
  })
}
