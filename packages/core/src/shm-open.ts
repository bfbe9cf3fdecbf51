/**
 * Stores in POSIX shared memory, for processes (a node:cluster app): `ScopeCache.open` creates or
 * attaches /dev/shm/scopecache-NAME, a MAP_SHARED mapping that @scopecache/shm hands over as a real
 * SharedArrayBuffer, so the whole core runs unchanged across processes. `ScopeCache.unlink` removes it.
 *
 * Race-free creation: every opener first tries to create the file with O_EXCL; exactly one wins and
 * initialises it (the magic word last, memory.ts initBuffer). The others attach, and while the file is
 * still empty or its magic word 0 (the creator is between O_EXCL and its last store) they wait, up to
 * INIT_WAIT_MS. A file that vanishes between the two (unlinked) sends the opener back to create.
 *
 * An attach checks before it trusts: a regular file of this user (tests and services often run as
 * root, who may open anything: the owner is compared explicitly), the magic word, the layout version,
 * the shared-memory flag, and that the header's sizes describe exactly this file. Any mismatch is an
 * `invalid_input` that names the file, and nothing is created or written.
 */
import { statfsSync } from 'node:fs'
import { invalid, ScopeCacheError } from './errors.js'
import { H_MAGIC, H_PROCESS_SHARED, H_VERSION, HEADER_BYTES, HEADER_WORDS, LAYOUT_VERSION, MAGIC } from './layout.js'
import { initBuffer, readConfig, resolveConfig, wrap, type Config, type Views } from './memory.js'
import { loadShm, type ShmBinding } from './shm-binding.js'
import type { ScopeCacheOptions } from './types.js'

export const SHM_DIR = '/dev/shm'
/** Store files are /dev/shm/scopecache-NAME: a namespace of their own, beside other programs' files. */
export const FILE_PREFIX = 'scopecache-'
const NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/
/** How long an opener waits for another process's creation to finish. */
const INIT_WAIT_MS = 5000
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/** The store file's name for a store name; throws for a name that could leave /dev/shm or is not one. */
export function storeFile(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid("open needs a 'name': the store's name in shared memory")
  if (name.includes('/') || name.includes('..')) throw invalid(`a store name may not contain '/' or '..' (got ${JSON.stringify(name)})`)
  if (!NAME_RE.test(name)) throw invalid(`a store name is 1 to 200 of A-Z a-z 0-9 . _ - (got ${JSON.stringify(name)})`)
  return FILE_PREFIX + name
}

export interface Opened {
  v: Views
  cfg: Config
  /** Whether this call created the store (else it attached to an existing one). */
  created: boolean
}

/** ScopeCache.open: create-or-attach. `options` (create's) are checked always, used only when creating. */
export function openShared(name: unknown, options: ScopeCacheOptions): Opened {
  const file = storeFile(name)
  const cfg = resolveConfig(options)
  const shm = loadShm()
  const deadline = Date.now() + INIT_WAIT_MS
  for (;;) {
    const bytes = cfg.heapEndB8 * 8
    const noRoom = roomProblem(file, bytes) // an existing store may still be attached
    let sab: SharedArrayBuffer | undefined
    try {
      if (noRoom === null) sab = shm.create(file, bytes)
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw fsError(e)
    }
    if (sab !== undefined) return { v: initBuffer(wrap(sab), cfg, true), cfg, created: true }
    const found = attach(shm, file, deadline)
    if (found !== null) return found
    if (noRoom !== null) throw noRoom
  }
}

/** null: the file is gone (unlinked since): try to create it again. */
function attach(shm: ShmBinding, file: string, deadline: number): Opened | null {
  for (;;) {
    let o: ReturnType<ShmBinding['open']>
    try {
      o = shm.open(file)
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT' && Date.now() < deadline) return null
      throw fsError(e)
    }
    if (!o.regular) throw notAStore(file, 'it is not a regular file')
    const me = shm.uid()
    if (o.uid !== me) throw invalid(`${SHM_DIR}/${file} belongs to uid ${o.uid}, not to this process's uid ${me}: refusing to attach to another user's store`)
    const starting = o.buffer === undefined || (o.size >= HEADER_BYTES && Atomics.load(new Int32Array(o.buffer, 0, HEADER_WORDS), H_MAGIC) === 0)
    if (starting) {
      // Its creator is between O_EXCL and its last store (or died there: then it never ends).
      if (Date.now() >= deadline) throw notAStore(file, `it is still not initialised after ${INIT_WAIT_MS} ms (its creator died while creating it, or it is not a store): ScopeCache.unlink it`)
      Atomics.wait(PAUSE, 0, 0, 5)
      continue
    }
    const buf = o.buffer as SharedArrayBuffer
    if (o.size % 8 !== 0 || o.size < HEADER_BYTES) throw notAStore(file, `${o.size} bytes is too small for a store`)
    const head = new Int32Array(buf, 0, HEADER_WORDS)
    if (Atomics.load(head, H_MAGIC) !== MAGIC) throw notAStore(file, 'it does not start with a scopecache header')
    const version = head[H_VERSION]
    if (version !== LAYOUT_VERSION) {
      throw invalid(`${SHM_DIR}/${file} has memory layout version ${version}, and this @scopecache/core reads version ${LAYOUT_VERSION}: open it with the version that made it, or ScopeCache.unlink it (its data is lost)`)
    }
    if (head[H_PROCESS_SHARED] !== 1) throw notAStore(file, 'its header does not mark it as shared memory')
    const v = wrap(buf)
    try {
      return { v, cfg: readConfig(v), created: false }
    } catch (e) {
      throw e instanceof ScopeCacheError ? invalid(`${SHM_DIR}/${file}: ${e.message.replace(/^scopecache: invalid input: /, '')}`) : e
    }
  }
}

/** ScopeCache.unlink: removes the store's file (true if there was one). Processes attached keep their mapping. */
export function unlinkShared(name: unknown): boolean {
  const file = storeFile(name)
  try {
    return loadShm().unlink(file)
  } catch (e) {
    throw e instanceof ScopeCacheError ? e : fsError(e)
  }
}

/**
 * tmpfs commits pages only when they are touched, and a write past what /dev/shm can hold kills the
 * process with SIGBUS: refuse a store larger than the room there now (a container's /dev/shm is often
 * 64 MiB). Not a reservation — others may fill it later — but it catches the common mistake.
 */
function roomProblem(file: string, bytes: number): ScopeCacheError | null {
  let free: number
  try {
    const st = statfsSync(SHM_DIR)
    free = st.bavail * st.bsize
  } catch {
    return null // no statfs: the create itself reports a missing /dev/shm
  }
  if (free >= bytes) return null
  return new ScopeCacheError('store_full', `scopecache: store is full: ${SHM_DIR}/${file} needs ${bytes} bytes of shared memory and ${SHM_DIR} has ${free} free: lower maxStoreBytes or give ${SHM_DIR} more room`)
}

const notAStore = (file: string, why: string): ScopeCacheError => invalid(`${SHM_DIR}/${file} is not a scopecache store: ${why}`)

function fsError(e: unknown): ScopeCacheError {
  if (e instanceof ScopeCacheError) return e
  return invalid(`shared memory: ${String((e as Error)?.message ?? e).replace(/^@scopecache\/shm: /, '')}`)
}
