/**
 * Read counts, kept per thread and folded into the scope's shared counters: the first read of a
 * scope by this thread is published at once, later ones every 256, so the read hot path touches
 * no shared cache line (a shared counter costs 4–5× under contention).
 *
 * In a store with whenFull 'evict' a read also sets the scope's access bit for the CLOCK
 * (evict.ts) — with a plain load first and a store only when it is clear, so a scope read again
 * and again writes nothing shared until the eviction hand has passed it. Other stores pay a
 * field load and a branch that always goes the same way.
 */
import { S_CLOCK, S_GEN, S_LAST_ACCESS_TS_F, S_READS_HI, S_READS_LO, SCOPE_WORDS } from './layout.js'
import { nowMicros } from './clock.js'

export class ReadTally {
  private tally = new Int32Array(0)
  private tallyGen = new Int32Array(0)

  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly scopesW: number,
    private readonly scopeSlots: number,
    private readonly evict: boolean,
  ) {}

  /** One read of the scope in `slot` (generation `gen`). */
  count(slot: number, gen: number): void {
    // the common case, small enough for the read paths to inline: a count in 1..255 goes up by one
    if (!this.evict && slot < this.tally.length && this.tallyGen[slot] === gen) {
      const c = this.tally[slot]
      if (c > 0 && c < 256) {
        this.tally[slot] = c + 1
        return
      }
    }
    this.countSlow(slot, gen)
  }

  private countSlow(slot: number, gen: number): void {
    if (this.evict) {
      const w = this.scopesW + slot * SCOPE_WORDS + S_CLOCK
      if (this.i32[w] === 0) Atomics.store(this.i32, w, 1)
    }
    if (slot >= this.tally.length) this.grow(slot)
    if (this.tallyGen[slot] !== gen) {
      this.tallyGen[slot] = gen
      this.tally[slot] = 0
    }
    const c = ++this.tally[slot]
    if (c === 1) this.publish(slot, gen, 1)
    else if (c === 257) {
      this.publish(slot, gen, 256)
      this.tally[slot] = 1
    }
  }

  /** Publishes every count not yet folded in (before stats and listings, and at close). */
  flush(): void {
    for (let s = 0; s < this.tally.length; s++) {
      if (this.tally[s] > 1) {
        this.publish(s, this.tallyGen[s], this.tally[s] - 1)
        this.tally[s] = 1
      }
    }
  }

  private grow(slot: number): void {
    const n = Math.min(this.scopeSlots, Math.max(64, (slot + 1) * 2))
    const t = new Int32Array(n)
    const g = new Int32Array(n)
    t.set(this.tally)
    g.set(this.tallyGen)
    this.tally = t
    this.tallyGen = g
  }

  private publish(slot: number, gen: number, n: number): void {
    const rec = this.scopesW + slot * SCOPE_WORDS
    if (Atomics.load(this.i32, rec + S_GEN) !== gen) return
    const before = Atomics.add(this.i32, rec + S_READS_LO, n) >>> 0
    if (before + n > 0xffffffff) Atomics.add(this.i32, rec + S_READS_HI, 1)
    this.f64[(rec >> 1) + S_LAST_ACCESS_TS_F] = nowMicros()
  }
}
