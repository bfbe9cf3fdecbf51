/**
 * Scope name → scope slot. The scope table is a fixed array of 128-byte records (layout.ts);
 * the directory is an open-addressing hash of [hash, slot+1] with linear probing. Creating,
 * dropping or swapping scopes happens under the directory lock with H_DIR_VER odd; lookups are
 * optimistic: probe, then check H_DIR_VER did not move. A slot's S_GEN and S_STATE change only
 * while H_DIR_VER is odd, so a (slot, gen) pair read in a validated window names one scope.
 *
 * Each thread keeps a small Map name → (slot, gen) in front of the directory: a hit costs one
 * Map.get plus one load of S_GEN, and any drop or reuse of the slot bumps S_GEN, so a stale
 * entry is noticed on use.
 */
import { Buffer } from 'node:buffer'
import type { Heap } from './alloc.js'
import { acquire, release, type Budget, type Liveness } from './lock.js'
import { hashKey, utf8Equals } from './keys.js'
import {
  DIR_TOMB, H_DIR_LOCK, H_DIR_USED, H_DIR_VER, H_SCOPE_FREE, H_SCOPE_HWM, S_GEN, S_HASH, S_NAME_LEN,
  S_NAME_REF, S_NEXT_FREE, S_STATE, SCOPE_LIVE, SCOPE_WORDS,
} from './layout.js'
import { WEAK_ORDER, type Config, type Views } from './memory.js'

const GEN_UNIT = 2 ** 22 // cache value = slot + gen × GEN_UNIT
const CACHE_MAX = 65_536
const MAX_OPTIMISTIC = 200
/** What `resolve` returns on a closed handle. */
export const CLOSED = -3

export class Directory {
  private readonly i32: Int32Array
  private readonly u8: Uint8Array
  private readonly names = new Map<string, number>()
  /** gen of the slot the last `resolve`/`find` returned. */
  gen = 0
  private closed = false

  constructor(
    v: Views,
    private readonly cfg: Config,
    private readonly live: Liveness,
    private readonly token: number,
    /** A word of this thread's slot, for the weak-order fence (memory.ts WEAK_ORDER). */
    private readonly fenceWord: number,
    private readonly budget: Budget,
  ) {
    this.i32 = v.i32
    this.u8 = v.u8
  }

  rec(slot: number): number {
    return this.cfg.scopesW + slot * SCOPE_WORDS
  }

  /** Slot of a live scope (and its gen in `this.gen`), or -1. Lock-free. */
  resolve(name: string): number {
    const c = this.names.get(name)
    if (c !== undefined) {
      const slot = c % GEN_UNIT
      const gen = (c - slot) / GEN_UNIT
      if (Atomics.load(this.i32, this.rec(slot) + S_GEN) === gen) {
        this.gen = gen
        return slot
      }
      this.names.delete(name)
    }
    // checked only on a name-cache miss, so a closed handle costs the hot path nothing
    if (this.closed) return CLOSED
    const slot = this.find(name)
    if (slot >= 0) {
      if (this.names.size >= CACHE_MAX) this.names.clear()
      this.names.set(name, slot + this.gen * GEN_UNIT)
    }
    return slot
  }

  /** The handle was closed: no name resolves any more (resolve returns CLOSED). */
  close(): void {
    this.closed = true
    this.names.clear()
  }

  /** Forgets a cached name (its slot turned out stale). */
  forget(name: string): void {
    this.names.delete(name)
  }

  /** Directory probe validated against H_DIR_VER; falls back to the lock if writers keep moving. */
  find(name: string): number {
    const { i32 } = this
    const h = this.hash(name)
    for (let attempt = 0; attempt < MAX_OPTIMISTIC; attempt++) {
      const dv = Atomics.load(i32, H_DIR_VER)
      if ((dv & 1) !== 0) continue
      const slot = this.probe(name, h)
      const gen = slot >= 0 ? i32[this.rec(slot) + S_GEN] : 0
      if (WEAK_ORDER) Atomics.add(i32, this.fenceWord, 0)
      if (Atomics.load(i32, H_DIR_VER) === dv) {
        this.gen = gen
        return slot
      }
    }
    this.lock()
    try {
      return this.findLocked(name)
    } finally {
      this.unlock()
    }
  }

  findLocked(name: string): number {
    const slot = this.probe(name, this.hash(name))
    this.gen = slot >= 0 ? this.i32[this.rec(slot) + S_GEN] : 0
    return slot
  }

  hash(name: string): number {
    return hashKey(name, this.cfg.seed)
  }

  /** Every read is bounds-checked: a racing writer may leave anything here until validation. */
  private probe(name: string, h: number): number {
    const { i32, cfg } = this
    const mask = cfg.dirCap - 1
    for (let n = 0, i = h & mask; n < cfg.dirCap; n++, i = (i + 1) & mask) {
      const e = cfg.dirW + i * 2
      const s1 = i32[e + 1]
      if (s1 === 0) return -1
      if (s1 > 0 && i32[e] === h && s1 <= cfg.scopeSlots) {
        const r = this.rec(s1 - 1)
        const nameB = i32[r + S_NAME_REF] * 8 + 8
        const len = i32[r + S_NAME_LEN]
        if (len > 0 && len <= 1024 && nameB > 8 && nameB + len <= this.u8.length && utf8Equals(this.u8, nameB, len, name)) return s1 - 1
      }
    }
    return -1
  }

