/**
 * Listener threads hand their writes to the coherent node in the main thread (one node per
 * process: one consumer of the group's streams, one connection): a write request becomes a
 * `write` message, the main thread runs it on the node and posts back the result or the error
 * (its wire form, so the code survives). Payloads travel as their JSON text or bytes and become
 * `rawJson` again on the other side (a class instance does not survive structured cloning).
 */
import type { MessagePort } from 'node:worker_threads'
import { RawJson, rawJson, ScopeCacheError } from '@scopecache/core'
import type { WriteGate } from './coherent-writes.js'
import type { ToListener, ToSupervisor } from './server-protocol.js'

const CALLS = ['append', 'upsert', 'update', 'delete', 'invalidate', 'trim', 'dropScope', 'version'] as const
type Call = (typeof CALLS)[number]

/** Which argument of a call is the payload. */
const PAYLOAD_AT: Partial<Record<Call, number>> = { append: 1, upsert: 2, update: 2 }

/** A listener thread's WriteGate: each call a message to the main thread. */
export function gateProxy(port: MessagePort): { gate: WriteGate; settle(m: ToListener): void } {
  let next = 0
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()
  const call = (name: Call) => (...args: unknown[]): Promise<never> => {
    const at = PAYLOAD_AT[name]
    if (at !== undefined) {
      const json = (args[at] as RawJson).json
      // a view of the request body: cloning it would copy its whole buffer, so copy just its bytes
      args[at] = typeof json === 'string' ? json : new Uint8Array(json)
    }
    const id = ++next
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      port.postMessage({ type: 'write', id, call: name, args } satisfies ToSupervisor)
    })
  }
  const gate = Object.fromEntries(CALLS.map((c) => [c, call(c)])) as unknown as WriteGate
  return {
    gate,
    settle(m) {
      if (m.type !== 'write-result') return
      const w = waiting.get(m.id)
      waiting.delete(m.id)
      if (w === undefined) return
      if (m.ok) w.resolve(m.value)
      else w.reject(typeof m.error === 'string' ? new Error(m.error) : ScopeCacheError.fromWire(m.error))
    },
  }
}

/** The main thread: runs one listener's write on the node and answers it. */
export function serveGate(gate: WriteGate, m: Extract<ToSupervisor, { type: 'write' }>, answer: (r: ToListener) => void): void {
  const name = m.call as Call
  if (!CALLS.includes(name)) return answer({ type: 'write-result', id: m.id, ok: false, error: `unknown call ${m.call}` })
  const args = m.args
  const at = PAYLOAD_AT[name]
  if (at !== undefined) args[at] = rawJson(args[at] as string | Uint8Array)
  let p: Promise<unknown>
  try {
    p = (gate[name] as (...a: unknown[]) => Promise<unknown>)(...args)
  } catch (e) {
    p = Promise.reject(e)
  }
  p.then(
    (value) => answer({ type: 'write-result', id: m.id, ok: true, value }),
    (e) => answer({ type: 'write-result', id: m.id, ok: false, error: e instanceof ScopeCacheError ? e.toWire() : String((e as Error)?.message ?? e) }),
  )
}
