/**
 * Dead threads found without `watch`, on runtimes with Web Locks (`navigator.locks`: Node ≥ 24).
 *
 * Every attached handle requests an exclusive Web Lock named for its store and thread slot,
 * `scopecache:<store id>:<slot>:<epoch>`, and holds it until `close()`. Node keeps Web Locks in one
 * manager per process, shared by all its threads, and drops every lock a thread holds when that
 * thread ends, however it ends (terminate(), an uncaught throw, process.exit(), out of memory).
 * So a slot that is still ALIVE, whose thread took its lock (T_WLOCK = its token), and whose lock a
 * probe `request(name, { ifAvailable: true })` can get, belongs to a dead thread: it is marked DEAD
 * and reaped here (reaper.ts), exactly as `watch` would have done on 'exit'.
 *
 * Why a free lock proves death, and a held one never misleads:
 *   - the request is entered in the lock manager synchronously, inside `request()` (checked on
 *     24.21 and 26.10, and by test/recovery-weblocks.test.ts): T_WLOCK is written after it returns,
 *     before this thread can hold any store lock, so a slot that names its lock has it held;
 *   - a clean `close()` frees the slot (FREE) before it lets the Web Lock go, and a re-claimed slot
 *     has a new epoch, so a probe that finds the lock free re-checks the slot and skips it;
 *   - a `close()` after a failed write (the handle is dirty: its slot stays ALIVE so its exit gets
 *     reaped) keeps the Web Lock too, until the thread ends;
 *   - a thread that is merely slow — blocked in a long wait, an idle pool worker parked in
 *     Atomics.wait, a GC pause — still holds its lock: it is never reaped.
 *
 * When a probe runs (all from the event loop; nothing here is on the read or write path):
 *   - when a lock wait runs out (lock.ts calls Liveness.stuck): the holder is probed; a dead one is
 *     marked DEAD at once (so errors say so) and reaped in a microtask, after the failed call has
 *     unwound and released what it held, so the caller's next call finds the lock free;
 *   - every sweep interval (the lease, between 50 ms and 1 s) on an unref'd timer, every ALIVE slot:
 *     this frees the slots and PENDING blocks of dead threads that held no lock, so thread slots are
 *     recycled. The sweep also reaps slots already DEAD: a thread that never returns to its event
 *     loop (idle pool workers, sync loops) can prove a holder dead inside its lock wait (Node runs
 *     the probe's callback inside request()) but not reap it; any other attached thread does.
 * A reap here is one attempt: one that times out on a live holder is retried by the next sweep.
 * Without `navigator.locks` (Node 20, 22) this is all a no-op and `watch` is the only way.
 */
import { ScopeCacheError } from './errors.js'
import {
  H_STORE_ID, T_STATE, T_THREAD_ID, T_WLOCK, THREAD_ALIVE, THREAD_DEAD, THREAD_REAPING,
} from './layout.js'
import { reapThread } from './reaper.js'
import type { Internals } from './store.js'
import { tokenEpoch, tokenSlot, type ThreadSlots } from './threads.js'

/** The part of the Web Locks API used here. */
interface LockManagerLike {
  request(name: string, callback: (lock: unknown) => unknown): Promise<unknown>
  request(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => unknown): Promise<unknown>
}

const locks: LockManagerLike | undefined = (() => {
  const l = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  return l !== undefined && l !== null && typeof l.request === 'function' ? l : undefined
})()

/** Whether this runtime finds dead threads by itself (Node ≥ 24); otherwise only `watch` does. */
export const webLocksLiveness = locks !== undefined

const ignore = (): void => {}

/** The store's id for lock names: random, written once by whichever thread attaches first. */
function storeId(i32: Int32Array): number {
  const id = Atomics.load(i32, H_STORE_ID)
  if (id !== 0) return id
  const mine = ((Math.random() * 0xffffffff) >>> 0) | 1
  const was = Atomics.compareExchange(i32, H_STORE_ID, 0, mine)
  return was === 0 ? mine : was
}

export class WebLockLiveness {
  private readonly prefix: string
  private releaseLock: (() => void) | null = null
  private readonly timer: ReturnType<typeof setInterval>
  /** Tokens with a probe or a reap under way (a lock wait that keeps timing out probes once). */
  private readonly inFlight = new Set<number>()
  private stopped = false

  constructor(
    private readonly lm: LockManagerLike,
    private readonly i32: Int32Array,
    private readonly threads: ThreadSlots,
    private readonly token: number,
    leaseMs: number,
    private readonly internals: () => Internals,
  ) {
    this.prefix = `scopecache:${(storeId(i32) >>> 0).toString(36)}:`
    const held = new Promise<void>((resolve) => {
      this.releaseLock = resolve
    })
    // Held until close() resolves `held`, or until this thread ends. The request is entered
    // before request() returns (see above); a pending or held lock keeps no event loop alive.
    lm.request(this.nameOf(token), () => held).catch(ignore)
    Atomics.store(i32, threads.at(tokenSlot(token)) + T_WLOCK, token)
    this.timer = sweepTimer(new WeakRef(this), Math.max(50, Math.min(1000, leaseMs)))
  }

  private nameOf(token: number): string {
    return `${this.prefix}${tokenSlot(token)}:${tokenEpoch(token)}`
  }

