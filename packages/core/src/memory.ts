/**
 * The store's one SharedArrayBuffer and this thread's views over it. The creator sizes and
 * initialises the buffer before it is shared; attaching only validates and wraps. Views are
 * fixed-length (a length-tracking view on a growable SAB costs ~30× per access, measured on Node 20).
 */
import { Buffer } from 'node:buffer'
import { initFreeHeap } from './free-lists.js'
import { ScopeCacheError } from './errors.js'
import {
  DEFAULTS, H_DIR_CAP, H_DIR_W, H_HEAP_B8, H_HEAP_END_B8, H_MAGIC,
  H_MAX_ITEM_BYTES, H_MAX_SCOPES, H_MAX_STORE_BYTES_F, H_MAX_THREADS, H_SCOPE_MAX_ITEMS, H_SCOPE_SLOTS,
  H_LEASE_CAP, H_LEASE_MS, H_WHEN_FULL, WHEN_FULL_EVICT, WHEN_FULL_REJECT, H_LEASES_W, H_MAX_LOCKS, H_PROCESS_SHARED, H_SCOPES_W, H_SEED, H_THREADS_W, H_VERSION, HEADER_WORDS,
  LAYOUT_VERSION, LEASE_WORDS, MAGIC, MAX_LOCKS, MAX_SCOPES, MAX_BUFFER_BYTES, MAX_STORE_BYTES, MAX_THREADS,
  SCOPE_WORDS, THREAD_WORDS,
} from './layout.js'
import type { ScopeCacheOptions } from './types.js'

export interface Views {
  readonly sab: SharedArrayBuffer
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly i64: BigInt64Array
  readonly u8: Uint8Array
  readonly buf: Buffer
}

export interface Config {
  maxStoreBytes: number
  scopeMaxItems: number
  maxItemBytes: number
  maxScopes: number
  scopeSlots: number
  maxThreads: number
  threadsW: number
  scopesW: number
  dirW: number
  dirCap: number
  maxLocks: number
  leasesW: number
  leaseCap: number
  heapB8: number
  heapEndB8: number
  seed: number
  lockLeaseMs: number
  /** whenFull: 'evict' (evict.ts): a write that finds the store full evicts whole scopes, least recently used first. */
  evict: boolean
}

/**
 * A seqlock reader's plain loads must not be satisfied after its closing load of the version word.
 * x86 never reorders loads with loads; ARM may, and V8's Atomics.load there is only a load-acquire,
 * which does not hold back earlier loads. An atomic read-modify-write on a word of the reader's own
 * thread slot (T_FENCE) does, for ~5 ns; x86 skips it (SCOPECACHE_FENCE=1 forces it, to test that path).
 */
export const WEAK_ORDER = (process.arch !== 'x64' && process.arch !== 'ia32') || process.env.SCOPECACHE_FENCE === '1'

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(2, n)))

function intOption(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new ScopeCacheError('invalid_input', `scopecache: invalid input: option '${name}' must be an integer from ${min} to ${max}`)
  }
  return v
}

