/** What `open` finds: the file's size, owner and mode, and a mapping of it unless it is empty. */
export interface Opened {
  buffer?: SharedArrayBuffer
  size: number
  uid: number
  mode: number
  regular: boolean
}
/** Creates /dev/shm/NAME (O_EXCL, mode 0600, zero-filled) and maps it; throws code EEXIST if it exists. */
export function create(name: string, bytes: number): SharedArrayBuffer
/** Opens /dev/shm/NAME as it is (changes nothing); throws code ENOENT if there is none. */
export function open(name: string): Opened
/** Removes /dev/shm/NAME: true if it was there. Mappings stay valid until collected. */
export function unlink(name: string): boolean
/** FUTEX_WAIT (not private) on i32[index] while it holds `expected`: 0 woken, 1 not-equal, 2 timed out. */
export function futexWait(i32: Int32Array, index: number, expected: number, ms: number): 0 | 1 | 2
/** FUTEX_WAKE (not private): wakes up to `count` futex waiters of i32[index], in any process. */
export function futexWake(i32: Int32Array, index: number, count: number): number
/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22), -1 if none. */
export function startTime(pid: number): number
/** Whether a process with this pid exists (kill(pid, 0)). */
export function alive(pid: number): boolean
export function pid(): number
/** The effective uid of this process. */
export function uid(): number
export const dir: string