  /** Whether `token` is the current token of an ALIVE slot whose thread took its Web Lock. */
  private watched(token: number): boolean {
    const s = tokenSlot(token)
    if (s < 0 || s >= this.threads.count) return false
    const w = this.threads.at(s)
    // Only this process's slots: Web Locks are per process, another process's lock is free here.
    return Atomics.load(this.i32, w + T_STATE) === THREAD_ALIVE && Atomics.load(this.i32, w + T_WLOCK) === token &&
      this.threads.tokenOf(s) === token && this.threads.inProcess(s)
  }

  /** A lock wait on `token` ran out: find out whether its thread is dead. May run inside that wait. */
  stuck(token: number): void {
    if (!this.stopped && token !== this.token) this.probe(token)
  }

  /**
   * From the timer: probes every other ALIVE slot, and reaps slots already DEAD (proven so by a
   * thread that could not reap: one that never returns to its event loop, or whose reap timed out)
   * or left REAPING by a reaper that died.
   */
  sweep(): void {
    if (this.stopped) return
    for (let s = 0; s < this.threads.count; s++) {
      if (!this.threads.inProcess(s)) continue // another process's thread: liveness-process.ts
      const w = this.threads.at(s)
      const state = Atomics.load(this.i32, w + T_STATE)
      if (state === THREAD_DEAD || state === THREAD_REAPING) {
        this.reap(Atomics.load(this.i32, w + T_THREAD_ID))
        continue
      }
      const token = Atomics.load(this.i32, w + T_WLOCK)
      if (token !== 0 && token !== this.token) this.probe(token)
    }
  }

  /**
   * One reap attempt, from the event loop (no call of this thread is under way). A lock that stays
   * busy past the lease (a live holder) leaves the slot DEAD: the next sweep tries again.
   */
  private reap(threadId: number): void {
    if (this.stopped) return
    const x = this.internals()
    x.budget.deadline = Date.now() + x.cfg.lockLeaseMs // one lease for the whole attempt
    try {
      reapThread(x, threadId)
    } catch (e) {
      if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout')) {
        process.emitWarning(`scopecache: recovering dead thread ${threadId} failed: ${(e as Error)?.stack ?? String(e)}`)
      }
    } finally {
      x.budget.deadline = 0
    }
  }

  private probe(token: number): void {
    if (this.inFlight.has(token) || !this.watched(token)) return
    this.inFlight.add(token)
    let proven = false
    let asked: Promise<unknown>
    try {
      // Node calls an ifAvailable callback inside request() when the lock is free; either way the
      // probe lock is given back as soon as the callback returns.
      asked = this.lm.request(this.nameOf(token), { ifAvailable: true }, (lock) => {
        proven = lock !== null && this.provenDead(token)
      })
    } catch {
      this.inFlight.delete(token) // e.g. this thread is shutting down: the next sweep asks again
      return
    }
    asked.then(() => {
      if (!proven) this.inFlight.delete(token)
    }, () => this.inFlight.delete(token))
  }

  /** The probe got `token`'s Web Lock: unless the slot changed meanwhile, its thread is dead. */
  private provenDead(token: number): boolean {
    if (!this.watched(token)) return false // closed cleanly, or re-claimed
    const threadId = Atomics.load(this.i32, this.threads.at(tokenSlot(token)) + T_THREAD_ID)
    if (!this.watched(token)) return false // re-claimed while its thread id was read
    this.threads.markDead(threadId) // a dead thread's every slot is dead; errors now say so
    // The reaper takes every lock: never from inside a call (this may run in one's lock wait).
    queueMicrotask(() => {
      this.inFlight.delete(token)
      this.reap(threadId)
    })
    return true
  }

  /** close(): stop probing; give the Web Lock back unless the slot stays ALIVE (a dirty handle). */
  stop(releaseLock: boolean): void {
    this.stopped = true
    clearInterval(this.timer)
    if (releaseLock && this.releaseLock !== null) {
      this.releaseLock()
      this.releaseLock = null
    }
  }
}

/**
 * The sweep timer holds its handle weakly: a handle dropped without close() can still be collected
 * (its slot and Web Lock then stay held until its thread ends, as an unclosed slot always did).
 * Unref'd: it never keeps a process alive.
 */
function sweepTimer(ref: WeakRef<WebLockLiveness>, ms: number): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    const live = ref.deref()
    if (live === undefined) clearInterval(timer)
    else live.sweep()
  }, ms)
  timer.unref?.()
  return timer
}

/**
 * Starts liveness for a newly attached handle (its slot already claimed): null without Web Locks.
 * Also makes the handle's lock waits report stuck holders here.
 */
export function startLiveness(
  i32: Int32Array,
  threads: ThreadSlots,
  token: number,
  leaseMs: number,
  internals: () => Internals,
): WebLockLiveness | null {
  if (locks === undefined) return null
  let live: WebLockLiveness
  try {
    live = new WebLockLiveness(locks, i32, threads, token, leaseMs, internals)
  } catch {
    return null // no lock taken, T_WLOCK not set: this thread is simply not probed (watch still works)
  }
  threads.onStuck = (holder) => live.stuck(holder)
  return live
}
