/**
 * The TLSF allocator (src/alloc.ts) against a plain reference: fast-check command sequences of
 * alloc (charged or pending) and free, with the free lists now and then rebuilt from the block
 * chain as the reaper does after a dead holder. After every command: live blocks never overlap
 * and each is big enough; the byte counters equal the model's sums and a walk of the heap;
 * an allocation fails exactly when the model says the budget is exhausted; blocks freed as runs
 * (freeSome with `runs`, as warm frees the items it replaced) count like blocks freed one by one.
 * At the end everything is freed and the full invariant checker must find one coalesced, fully
 * free heap.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ALLOC_OVER_BUDGET, CHARGED, PENDING } from '../src/alloc.js'
import { freeSome } from '../src/heap-frees.js'
import { countUsed, rebuildFreeLists } from '../src/heap-walk.js'
import { INTERNALS } from '../src/internals.js'
import { ScopeCache } from '../src/index.js'
import { checkInvariants } from '../src/internals.js'
import { blockBytes, H_CHARGED_B8, H_PENDING_B8, TAG_ITEM } from '../src/layout.js'

const BUDGET = 64 * 1024

interface Model {
  live: Map<number, { size: number; pending: boolean }>
  charged: number
  pending: number
}
interface Real {
  cache: ScopeCache
}

class Alloc implements fc.Command<Model, Real> {
  constructor(readonly n: number, readonly pending: boolean) {}
  check(): boolean {
    return true
  }
  run(m: Model, r: Real): void {
    const { heap } = r.cache[INTERNALS]()
    const ref = heap.alloc(this.n, TAG_ITEM, this.pending ? PENDING : CHARGED)
    const need = blockBytes(this.n)
    if (ref <= 0) {
      // over budget only when the model says so; "no space" cannot happen: the heap is 2× the budget
      expect(ref).toBe(ALLOC_OVER_BUDGET)
      expect(this.pending).toBe(false)
      expect(m.charged + need).toBeGreaterThan(BUDGET)
      return
    }
    const size = heap.sizeOf(ref)
    expect(size).toBeGreaterThanOrEqual(need)
    expect(size - need).toBeLessThan(16) // at most a remainder too small to split
    for (const [other, o] of m.live) expect(ref * 8 + size <= other * 8 || other * 8 + o.size <= ref * 8).toBe(true)
    m.live.set(ref, { size, pending: this.pending })
    if (this.pending) m.pending += size
    else m.charged += size
    agree(m, r)
  }
  toString(): string {
    return `alloc(${this.n}${this.pending ? ', pending' : ''})`
  }
}

class Free implements fc.Command<Model, Real> {
  constructor(readonly k: number) {}
  check(m: Readonly<Model>): boolean {
    return m.live.size > 0
  }
  run(m: Model, r: Real): void {
    const ref = [...m.live.keys()][this.k % m.live.size]
    const b = m.live.get(ref) as { size: number; pending: boolean }
    r.cache[INTERNALS]().heap.free(ref)
    m.live.delete(ref)
    if (b.pending) m.pending -= b.size
    else m.charged -= b.size
    agree(m, r)
  }
  toString(): string {
    return `free(#${this.k})`
  }
}

/** Frees up to `n` live blocks in address order from the k-th with freeSome(…, runs): neighbours of one kind go as one block. */
class FreeRuns implements fc.Command<Model, Real> {
  constructor(readonly k: number, readonly n: number) {}
  check(m: Readonly<Model>): boolean {
    return m.live.size > 0
  }
  run(m: Model, r: Real): void {
    const sorted = [...m.live.keys()].sort((a, b) => a - b)
    const refs = sorted.slice(this.k % sorted.length, (this.k % sorted.length) + this.n)
    expect(freeSome(r.cache[INTERNALS]().heap, Int32Array.from(refs), true)).toBe(refs.length)
    for (const ref of refs) {
      const b = m.live.get(ref) as { size: number; pending: boolean }
      m.live.delete(ref)
      if (b.pending) m.pending -= b.size
      else m.charged -= b.size
    }
    agree(m, r)
  }
  toString(): string {
    return `freeRuns(#${this.k}, ${this.n})`
  }
}

class Rebuild implements fc.Command<Model, Real> {
  check(): boolean {
    return true
  }
  run(m: Model, r: Real): void {
    rebuildFreeLists(r.cache[INTERNALS]().v.i32)
    agree(m, r)
  }
  toString(): string {
    return 'rebuildFreeLists()'
  }
}

/** The counters and a heap walk agree with the model; charged bytes include this thread's ready blocks (alloc.ts takeReady). */
function agree(m: Model, r: Real): void {
  const { v, heap } = r.cache[INTERNALS]()
  const { i32 } = v
  expect(i32[H_CHARGED_B8] * 8).toBe(m.charged + heap.readyBytesHeld)
  expect(i32[H_PENDING_B8] * 8).toBe(m.pending)
  const walk = countUsed(i32)
  expect(walk.charged8 * 8).toBe(m.charged + heap.readyBytesHeld)
  expect(walk.pending8 * 8).toBe(m.pending)
}

describe('allocator vs a reference model', () => {
  it('alloc/free/rebuild sequences keep blocks disjoint and the counters exact', () => {
    const commands = [
      fc.tuple(fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 121, max: 9000 })), fc.boolean()).map(([n, p]) => new Alloc(n, p)),
      fc.nat().map((k) => new Free(k)),
      fc.nat().map((k) => new Free(k)),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })).map(([k, n]) => new FreeRuns(k, n)),
      fc.constant(new Rebuild()),
    ]
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 200 }), (cmds) => {
        const cache = ScopeCache.create({ maxStoreBytes: BUDGET })
        const m: Model = { live: new Map(), charged: 0, pending: 0 }
        const r: Real = { cache }
        fc.modelRun(() => ({ model: m, real: r }), cmds)
        for (const ref of [...m.live.keys()]) cache[INTERNALS]().heap.free(ref)
        cache[INTERNALS]().heap.releaseReady()
        const report = checkInvariants(cache) // one coalesced free heap, counters at zero
        expect(report.usedBlocks).toBe(0)
        cache.close()
      }),
      { numRuns: 150 },
    )
  })
})
