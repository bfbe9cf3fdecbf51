/**
 * Checks shared by the random-kill tests (recovery.test.ts, recovery-weblocks.test.ts), whose
 * survivor worker (fixtures/recovery-stream.mjs) parks on request: stop[1] = 1 asks it to park,
 * it answers 2, and 0 lets it go on.
 */
import { expect } from 'vitest'
import type { ScopeCache } from '../../packages/core/dist/index.js'
import { checkInvariants } from '../../packages/core/dist/internals.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Runs the invariant checker while the survivor is parked (the checker needs a quiet store). */
export async function checkWhileParked(cache: ScopeCache, stop: Int32Array, label: string): Promise<void> {
  Atomics.store(stop, 1, 1)
  for (let i = 0; i < 5000 && Atomics.load(stop, 1) !== 2; i++) await sleep(1)
  expect(() => checkInvariants(cache), label).not.toThrow()
  Atomics.store(stop, 1, 0)
  Atomics.notify(stop, 1)
}

/** After the survivor finished: no errors, invariants hold, and every write it acknowledged is there, in order. */
export function expectSurvivorWhole(cache: ScopeCache, result: { errors: unknown[]; acked: number }): void {
  expect(result.errors).toEqual([])
  expect(() => checkInvariants(cache)).not.toThrow()
  const mine = cache.head('survivor', { limit: 10_000, raw: true }).items.map((it) => JSON.parse(it.payload as string).n)
  expect(mine).toEqual(Array.from({ length: result.acked }, (_, k) => k))
}
