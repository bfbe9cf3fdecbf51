/**
 * A listener thread: attaches to the store, binds its own node:http server (on a port shared with
 * the other threads through SO_REUSEPORT, or on the Unix socket), answers requests straight from
 * shared memory, and on `shutdown` drains and exits. It never restarts itself: if it dies, the
 * supervisor notices the `exit`, reaps its locks (`cache.watch`) and starts a new one.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { createRequestListener } from './server-handler.js'
import { closeGracefully, createHardenedServer } from './server-http.js'
import { listenTcp, listenUnix, ListenError } from './listen.js'
import { createLogger } from './server-log.js'
import { gateProxy } from './coherent-gate.js'
import type { ListenerData, ToListener, ToSupervisor } from './server-protocol.js'

const data = workerData as ListenerData
const port = parentPort!
const post = (m: ToSupervisor) => port.postMessage(m)

const log = createLogger(data.logLevel, { thread: data.index })
const cache = ScopeCache.attach(data.handle)
const gate = data.coherenceBuffer === undefined ? undefined : gateProxy(port)
const server = createHardenedServer(
  createRequestListener(cache, { threadIndex: data.index, metricsBuffer: data.metricsBuffer, logger: log, writes: gate?.gate, coherenceBuffer: data.coherenceBuffer }),
  data.limits,
  log,
)

port.on('message', async (m: ToListener) => {
  if (m.type === 'write-result') return gate?.settle(m)
  if (m.type !== 'shutdown') return
  await closeGracefully(server, m.graceMs)
  cache.close()
  process.exit(0)
})

try {
  const t = data.target
  let bound: number | undefined
  if (t.kind === 'tcp') bound = await listenTcp(server, t.host, t.port, t.reusePort)
  else await listenUnix(server, t.path, t.mode)
  server.on('error', (err) => log.error({ err }, 'server error')) // after listening: e.g. EMFILE at accept
  post({ type: 'listening', port: bound })
} catch (err) {
  const e = err instanceof ListenError ? err : new ListenError('unknown', String(err))
  cache.close()
  post({ type: 'listen-failed', code: e.code, message: e.message }) // the supervisor ends this thread
}
