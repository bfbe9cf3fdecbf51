/**
 * `createCachePool`: a piscina pool whose every worker is attached to one store.
 *
 * The store's handle rides in piscina's `workerData`, so it is sent once per worker, at start,
 * never per task. Piscina loads this package's runner in every worker; the runner announces its
 * thread id, attaches, hands over its control port (`Hello`), and calls the task module's export
 * for each task. The owner `watch`es every worker's `Worker` object (from `piscina.threads`) so a
 * worker that exits — killed, crashed, aborted, or closed — has its thread slot marked dead and is
 * reaped on the owner's event loop: the reaper (and only it) releases the locks the worker held and
 * rolls its unfinished write back or forward; piscina starts the replacement.
 *
 * Trade-off: tasks go through one extra indirection (the runner) so that errors thrown in a
 * worker can be returned as wire records with their `code`, instead of piscina's structured
 * clone that keeps only the message.
 */
import { EventEmitter } from 'node:events'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MessagePort, Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { ScopeCache } from '@scopecache/core'
import { serve } from './control-channel.js'
import { decodeError, PoolError } from './errors.js'
import { ownerControlApi, type CacheSource } from './owner-control.js'
import { BOOT_KEY, type Announce, type Boot, type ControlApi, type Hello, type PoolStats, type TaskEnvelope, type TaskFailure } from './protocol.js'

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>
type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>

export interface CachePoolOptions extends Omit<PiscinaOptions, 'filename' | 'name'> {
  /** The store every worker attaches to. It stays open and owned by this thread. */
  cache: ScopeCache
  /** The task module: an absolute path or a `file:` URL. */
  filename: string | URL
  /** The export called for each task (default `'default'`). */
  name?: string
  /** Source of truth for `ownerControl().warm()`/`rebuild()` calls from workers. */
  source?: CacheSource
}

export interface CacheRunOptions extends Omit<RunOptions, 'filename'> {
  filename?: string | URL
}

const RUNNER = fileURLToPath(new URL('./runner-entry.cjs', import.meta.url))

export function createCachePool(options: CachePoolOptions): CachePool {
  return new CachePool(options)
}

/**
 * Events: `'workerAttached'` (threadId) when a worker attached and announced itself,
 * `'workerReaped'` (threadId) after a worker exited and its thread slot was marked dead,
 * `'control'` (op) when a worker's control call arrives, `'error'` for what piscina reports
 * outside any task (listen to it: an unhandled 'error' event ends the process).
 */
export class CachePool extends EventEmitter {
  /** The underlying piscina pool, for everything this wrapper does not re-export. */
  readonly piscina: Piscina
  readonly cache: ScopeCache

  private readonly filename: string
  private readonly name: string
  private readonly api: ControlApi
  private readonly watched = new WeakSet<Worker>()
  private readonly channels = new Map<number, { close(): void }>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private attached = 0
  private reaped = 0
  private closing: Promise<void> | undefined

  constructor(options: CachePoolOptions) {
    super()
    const { cache, filename, name = 'default', source, workerData, ...piscinaOptions } = options
    if (cache === null || typeof cache !== 'object' || typeof cache.handle !== 'object') {
      throw new PoolError('invalid_input', 'createCachePool() needs `cache`: a ScopeCache')
    }
    if (source !== undefined && typeof source !== 'function') {
      throw new PoolError('invalid_input', '`source` must be a function ({ scopes }) => items')
    }
    this.cache = cache
    this.filename = toPath(filename, 'filename')
    this.name = name
    const boot: Boot = { handle: cache.handle, filename: this.filename, name, data: workerData }
    this.piscina = new Piscina({ ...piscinaOptions, filename: RUNNER, name: 'default', workerData: { [BOOT_KEY]: boot } })
    this.api = ownerControlApi({
      cache,
      source,
      stats: () => this.stats(),
      requestShutdown: () => void this.close().catch((err: unknown) => this.emit('error', err)),
      isClosing: () => this.closing !== undefined,
      onCall: (op) => this.emit('control', op),
    })
    this.piscina.on('message', this.onMessage)
    this.piscina.on('workerCreate', this.onWorkerCreate)
    // A worker that fails outside any task (a throwing timer, say): piscina replaces it and
    // reports here. Like any 'error' event, unhandled it ends the process.
    this.piscina.on('error', this.onError)
  }

  private readonly onMessage = (m: unknown): void => {
    if (isAnnounce(m)) this.watchAll()
    else if (isHello(m)) this.onHello(m)
  }
  private readonly onWorkerCreate = (): void => void this.watchAll()
  private readonly onError = (err: unknown): void => void this.emit('error', err)

