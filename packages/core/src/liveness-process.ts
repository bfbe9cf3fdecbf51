/**
 * Dead processes found by the survivors, in a store shared by processes (shm-open.ts).
 *
 * A process killed with SIGKILL (or by the OOM killer) runs no code as it dies: its thread slots
 * stay ALIVE and the locks it held stay held. Every slot records its process (T_PID and the
 * process's start time, threads.ts): a process is proven dead when no process has its pid
 * (`kill(pid, 0)`), or when the one that has it started at another time (the pid was reused). A live
 * process is never reaped, however slow: a pid that exists with the recorded start time is alive.
 *
 * When a probe runs (all from the event loop or a lock wait's end; nothing here is on the read or
 * write path), mirroring liveness-weblocks.ts:
 *   - when a lock wait on another process's thread runs out (lock.ts calls Liveness.stuck): its
 *     process is probed; a dead one gets every slot marked DEAD at once and is reaped in a microtask,
 *     after the failed call has unwound and released what it held;
 *   - every sweep interval (the lease, between 50 ms and 1 s) on an unref'd timer, and once soon
 *     after open: every other process's slots. So a survivor that is not waiting on the dead
 *     process's locks still frees its slots and garbage, and the reap happens within a lease even
 *     while the waiter itself is blocked in its wait (another process's timer reaps).
 * Slots of this process are left to `watch` and Web Locks (liveness-weblocks.ts skips the others).
 */
import { ScopeCacheError } from './errors.js'
import { T_STATE, T_THREAD_ID, THREAD_ALIVE, THREAD_DEAD, THREAD_REAPING } from './layout.js'
import { reapThread } from './reaper.js'
import type { ShmBinding } from './shm-binding.js'
import type { Internals } from './store.js'
import { tokenSlot, type ProcessId, type ThreadSlots } from './threads.js'

const keyOf = (p: ProcessId): string => `${p.pid}:${p.startHi}:${p.startLo}`

export class ProcessLiveness {
  private readonly timer: ReturnType<typeof setInterval>
  private readonly kick: ReturnType<typeof setTimeout>
  /** Processes with a reap queued (a wait that keeps timing out queues it once). */
  private readonly queued = new Set<string>()
  private stopped = false

  constructor(
    private readonly shm: ShmBinding,
    private readonly i32: Int32Array,
    private readonly threads: ThreadSlots,
    leaseMs: number,
    private readonly internals: () => Internals,
  ) {
    // The timers hold this handle weakly: one dropped without close() can still be collected.
    const ref = new WeakRef(this)
    let timer: ReturnType<typeof setInterval> | undefined
    const tick = (): void => {
      const live = ref.deref()
      if (live === undefined) clearInterval(timer)
      else live.sweep()
    }
    this.timer = timer = setInterval(tick, Math.max(50, Math.min(1000, leaseMs)))
    this.timer.unref?.()
    // Right after open: a restarted app finds the slots its crashed processes left.
    this.kick = setTimeout(tick, 0)
    this.kick.unref?.()
  }

  /** Whether `proc` (another process) is proven dead. */
  private dead(proc: ProcessId): boolean {
    if (proc.pid <= 0) return false // never claimed
    if (!this.shm.alive(proc.pid)) return true
    const start = this.shm.startTime(proc.pid)
    return start < 0 || start !== proc.startHi * 2 ** 32 + (proc.startLo >>> 0)
  }

  /** A lock wait on `token` ran out: if its thread is another process's, and that process is dead, reap it. */
  stuck(token: number): void {
    const s = tokenSlot(token)
    if (this.stopped || s < 0 || s >= this.threads.count || this.threads.inProcess(s)) return
    const proc = this.threads.processOf(s)
    if (this.queued.has(keyOf(proc)) || !this.dead(proc)) return
    this.markDead(proc) // errors now say so
    this.queued.add(keyOf(proc))
    // The reaper takes every lock: never from inside a call (this runs in one's lock wait).
    queueMicrotask(() => {
      this.queued.delete(keyOf(proc))
      this.reap(proc)
    })
  }

  /** From the timer: every other process's slots; a dead process's are marked and reaped. */
  sweep(): void {
    if (this.stopped) return
    const seen = new Set<string>()
    const dead: ProcessId[] = []
    for (let s = 0; s < this.threads.count; s++) {
      const state = Atomics.load(this.i32, this.threads.at(s) + T_STATE)
      if ((state !== THREAD_ALIVE && state !== THREAD_DEAD && state !== THREAD_REAPING) || this.threads.inProcess(s)) continue
      const proc = this.threads.processOf(s)
      const key = keyOf(proc)
      if (seen.has(key)) continue
      seen.add(key)
      if (this.dead(proc)) dead.push(proc)
    }
    // Mark every dead process first: a reap waits for the locks of threads still counted alive, and
    // a lock held by a second dead process would stall the first one's reap for a lease.
    for (const proc of dead) this.markDead(proc)
    for (const proc of dead) this.reap(proc)
  }

  private markDead(proc: ProcessId): void {
    for (let s = 0; s < this.threads.count; s++) {
      if (this.threads.inProcess(s, proc)) this.threads.markDead(Atomics.load(this.i32, this.threads.at(s) + T_THREAD_ID), proc)
    }
  }

  /**
   * One reap attempt per thread of the dead process, from the event loop. A lock that a live
   * thread keeps past the lease leaves the slot DEAD: the next sweep tries again.
   */
  private reap(proc: ProcessId): void {
    if (this.stopped) return
    const x = this.internals()
    const threadIds = new Set<number>()
    for (let s = 0; s < this.threads.count; s++) {
      const state = Atomics.load(this.i32, this.threads.at(s) + T_STATE)
      if ((state === THREAD_DEAD || state === THREAD_REAPING) && this.threads.inProcess(s, proc)) {
        threadIds.add(Atomics.load(this.i32, this.threads.at(s) + T_THREAD_ID))
      }
    }
    for (const threadId of threadIds) {
      x.budget.deadline = Date.now() + x.cfg.lockLeaseMs // one lease per attempt
      try {
        reapThread(x, threadId, proc)
      } catch (e) {
        if (!(e instanceof ScopeCacheError && e.code === 'lock_timeout')) {
          process.emitWarning(`scopecache: recovering thread ${threadId} of dead process ${proc.pid} failed: ${(e as Error)?.stack ?? String(e)}`)
        }
      } finally {
        x.budget.deadline = 0
      }
    }
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.kick)
  }
}

/** Starts process liveness for a handle of a store in shared memory, and hooks it into lock waits. */
export function startProcessLiveness(shm: ShmBinding, i32: Int32Array, threads: ThreadSlots, leaseMs: number, internals: () => Internals): ProcessLiveness {
  const live = new ProcessLiveness(shm, i32, threads, leaseMs, internals)
  const before = threads.onStuck // Web Locks' probe of this process's threads (Node ≥ 24)
  threads.onStuck = (holder) => {
    live.stuck(holder)
    before?.(holder)
  }
  return live
}
