/**
 * Runs `scopecache serve`: starts the server, prints the one "listening" line, and turns SIGINT /
 * SIGTERM into a graceful stop (a second signal exits at once). A signal during boot aborts the
 * init command and exits 0 without ever opening the public listener.
 */
import { ScopeCacheError } from '@scopecache/core'
import { createLogger, ServerStartError, startServer, type RunningServer, type ServerOptions } from '@scopecache/http/server'
import { UsageError } from './serve-args.js'

/** The listener-thread entry bundled next to this file (esbuild cannot follow `new Worker(new URL(…))`). */
const WORKER_URL = new URL('./server-worker.mjs', import.meta.url)

export async function serve(options: ServerOptions): Promise<number> {
  const log = createLogger(options.logLevel ?? 'info')
  const boot = new AbortController()
  let server: RunningServer | undefined
  let stopping: Promise<number> | undefined

  const stop = (signal: NodeJS.Signals): Promise<number> => {
    if (stopping !== undefined) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    log.info({ signal }, 'shutting down')
    boot.abort()
    stopping = (server?.close() ?? Promise.resolve()).then(() => 0)
    return stopping
  }
  const signalled = new Promise<number>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(sig).then(resolve))
  })

  let fatal: (code: number) => void = () => {}
  const failed = new Promise<number>((resolve) => { fatal = resolve })

  try {
    server = await startServer({
      ...options,
      logger: log,
      signal: boot.signal,
      workerUrl: WORKER_URL,
      onFatal: (err) => {
        log.fatal({ err: err.message }, 'server failed')
        fatal(1)
      },
    })
  } catch (err) {
    if (err instanceof ServerStartError && err.code === 'aborted') return stopping ?? 0
    if (err instanceof ScopeCacheError && err.code === 'invalid_input') throw new UsageError(err.message)
    if (err instanceof ServerStartError && (err.code === 'remote_refused' || err.code === 'invalid_option')) {
      throw new UsageError(err.message)
    }
    log.fatal({ err: (err as Error).message, code: (err as { code?: string }).code }, 'cannot start')
    return 1
  }
  if (stopping !== undefined) {
    // a signal arrived while the listeners were starting
    await server.close()
    return 0
  }
  const n = server.threads
  process.stdout.write(`scopecache listening on ${server.address} (${n} thread${n === 1 ? '' : 's'})\n`)
  const code = await Promise.race([signalled, failed])
  if (code !== 0) await server.close()
  return code
}