  /** piscina's `run`: a task for the pool's module (or `options.filename`); errors keep their `code`. */
  async run<R = unknown>(task: unknown, options: CacheRunOptions = {}): Promise<R> {
    if (this.closing !== undefined) throw new PoolError('pool_closed', 'the pool is closing; no new tasks')
    const { filename, name, transferList, ...rest } = options
    let list = transferList
    let payload = task
    // piscina unwraps Piscina.move() only at the top level of a task; the envelope hides it.
    if (isMovable(task)) {
      list = [...(list ?? []), ...([] as unknown[]).concat(task[Piscina.transferableSymbol])] as typeof list
      payload = task[Piscina.valueSymbol]
    }
    const envelope: TaskEnvelope = {
      __scopecachePoolTask: 1,
      filename: filename === undefined ? this.filename : toPath(filename, 'filename'),
      name: name ?? this.name,
      task: payload,
    }
    const running = this.piscina.run(envelope, { ...rest, transferList: list })
    const settled = running.then(noop, noop)
    this.inFlight.add(settled)
    let result: unknown
    try {
      result = await running
    } catch (err) {
      throw mapPiscinaError(err)
    } finally {
      this.inFlight.delete(settled)
    }
    if (isFailure(result)) throw decodeError(result.__scopecachePoolError)
    return result as R
  }

  /** The owner-side view of what workers get from `ownerControl().stats()`. */
  stats(): PoolStats {
    const p = this.piscina
    return {
      store: this.cache.stats(),
      pool: {
        attachedWorkers: this.attached,
        reapedWorkers: this.reaped,
        threads: p.threads.length,
        queueSize: p.queueSize,
        completed: p.completed,
        utilization: p.utilization,
      },
    }
  }

  /**
   * Refuses new tasks, waits for queued and running ones (at most piscina's `closeTimeout`;
   * `force` aborts the queued ones instead), stops every worker (their thread slots are freed
   * for reuse), and closes the control channels. The store stays open and usable here.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.watchAll()
      // piscina's own close waits only for tasks already running and fails the queued ones.
      if (options.force !== true) await drain(this.inFlight, this.piscina.options.closeTimeout)
      await this.piscina.close(options)
      for (const ch of this.channels.values()) ch.close()
      this.channels.clear()
      this.piscina.off('message', this.onMessage)
      this.piscina.off('workerCreate', this.onWorkerCreate)
      this.piscina.off('error', this.onError)
    })()
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private onHello(hello: Hello): void {
    const worker = this.watchAll().get(hello.threadId)
    if (worker === undefined || this.closing !== undefined) {
      // Already gone (its 'exit' reaps it) or we are closing: no channel to serve.
      hello.port.close()
      return
    }
    const channel = serve(hello.port as MessagePort, this.api)
    this.channels.set(hello.threadId, channel)
    this.attached++
    worker.once('exit', () => {
      channel.close()
      this.channels.delete(hello.threadId)
      this.attached--
    })
    this.emit('workerAttached', hello.threadId)
  }

  /**
   * Watches every live worker not yet watched (threadId is valid only until 'exit'), and
   * returns them by thread id. Called when a worker announces itself (before it attaches), on
   * every workerCreate, and before closing, so no worker that attached can exit unnoticed.
   */
  private watchAll(): Map<number, Worker> {
    const byId = new Map<number, Worker>()
    for (const w of this.piscina.threads) {
      if (w.threadId < 0) continue
      byId.set(w.threadId, w)
      if (this.watched.has(w)) continue
      this.watched.add(w)
      const id = w.threadId
      this.cache.watch(w)
      w.once('exit', () => {
        this.reaped++
        this.emit('workerReaped', id)
      })
    }
    return byId
  }
}

const noop = (): void => undefined

async function drain(tasks: Set<Promise<unknown>>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
    timer.unref()
  })
  // Tasks queued while draining (none: run() refuses them) cannot extend the wait.
  await Promise.race([Promise.all([...tasks]), timeout])
  clearTimeout(timer)
}

function toPath(f: string | URL, what: string): string {
  const s = f instanceof URL ? f.href : f
  if (typeof s === 'string' && s.startsWith('file:')) return fileURLToPath(s)
  if (typeof s === 'string' && isAbsolute(s)) return s
  throw new PoolError('invalid_input', `\`${what}\` must be an absolute path or a file: URL (got ${JSON.stringify(s)})`)
}

function isAnnounce(m: unknown): m is Announce {
  return typeof m === 'object' && m !== null && (m as Announce).__scopecachePoolAnnounce === 1
}

function isHello(m: unknown): m is Hello {
  return typeof m === 'object' && m !== null && (m as Hello).__scopecachePoolHello === 1
}

function isFailure(r: unknown): r is TaskFailure {
  return typeof r === 'object' && r !== null && '__scopecachePoolError' in r
}

function isMovable(v: unknown): v is Record<symbol, unknown> {
  return typeof v === 'object' && v !== null && Piscina.transferableSymbol in v && Piscina.valueSymbol in v
}

const WORKER_EXITED = /^worker exited with code/

function mapPiscinaError(err: unknown): unknown {
  if (err instanceof Error && WORKER_EXITED.test(err.message)) {
    return new PoolError('worker_exited', `the worker running this task exited (${err.message})`, { cause: err })
  }
  return err
}
