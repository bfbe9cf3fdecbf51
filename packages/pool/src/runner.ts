/**
 * The module piscina loads in every worker of a cache pool. Loading it attaches the thread to
 * the store (worker-state.ts) and imports the default task module, so a worker is attached and
 * its module loaded before its first task. Each task names the module and export to call; a failure is
 * returned as a `TaskFailure` record instead of thrown, because piscina would structured-clone
 * a thrown error and lose its class and `code`.
 */
import { pathToFileURL } from 'node:url'
import { encodeError } from './errors.js'
import type { TaskEnvelope, TaskFailure } from './protocol.js'
import { poolWorkerStart, type StartResult } from './worker-state.js'

type Handler = (task: unknown) => unknown

const modules = new Map<string, Promise<Record<string, unknown>>>()

function load(filename: string): Promise<Record<string, unknown>> {
  let m = modules.get(filename)
  if (m === undefined) {
    m = import(pathToFileURL(filename).href) as Promise<Record<string, unknown>>
    modules.set(filename, m)
  }
  return m
}

async function handlerOf(filename: string, name: string): Promise<Handler> {
  const mod = await load(filename)
  const fn = mod[name]
  if (typeof fn !== 'function') throw new TypeError(`${filename} exports no function named '${name}'`)
  return fn as Handler
}

const first = poolWorkerStart()
if (first === undefined) throw new Error('@scopecache/pool runner: not loaded by createCachePool()')
let started: StartResult = first
// Load the task module now, before piscina calls this worker ready (piscina waits for this
// module, top-level await included): its top level runs at worker start, as with plain piscina,
// not on the first task. An import error is kept for the tasks to report, not thrown here.
if (started.ok) await load(started.state.boot.filename).catch(() => undefined)

export default async function runTask(envelope: TaskEnvelope): Promise<unknown> {
  try {
    if (!started.ok) started = poolWorkerStart() as StartResult
    if (!started.ok) throw started.error
    const fn = await handlerOf(envelope.filename, envelope.name)
    return await fn(envelope.task)
  } catch (err) {
    const failure: TaskFailure = { __scopecachePoolError: encodeError(err) }
    return failure
  }
}
