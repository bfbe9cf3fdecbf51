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

/**
 * After an outage: writes `value` through `from` (retrying while the node is not yet back) until
 * `to` holds it. Bounded. On a loaded machine a node may lose its link again on its own (a missed
 * deadline: it flushes, never stale), so the write is repeated rather than awaited once.
 */
export async function convergeOn(from: CoherentCache, to: CoherentCache[], scope: string, id: string, value: string, ms = 20_000): Promise<{ version: number } | null> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    let w: { version: number }
    try {
      w = await from.upsert(scope, id, value)
    } catch (e) {
      if ((e as { code?: string }).code !== 'unavailable') throw e
      await new Promise((r) => setTimeout(r, 50))
      continue
    }
    if (await until(() => to.every((n) => n.get(scope, { id })?.payload === value), 3000)) return w
  }
  return null
}
