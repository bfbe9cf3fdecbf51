import { ScopeCache } from '@scopecache/core'
import { createCoherentCache, type CoherentCache, type CoherentCacheOptions } from '../src/index.js'

/** Polls `cond` every 5 ms for at most `ms`; returns whether it became true (bounded: never hangs a test). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms
  for (;;) {
    if (await cond()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** n nodes of one group in this process, each with its own store; logs collected per node. */
export async function nodes(url: string, n: number, opts: Partial<CoherentCacheOptions> = {}): Promise<{ nodes: CoherentCache[]; logs: string[][]; close(): Promise<void> }> {
  const logs: string[][] = []
  const list: CoherentCache[] = []
  for (let i = 0; i < n; i++) {
    const log: string[] = []
    logs.push(log)
    list.push(await createCoherentCache({ cache: ScopeCache.create({ maxStoreBytes: 8 << 20 }), redis: url, group: 'g', nodeId: `n${i}`, log: (m) => log.push(m), ...opts }))
  }
  return {
    nodes: list,
    logs,
    close: async () => {
      for (const node of list) {
        await node.close()
        node.cache.close()
      }
    },
  }
}
