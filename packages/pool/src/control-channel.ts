/**
 * The only file that touches comlink: expose the owner's control API on one MessagePort and
 * wrap it on the other. comlink is kept off the hot path (reads go straight to shared memory)
 * and behind this adapter, so its quirks stay here: Node ports need `nodeEndpoint`; comlink
 * closes only ports it recognises as DOM-style, so the owner closes each Node port itself; and a
 * wrapped proxy must be released (comlink #63), which the worker does when its port closes.
 * Both ends are unref'd: the channel never keeps a thread or process alive.
 */
import type { MessagePort } from 'node:worker_threads'
import { expose, releaseProxy, wrap, type Remote } from 'comlink'
import nodeAdapter from 'comlink/dist/umd/node-adapter.js'

// A CommonJS module: Node's default import is its module.exports, the function itself.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default

export interface ClientChannel<T> {
  readonly remote: Remote<T>
  /** Resolves when the port closed (the owner closes it when the pool closes). */
  readonly closed: Promise<void>
  readonly isOpen: boolean
}

/** Owner side: answer calls arriving on `port` with `api`. Unref'd: it never keeps a process alive. */
export function serve(port: MessagePort, api: object): { close(): void } {
  expose(api, nodeEndpoint(port))
  port.unref()
  let closed = false
  return {
    close() {
      if (closed) return
      closed = true
      port.close()
    },
  }
}

/**
 * Worker side: a typed proxy for the API served at the other end of `port`. When the port
 * closes, the proxy is released (comlink then refuses further calls instead of queueing them).
 */
export function connect<T>(port: MessagePort): ClientChannel<T> {
  const remote = wrap<T>(nodeEndpoint(port))
  port.unref()
  let open = true
  const closed = new Promise<void>((resolve) => port.once('close', () => {
    open = false
    remote[releaseProxy]() // its RELEASE message goes nowhere (the port is closed): nothing pends
    resolve()
  }))
  return {
    remote,
    closed,
    get isOpen() {
      return open
    },
  }
}
