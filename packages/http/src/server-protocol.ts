/** Messages between the supervisor (main thread) and a listener thread. Types only. */
import type { ScopeCacheHandle, WireError } from '@scopecache/core'
import type { HttpLimits } from './server-http.js'
import type { LogLevel } from './server-log.js'

export type ListenTarget =
  | { kind: 'tcp'; host: string; port: number; reusePort: boolean }
  | { kind: 'unix'; path: string; mode: number }

/** `workerData` of a listener thread. */
export interface ListenerData {
  /** 1-based; sent back in the `x-scopecache-thread` response header. */
  index: number
  handle: ScopeCacheHandle
  metricsBuffer: SharedArrayBuffer
  target: ListenTarget
  limits: HttpLimits
  logLevel: LogLevel
  /** A node of a coherent group: writes go to the main thread (coherent-gate.ts), its figures in this buffer. */
  coherenceBuffer?: SharedArrayBuffer
}

export type ToSupervisor =
  | { type: 'listening'; port: number | undefined }
  | { type: 'listen-failed'; code: string; message: string }
  | { type: 'write'; id: number; call: string; args: unknown[] }

export type ToListener =
  | { type: 'shutdown'; graceMs: number }
  | { type: 'write-result'; id: number; ok: true; value: unknown }
  | { type: 'write-result'; id: number; ok: false; error: WireError | string }
