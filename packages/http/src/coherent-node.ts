/**
 * `startServer({ redis })`: the server's store becomes a node of a coherent group
 * (@scopecache/redis). The node runs in the main thread; its figures are copied for /metrics
 * into a shared buffer (coherence-metrics.ts) four times a second.
 */
import type { ScopeCache } from '@scopecache/core'
import { createCoherentCache, type CoherenceMode } from '@scopecache/redis'
import type { WriteGate } from './coherent-writes.js'
import { writeCoherence } from './coherence-metrics.js'
import type { Logger } from './server-log.js'

export interface CoherentServerOptions {
  /** redis://host:port */
  url: string
  group: string
  /** Default 'invalidate'. */
  mode?: CoherenceMode
  maxStaleMs?: number
  shards?: number
}

export async function startCoherentNode(cache: ScopeCache, o: CoherentServerOptions, buffer: SharedArrayBuffer, log: Logger): Promise<{ gate: WriteGate; buffer: SharedArrayBuffer; close(): Promise<void> }> {
  const node = await createCoherentCache({
    cache, redis: o.url, group: o.group, mode: o.mode, maxStaleMs: o.maxStaleMs, shards: o.shards,
    log: (message) => log.warn({ group: o.group }, message),
  })
  const copy = (): void => writeCoherence(buffer, node.stats().coherence)
  copy()
  const timer = setInterval(copy, 250)
  timer.unref()
  log.info({ group: o.group, mode: node.mode, url: o.url }, 'joined the coherent group')
  return {
    gate: node,
    buffer,
    async close() {
      clearInterval(timer)
      await node.close()
      copy()
    },
  }
}
