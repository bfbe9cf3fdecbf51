/**
 * Store checks that work against any target: in-process targets expose their store (exact
 * `stats()`, `checkInvariants`), out-of-process ones (the CLI) only their HTTP API (`/stats`).
 */
import type { ScopeCache } from '../../packages/core/dist/index.js'
import { checkInvariants } from '../../packages/core/dist/internals.js'
import type { Target } from './http-target.js'

/** Items in the target's store. */
export async function storeItems(t: Target): Promise<number> {
  if (t.cache) return t.cache.stats().items
  const r = await t.request('GET', '/stats')
  return (JSON.parse(r.bodyText) as { items: number }).items
}

/** Runs the invariant checker when the store is in this process (a no-op otherwise). */
export function invariants(t: Target): void {
  if (t.cache) checkInvariants(t.cache as ScopeCache)
}
