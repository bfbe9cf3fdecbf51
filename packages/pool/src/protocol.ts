/**
 * The messages the pool owner and its workers exchange, as types only. Everything here must
 * survive structured clone, so tags are string keys (symbols do not cross threads) and errors
 * travel as plain records (a clone drops an error's class and its own properties, `code` too).
 */
import type { MessagePort } from 'node:worker_threads'
import type { ScopeCacheHandle, StoreStats, WireError } from '@scopecache/core'

/** What every worker receives once, at start, inside piscina's `workerData`. */
export interface Boot {
  handle: ScopeCacheHandle
  /** The default task module (absolute path) and export, loaded at worker start. */
  filename: string
  name: string
  /** The caller's own `workerData`, handed back by `workerData()` in the worker. */
  data: unknown
}
export const BOOT_KEY = '__scopecachePool'

/**
 * Worker → owner, once, just before the worker attaches: lets the owner watch it first, so even a
 * worker killed right after attaching is reaped (messages a worker posted reach the owner before
 * its 'exit' event, while its threadId is still valid).
 */
export interface Announce {
  __scopecachePoolAnnounce: 1
  threadId: number
}

/** Worker → owner, once, right after the worker attached: its control port and thread id. */
export interface Hello {
  __scopecachePoolHello: 1
  threadId: number
  port: MessagePort
}

/** Owner → worker, per task: piscina runs the pool's runner, which calls the named export. */
export interface TaskEnvelope {
  __scopecachePoolTask: 1
  filename: string
  name: string
  task: unknown
}

/** Worker → owner, per failed task, as the task's result (piscina would clone the error away). */
export interface TaskFailure {
  __scopecachePoolError: WireAnyError
}

/** Any error on the wire: a store error keeps its code and details, others their name/code. */
export type WireAnyError =
  | { kind: 'scopecache'; error: WireError }
  | { kind: 'pool'; code: string; message: string }
  | { kind: 'error'; name: string; message: string; code: string | number | undefined; stack: string | undefined }

/** Every control call resolves to an outcome; the worker side turns failures back into errors. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireAnyError }

export interface PoolStats {
  /** The store's own counters (items, scopes, bytes); the same whichever thread asks. */
  store: StoreStats
  pool: {
    /** Workers alive and attached to the store right now. */
    attachedWorkers: number
    /** Workers that exited and whose thread slots were reaped, since the pool started. */
    reapedWorkers: number
    threads: number
    queueSize: number
    completed: number
    utilization: number
  }
}

/** What a worker may ask the owner thread to do (each call async, over the control channel). */
export interface ControlApi {
  warm(scopes: string[]): Promise<Outcome<{ scopes: number }>>
  rebuild(): Promise<Outcome<{ scopes: number; items: number }>>
  flush(): Promise<Outcome<{ scopes: number; items: number; bytes: number }>>
  stats(): Promise<Outcome<PoolStats>>
  shutdown(): Promise<Outcome<{ closing: true }>>
}
