/**
 * The optional native package `@scopecache/shm`, loaded on first use: only stores in shared memory
 * (ScopeCache.open, or a handle of one attached in a worker) need it, so the core does not depend on
 * it. Without it, or without a binary for this Node, a clear `invalid_input` names the package.
 */
import { createRequire } from 'node:module'
import { ScopeCacheError } from './errors.js'

export interface ShmBinding {
  create(name: string, bytes: number): SharedArrayBuffer
  open(name: string): { buffer?: SharedArrayBuffer; size: number; uid: number; mode: number; regular: boolean }
  unlink(name: string): boolean
  futexWait(i32: Int32Array, index: number, expected: number, ms: number): number
  futexWake(i32: Int32Array, index: number, count: number): number
  startTime(pid: number): number
  alive(pid: number): boolean
  pid(): number
  uid(): number
}

export const SHM_PACKAGE = '@scopecache/shm'

let binding: ShmBinding | undefined

export function loadShm(): ShmBinding {
  if (binding !== undefined) return binding
  try {
    binding = createRequire(import.meta.url)(SHM_PACKAGE) as ShmBinding
  } catch (e) {
    const err = e as { code?: string; message?: string }
    const missing = err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(SHM_PACKAGE)
    throw new ScopeCacheError('invalid_input', missing
      ? `scopecache: invalid input: a store in shared memory (ScopeCache.open) needs the optional package ${SHM_PACKAGE}: install it beside @scopecache/core`
      : `scopecache: invalid input: the optional package ${SHM_PACKAGE} could not be loaded: ${String(err.message)}`)
  }
  return binding
}

/** This process's start time (clock ticks since boot), read once: with the pid it names this process for good. */
let ownStart = -1
export function processStart(shm: ShmBinding): number {
  if (ownStart < 0) ownStart = shm.startTime(process.pid)
  return ownStart
}
