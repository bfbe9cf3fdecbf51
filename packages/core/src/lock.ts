/**
 * A mutex in one Int32 word that holds its owner's token (0 = free), with a waiter count in
 * the next word so release only calls notify when someone may sleep. Readers never take it
 * (they validate a seqlock instead, see read.ts); it orders writers of one scope, the
 * directory, and the allocator.
 *
 * Waiting is bounded: spin briefly, then sleep in WAIT_SLICE_MS slices (every wake re-checks the
 * word, so a lost wake-up costs one slice, never a hang) until the store's lease runs out, then
 * throw `lock_timeout`. Waiters never take a lock over, not even from a dead holder: only the
 * reaper may (reaper.ts), because only it repairs what the dead holder left. Giving up after the
 * lease matters on an event-loop thread: the 'exit' event that triggers the reaper is delivered
 * by that loop, so a thread that waited forever could wait for itself.
 */
import { ScopeCacheError } from './errors.js'

const SPINS = 64
const WAIT_SLICE_MS = 20

/** The futex calls of @scopecache/shm (shm-binding.ts). */
export interface Futex {
  futexWait(i32: Int32Array, index: number, expected: number, ms: number): number
  futexWake(i32: Int32Array, index: number, count: number): number
}

/**
 * Buffers shared by processes (Store registers them): Atomics.notify does not reach another
 * process, and a futex wake does not reach an Atomics.wait-er (V8 keeps its own waiter list), so
 * every lock wait and wake on such a buffer, in every thread, goes through the futex instead.
 * Looked up only on the slow paths (a busy lock, a release with waiters).
 */
const futexes = new WeakMap<ArrayBufferLike, Futex>()

export function useFutex(sab: SharedArrayBuffer, futex: Futex): void {
  futexes.set(sab, futex)
}

export interface Liveness {
  /** false when the thread whose token holds the lock has died or detached. */
  isAlive(token: number): boolean
  /** The threadId behind a token, for error messages (-1 when unknown). */
  threadIdOf(token: number): number
  /** A wait on `token` ran out (it may be dead: liveness-weblocks.ts checks). */
  stuck?(token: number): void
  /** The pid of the process behind a token when it is not this process (a store shared by processes), else 0. */
  otherPid?(token: number): number
}

/**
 * Takes the lock or throws `lock_timeout` at `deadline` (epoch ms). A public call passes its
 * Budget (or the one deadline it set on entry) to every lock it takes, so the call as a whole
 * waits at most one lease; a deadline already past still gets the spins and a CAS, so a free lock
 * is always taken. A Budget is read only when the lock is busy: a lock taken at once costs no clock.
 */
export function acquire(
  i32: Int32Array, lock: number, token: number, leaseMs: number, live: Liveness, deadline?: number | Budget,
): void {
  if (Atomics.compareExchange(i32, lock, 0, token) !== 0) {
    const d = deadline === undefined ? Date.now() + leaseMs : typeof deadline === 'number' ? deadline : deadline.get()
    acquireSlow(i32, lock, token, leaseMs, live, d)
  }
}

function acquireSlow(i32: Int32Array, lock: number, token: number, leaseMs: number, live: Liveness, deadline: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, lock) === 0 && Atomics.compareExchange(i32, lock, 0, token) === 0) return
  }
  const waiters = lock + 1
  const futex = futexes.get(i32.buffer)
  for (;;) {
    const holder = Atomics.load(i32, lock)
    if (holder === 0) {
      if (Atomics.compareExchange(i32, lock, 0, token) === 0) return
      continue
    }
    if (holder === token) throw new Error('scopecache: lock re-entered by its holder (internal bug)')
    const left = deadline - Date.now()
    if (left <= 0) {
      live.stuck?.(holder)
      throw lockTimeout(holder, leaseMs, live)
    }
    // Sleep only while the word still names this holder; a release in between makes wait
    // return 'not-equal' at once. The slice bounds a missed notify.
    Atomics.add(i32, waiters, 1)
    if (futex === undefined) Atomics.wait(i32, lock, holder, Math.min(WAIT_SLICE_MS, left))
    else futex.futexWait(i32, lock, holder, Math.min(WAIT_SLICE_MS, left))
    Atomics.sub(i32, waiters, 1)
  }
}

function lockTimeout(holder: number, leaseMs: number, live: Liveness): ScopeCacheError {
  const alive = live.isAlive(holder)
  const threadId = live.threadIdOf(holder)
  // "alive" only means the holder's slot has not been marked dead: a worker that died is marked
  // when its 'exit' event runs in the watching thread, which may be this very (blocked) thread.
  const pid = live.otherPid?.(holder) ?? 0
  const why = pid !== 0
    ? alive
      ? `thread ${threadId} of process ${pid} held it past the lease: it is slow, or its process died and has not been proven dead yet`
      : `its holder, thread ${threadId} of process ${pid}, died with its process and is being reaped: the next call should succeed`
    : alive
    ? `thread ${threadId} held it past the lease: it is slow, or it died and its 'exit' has not been handled yet`
    : typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === 'object'
      ? 'its holder died and is being reaped (Web Locks found it): the next call should succeed'
      : 'its holder died and has not been reaped yet (call cache.watch(worker) in the thread that owns the Worker)'
  return new ScopeCacheError('lock_timeout', `scopecache: gave up waiting for a lock (lease ${leaseMs} ms): ${why}`, {
    holderThreadId: threadId,
    holderAlive: alive,
  })
}

export function release(i32: Int32Array, lock: number, token: number): void {
  // CAS, not store: if a reaper took the lock from us (we were declared dead), leave it alone.
  if (Atomics.compareExchange(i32, lock, token, 0) === token && Atomics.load(i32, lock + 1) > 0) {
    const futex = futexes.get(i32.buffer)
    if (futex === undefined) Atomics.notify(i32, lock, 1)
    else futex.futexWake(i32, lock, 1)
  }
}

/** The reaper's takeover: moves a lock from a dead holder's token to `token`. */
export function steal(i32: Int32Array, lock: number, dead: number, token: number): boolean {
  return Atomics.compareExchange(i32, lock, dead, token) === dead
}

/** Budget.deadline of a call whose deadline is fixed by its first lock wait (see Budget). */
export const LAZY = -1

/**
 * The waiting budget of the public call in progress on one thread: the call sets `deadline` on
 * entry and every lock it takes (scope, directory, allocator, clean-up frees) waits until then at
 * most, so one call waits one lease in total, not one per lock. Outside a call (0), a lock gets a
 * full lease of its own. A single-item write enters with LAZY: its deadline is fixed one lease
 * after its first lock wait (its locks before that were taken at once), so the common call, whose
 * locks are all free, reads no clock for it, and its waits together still take one lease at most.
 */
export class Budget {
  deadline = 0

  constructor(readonly leaseMs: number) {}

  /** The deadline for a lock taken now. */
  get(): number {
    const d = this.deadline
    if (d > 0) return d
    const t = Date.now() + this.leaseMs
    if (d === LAZY) this.deadline = t
    return t
  }
}