export function resolveConfig(o: ScopeCacheOptions = {}): Config {
  const maxStoreBytes = intOption('maxStoreBytes', o.maxStoreBytes, DEFAULTS.maxStoreBytes, 4096, MAX_STORE_BYTES)
  const scopeMaxItems = intOption('scopeMaxItems', o.scopeMaxItems, DEFAULTS.scopeMaxItems, 1, 1 << 26)
  const maxItemBytes = intOption('maxItemBytes', o.maxItemBytes, DEFAULTS.maxItemBytes, 64, maxStoreBytes)
  const maxScopes = intOption('maxScopes', o.maxScopes, Math.max(64, Math.floor(maxStoreBytes / 1024)), 1, MAX_SCOPES)
  if (o.maxThreadSlots !== undefined && o.maxThreads !== undefined) throw new ScopeCacheError('invalid_input', "scopecache: invalid input: give 'maxThreadSlots' or its deprecated alias 'maxThreads', not both")
  const slotsName = o.maxThreads !== undefined ? 'maxThreads' : 'maxThreadSlots'
  const maxThreads = intOption(slotsName, o.maxThreadSlots ?? o.maxThreads, DEFAULTS.maxThreads, 1, MAX_THREADS)
  const lockLeaseMs = intOption('lockLeaseMs', o.lockLeaseMs, DEFAULTS.lockLeaseMs, 1, 600_000)
  const maxLocks = intOption('maxLocks', o.maxLocks, DEFAULTS.maxLocks, 1, MAX_LOCKS)
  if (o.whenFull !== undefined && o.whenFull !== 'reject' && o.whenFull !== 'evict') {
    throw new ScopeCacheError('invalid_input', "scopecache: invalid input: option 'whenFull' must be 'reject' or 'evict'")
  }
  const evict = o.whenFull === 'evict'
  const scopeSlots = maxScopes * 2 // bulk swaps hold old and new scopes at once
  const dirCap = nextPow2(scopeSlots * 2)
  const threadsW = HEADER_WORDS
  const scopesW = threadsW + maxThreads * THREAD_WORDS + 16 // +16: keep records off the thread line
  const dirW = scopesW + scopeSlots * SCOPE_WORDS
  const leasesW = Math.ceil((dirW + dirCap * 2) / 16) * 16 // records on their own cache lines
  const leaseCap = nextPow2(maxLocks * 2) // load ≤ 0.5 with every lock held
  const heapStartB = Math.ceil(((leasesW + leaseCap * LEASE_WORDS) * 4) / 64) * 64
  const heapBytes = Math.ceil((maxStoreBytes * 2 + (1 << 20)) / 64) * 64
  const heapEndB = heapStartB + heapBytes
  if (heapEndB > MAX_BUFFER_BYTES) {
    throw new ScopeCacheError('invalid_input', `scopecache: invalid input: a store of maxStoreBytes ${maxStoreBytes} and maxScopes ${maxScopes} needs ${heapEndB} bytes of shared memory, over the ${MAX_BUFFER_BYTES} one store can address; lower either`)
  }
  const seed = (Math.random() * 0x7fffffff) | 0
  return {
    maxStoreBytes, scopeMaxItems, maxItemBytes, maxScopes, scopeSlots, maxThreads,
    threadsW, scopesW, dirW, dirCap, maxLocks, leasesW, leaseCap, heapB8: heapStartB / 8, heapEndB8: heapEndB / 8, seed, lockLeaseMs, evict,
  }
}

const notAStore = (why: string): ScopeCacheError =>
  new ScopeCacheError('invalid_input', `scopecache: invalid input: the handle's buffer is not a whole scopecache store: ${why}`)

/** Checks an attached buffer's size before any view is made over it (views need a multiple of 8). */
export function checkBufferSize(sab: SharedArrayBuffer): void {
  const n = sab.byteLength
  if (n % 8 !== 0 || n < HEADER_WORDS * 4) throw notAStore(`${n} bytes is not a multiple of 8 of at least ${HEADER_WORDS * 4} (the header)`)
}

export function wrap(sab: SharedArrayBuffer): Views {
  return {
    sab,
    i32: new Int32Array(sab),
    f64: new Float64Array(sab),
    i64: new BigInt64Array(sab),
    u8: new Uint8Array(sab),
    buf: Buffer.from(sab),
  }
}

/** Creates and initialises a store's buffer. Runs once, before the buffer is shared. */
export function createBuffer(cfg: Config): Views {
  return initBuffer(wrap(new SharedArrayBuffer(cfg.heapEndB8 * 8)), cfg, false)
}

/**
 * Initialises a zero-filled buffer of cfg.heapEndB8 × 8 bytes. The magic word is stored last: in
 * shared memory other processes may map the file while this runs, and wait until it is set.
 */
