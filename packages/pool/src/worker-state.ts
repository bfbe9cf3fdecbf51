/**
 * Per-worker state, created once when a pool worker starts: the store attached from the handle
 * in `workerData` (sent once, never per task), and the control channel to the owner. Before it
 * attaches, the worker `Announce`s its thread id, so the owner watches it before it can hold
 * anything in the store; after attaching, its `Hello` hands the owner the control port.
 */
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { connect, type ClientChannel } from './control-channel.js'
import { PoolError } from './errors.js'
import { BOOT_KEY, type Announce, type Boot, type ControlApi, type Hello } from './protocol.js'

export interface WorkerState {
  boot: Boot
  cache: ScopeCache
  control: ClientChannel<ControlApi>
}

/** Attaching can fail (e.g. `too_many_threads`): every task of this worker then fails with it. */
export type StartResult = { ok: true; state: WorkerState } | { ok: false; boot: Boot; error: unknown }

let started: StartResult | undefined
let announced = false

/**
 * How this pool worker started, or undefined when this thread is not one. A failed attach is
 * tried again on the next call: the slot of a worker that just died may be freed a moment later.
 */
export function poolWorkerStart(): StartResult | undefined {
  if ((started === undefined || !started.ok) && parentPort !== null && isBoot(readBoot())) started = start(readBoot() as Boot)
  return started
}

export function requireState(what: string): WorkerState {
  const s = poolWorkerStart()
  if (s === undefined) {
    throw new PoolError('not_in_pool', `${what}() works only inside a worker of createCachePool()`)
  }
  if (!s.ok) throw s.error
  return s.state
}

function start(boot: Boot): StartResult {
  const parent = parentPort as NonNullable<typeof parentPort>
  if (!announced) {
    const announce: Announce = { __scopecachePoolAnnounce: 1, threadId }
    parent.postMessage(announce)
    announced = true
  }
  let cache: ScopeCache
  try {
    cache = ScopeCache.attach(boot.handle)
  } catch (error) {
    return { ok: false, boot, error }
  }
  const { port1, port2 } = new MessageChannel()
  const hello: Hello = { __scopecachePoolHello: 1, threadId, port: port2 }
  parent.postMessage(hello, [port2])
  return { ok: true, state: { boot, cache, control: connect<ControlApi>(port1) } }
}

function readBoot(): unknown {
  return typeof workerData === 'object' && workerData !== null ? (workerData as Record<string, unknown>)[BOOT_KEY] : undefined
}

function isBoot(v: unknown): v is Boot {
  return typeof v === 'object' && v !== null && typeof (v as Boot).filename === 'string' && typeof (v as Boot).handle === 'object'
}
