/**
 * The only file that touches comlink: expose the owner's control API on one MessagePort and
 * wrap it on the other. comlink is kept off the hot path (reads go straight to shared memory)
 * and behind this adapter, so its quirks stay here: Node ports need `nodeEndpoint`, a wrapped
 * proxy must be released or it pins its port (comlink #63), and comlink closes only ports it
 * recognises as DOM-style, so both ends close their Node port themselves.
 */
import type { MessagePort } from 'node:worker_threads'
import { expose, releaseProxy, wrap, type Remote } from 'comlink'
import nodeAdapter from 'comlink/dist/umd/node-adapter.js'

// A CommonJS module: Node's default import is its module.exports, the function itself.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default

export interface ClientChannel<T> {
  readonly remote: Remote<T>
  /** Resolves when the port closed (either end). */
  readonly closed: Promise<void>
  /** Releases the proxy and closes the port; idempotent. */
  close(): void
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

/** Worker side: a typed proxy for the API served at the other end of `port`. */
export function connect<T>(port: MessagePort): ClientChannel<T> {
  const remote = wrap<T>(nodeEndpoint(port))
  port.unref()
  let closed = false
  const whenClosed = new Promise<void>((resolve) => port.once('close', () => {
    closed = true
    resolve()
  }))
  return {
    remote,
    closed: whenClosed,
    close() {
      if (closed) return
      closed = true
      // releaseProxy posts a RELEASE and waits for its answer; the port closes right after,
      // so the owner's expose() listener is dropped by the close either way.
      remote[releaseProxy]()
      port.close()
    },
  }
}