export function initBuffer(v: Views, cfg: Config, processShared: boolean): Views {
  const { i32, f64 } = v
  i32[H_VERSION] = LAYOUT_VERSION
  i32[H_PROCESS_SHARED] = processShared ? 1 : 0
  f64[H_MAX_STORE_BYTES_F] = cfg.maxStoreBytes
  i32[H_SCOPE_MAX_ITEMS] = cfg.scopeMaxItems
  i32[H_MAX_ITEM_BYTES] = cfg.maxItemBytes
  i32[H_MAX_SCOPES] = cfg.maxScopes
  i32[H_SCOPE_SLOTS] = cfg.scopeSlots
  i32[H_MAX_THREADS] = cfg.maxThreads
  i32[H_THREADS_W] = cfg.threadsW
  i32[H_SCOPES_W] = cfg.scopesW
  i32[H_DIR_W] = cfg.dirW
  i32[H_DIR_CAP] = cfg.dirCap
  i32[H_HEAP_B8] = cfg.heapB8
  i32[H_HEAP_END_B8] = cfg.heapEndB8
  i32[H_SEED] = cfg.seed
  i32[H_LEASE_MS] = cfg.lockLeaseMs
  i32[H_WHEN_FULL] = cfg.evict ? WHEN_FULL_EVICT : WHEN_FULL_REJECT
  i32[H_MAX_LOCKS] = cfg.maxLocks
  i32[H_LEASES_W] = cfg.leasesW
  i32[H_LEASE_CAP] = cfg.leaseCap
  // The lease table starts zeroed too (free records).
  // The directory and scope table start zeroed (empty entries, free records): nothing to write.
  initFreeHeap(i32)
  Atomics.store(i32, H_MAGIC, MAGIC)
  return v
}

/** Reads the configuration back from an attached buffer (after checking it is a store). */
export function readConfig(v: Views): Config {
  const { i32, f64 } = v
  if (v.sab.byteLength < HEADER_WORDS * 4 || i32[H_MAGIC] !== MAGIC || i32[H_VERSION] !== LAYOUT_VERSION) {
    throw new ScopeCacheError('invalid_input', 'scopecache: invalid input: the handle is not a scopecache store of this version')
  }
  const cfg: Config = {
    maxStoreBytes: f64[H_MAX_STORE_BYTES_F],
    scopeMaxItems: i32[H_SCOPE_MAX_ITEMS],
    maxItemBytes: i32[H_MAX_ITEM_BYTES],
    maxScopes: i32[H_MAX_SCOPES],
    scopeSlots: i32[H_SCOPE_SLOTS],
    maxThreads: i32[H_MAX_THREADS],
    threadsW: i32[H_THREADS_W],
    scopesW: i32[H_SCOPES_W],
    dirW: i32[H_DIR_W],
    dirCap: i32[H_DIR_CAP],
    maxLocks: i32[H_MAX_LOCKS],
    leasesW: i32[H_LEASES_W],
    leaseCap: i32[H_LEASE_CAP],
    heapB8: i32[H_HEAP_B8],
    heapEndB8: i32[H_HEAP_END_B8],
    seed: i32[H_SEED],
    lockLeaseMs: i32[H_LEASE_MS],
    evict: i32[H_WHEN_FULL] === WHEN_FULL_EVICT,
  }
  checkLayout(cfg, v.sab.byteLength)
  return cfg
}

/** The regions the header describes must follow each other and end exactly at the buffer's end. */
function checkLayout(c: Config, bytes: number): void {
  const ordered =
    c.maxThreads >= 1 && c.maxThreads <= MAX_THREADS && c.scopeSlots >= 1 && c.dirCap >= 2 &&
    c.threadsW === HEADER_WORDS &&
    c.scopesW >= c.threadsW + c.maxThreads * THREAD_WORDS &&
    c.dirW >= c.scopesW + c.scopeSlots * SCOPE_WORDS &&
    c.leasesW >= c.dirW + c.dirCap * 2 &&
    c.maxLocks >= 1 && c.leaseCap >= c.maxLocks && (c.leaseCap & (c.leaseCap - 1)) === 0 &&
    c.heapB8 * 8 >= (c.leasesW + c.leaseCap * LEASE_WORDS) * 4 &&
    c.heapEndB8 > c.heapB8
  if (!ordered) throw notAStore('its header describes an impossible layout')
  if (c.heapEndB8 * 8 !== bytes) throw notAStore(`it is ${bytes} bytes, but its header describes a store of ${c.heapEndB8 * 8} bytes (truncated or padded)`)
}
