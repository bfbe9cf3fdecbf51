/**
 * Crash points for fault-injection tests (test/recovery.test.ts). The core calls `fault(name)` at
 * the moments where a dying thread would leave the most to repair; in production the hook is
 * null and a call costs one load and a compare. Tests set a hook (via `dist/internals.js`, by path)
 * that stops the worker at a chosen point so the test can terminate it exactly there.
 */
export type FaultPoint =
  | 'write:locked' // holds a scope lock, nothing allocated yet
  | 'insert:allocated' // the new item block exists, unpublished
  | 'insert:indexed' // new index arrays built, nothing published
  | 'publish:open' // inside a publish window: S_VER odd, indexes half-updated
  | 'write:published' // published, blocks to free not yet freed
  | 'scope:creating' // directory lock held, name block allocated, record not yet live
  | 'drop:unpublishing' // directory change open, scopes being removed
  | 'ring:dropped' // inside a drop-oldest append's publish window: item added, the oldest removed, S_VER odd
  | 'evict:locked' // an eviction holds the directory and its victims' locks, nothing changed yet
  | 'bulk:built' // warm/rebuild blocks built beside the live data, no lock held
  | 'bulk:swapping' // warm/rebuild inside its directory change
  | 'alloc:taking' // allocator lock held, a free block half-taken
  | 'alloc:splitting' // allocator lock held, a block taken for ready blocks half-split (alloc.ts refillLocked)
  | 'read:copying' // an optimistic reader between its two seqlock loads
  | 'lease:claiming' // lease table mutex held, a record's name written, token and state not yet

let hook: ((point: FaultPoint) => void) | null = null

export function setFaultHook(fn: ((point: FaultPoint) => void) | null): void {
  hook = fn
}

export function fault(point: FaultPoint): void {
  if (hook !== null) hook(point)
}