  lock(): void {
    acquire(this.i32, H_DIR_LOCK, this.token, this.cfg.lockLeaseMs, this.live, this.budget)
  }

  unlock(): void {
    release(this.i32, H_DIR_LOCK, this.token)
  }

  /** Makes lookups retry until `endChange` (directory lock held). */
  beginChange(): void {
    Atomics.add(this.i32, H_DIR_VER, 1)
  }

  endChange(): void {
    Atomics.add(this.i32, H_DIR_VER, 1)
  }

  /** Inserts a slot (lock held, change begun). */
  insertLocked(slot: number, h: number): void {
    const { i32, cfg } = this
    i32[this.rec(slot) + S_HASH] = h
    const mask = cfg.dirCap - 1
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = cfg.dirW + i * 2
      const s1 = i32[e + 1]
      if (s1 === 0 || s1 === DIR_TOMB) {
        if (s1 === 0) i32[H_DIR_USED]++
        i32[e] = h
        i32[e + 1] = slot + 1
        return
      }
    }
  }

  /** Removes a slot's entry (lock held, change begun); rehashes when tombstones pile up. */
  removeLocked(slot: number): void {
    const { i32, cfg } = this
    const h = i32[this.rec(slot) + S_HASH]
    const mask = cfg.dirCap - 1
    for (let n = 0, i = h & mask; n < cfg.dirCap; n++, i = (i + 1) & mask) {
      const e = cfg.dirW + i * 2
      if (i32[e + 1] === 0) return
      if (i32[e + 1] === slot + 1) {
        i32[e + 1] = DIR_TOMB
        break
      }
    }
    if (i32[H_DIR_USED] * 4 > cfg.dirCap * 3) this.rehashLocked()
  }

  /** Clears every entry (lock held, change begun). */
  clearLocked(): void {
    const { i32, cfg } = this
    i32.fill(0, cfg.dirW, cfg.dirW + cfg.dirCap * 2)
    i32[H_DIR_USED] = 0
  }

  private rehashLocked(): void {
    const { i32 } = this
    const live: number[] = []
    const mask = this.cfg.dirCap - 1
    for (let i = 0; i <= mask; i++) {
      const s1 = i32[this.cfg.dirW + i * 2 + 1]
      if (s1 > 0) live.push(s1 - 1)
    }
    this.clearLocked()
    for (const slot of live) this.insertLocked(slot, i32[this.rec(slot) + S_HASH])
  }

  /** Takes a free scope slot (directory lock held); -1 when the table is full. */
  takeSlotLocked(): number {
    const { i32 } = this
    const head = i32[H_SCOPE_FREE]
    if (head !== 0) {
      i32[H_SCOPE_FREE] = i32[this.rec(head - 1) + S_NEXT_FREE]
      return head - 1
    }
    if (i32[H_SCOPE_HWM] >= this.cfg.scopeSlots) return -1
    return i32[H_SCOPE_HWM]++
  }

  /** Returns a slot to the free stack (directory lock held, slot already marked free). */
  putSlotLocked(slot: number): void {
    this.i32[this.rec(slot) + S_NEXT_FREE] = this.i32[H_SCOPE_FREE]
    this.i32[H_SCOPE_FREE] = slot + 1
  }

  /**
   * Rebuilds the hash and the free slot stack from the scope records (directory lock taken from a
   * dead thread that was inside a change): a record is LIVE only once it is complete (initRecord
   * sets S_STATE last), so the records are the truth. Returns the number of live scopes.
   */
  rebuildLocked(): number {
    const { i32 } = this
    this.clearLocked()
    i32[H_SCOPE_FREE] = 0
    const hwm = i32[H_SCOPE_HWM]
    let live = 0
    for (let s = hwm - 1; s >= 0; s--) {
      if (i32[this.rec(s) + S_STATE] === SCOPE_LIVE) {
        // S_HASH may be stale if the change died between initRecord and insertLocked
        this.insertLocked(s, this.hash(this.nameAt(s)))
        live++
      } else this.putSlotLocked(s)
    }
    return live
  }

  /** A scope's name, decoded from its name block. */
  nameAt(slot: number): string {
    const r = this.rec(slot)
    const a = this.i32[r + S_NAME_REF] * 8 + 8
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + a, this.i32[r + S_NAME_LEN]).toString('utf8')
  }

  /** Live slots, in slot order (for store-wide operations; directory lock held or a snapshot). */
  liveSlots(): number[] {
    const out: number[] = []
    const hwm = Atomics.load(this.i32, H_SCOPE_HWM)
    for (let s = 0; s < hwm; s++) if (Atomics.load(this.i32, this.rec(s) + S_STATE) === SCOPE_LIVE) out.push(s)
    return out
  }

  /** Writes a scope name into a new heap block; returns its ref, or ≤ 0 from the allocator. */
  static writeName(heap: Heap, v: Views, name: string, bytes: number, tag: number, mode: 0 | 1): number {
    const ref = heap.alloc(bytes, tag, mode)
    if (ref > 0) v.buf.write(name, ref * 8 + 8, bytes, 'utf8')
    return ref
  }
}
