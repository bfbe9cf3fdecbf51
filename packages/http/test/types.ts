/**
 * Type tests of the HTTP package's public types, checked by `pnpm typecheck` (tsconfig.json
 * includes test/): lines marked `@ts-expect-error` must not compile. Nothing here runs.
 */
import type { ScopeCache } from '@scopecache/core'
import { ServerStartError, startServer, type ServerStartErrorCode } from '../src/server.js'

declare const cache: ScopeCache

export async function server(): Promise<void> {
  await startServer({ cache, port: 0 })
  try {
    await startServer({ port: 0 })
  } catch (e) {
    if (e instanceof ServerStartError) {
      const code: ServerStartErrorCode = e.code
      switch (code) {
        case 'invalid_option': case 'remote_refused': case 'aborted': case 'listen_failed':
        case 'EADDRINUSE': case 'EACCES': case 'EADDRNOTAVAIL': case 'EEXIST':
          break
        default: {
          const never: never = code // the union is closed: a new code must be handled above
          void never
        }
      }
      // @ts-expect-error not one of the codes
      if (e.code === 'ENOENT') return
    }
  }
  // @ts-expect-error an unknown option
  await startServer({ prot: 8080 })
}
