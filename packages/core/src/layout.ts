/**
 * The memory layout of a store, written down once. Everything a store holds lives in ONE
 * SharedArrayBuffer, created by the owner and attached (never copied) by every thread.
 * The buffer is sized up front from the options; Linux commits its pages only when first
 * touched, so an empty 100 MiB store costs a few pages, not 100 MiB.
 *
 *   region          size                                   what
 *   --------------  -------------------------------------  ----------------------------------------
 *   header          HEADER_BYTES (2 KiB)                   options, region offsets, counters, locks
 *   thread slots    maxThreads × 512                       who is attached: tokens, busy flag, undo record
 *   scope table     scopeSlots × SCOPE_RECORD_BYTES (192)  one record per scope (2 × maxScopes slots)
 *   directory       dirCap × 8                             open-addressing hash: [hash, slot+1]
 *   lease table     leaseCap × LEASE_RECORD_BYTES (288)    named locks with a lease (leases.ts)
 *   heap            2 × maxStoreBytes + 1 MiB              TLSF blocks: items, names, index arrays
 *
 * Per item: an item block, one entry (in an array 0.5–1 full) and one id table slot (load 0.4–0.8):
 *   align8(24 + id bytes + payload bytes [+ 8: an expiry])  +  4 / fill (entry)  +  4 / load (id slot)
 *
 * Why 2× for the heap and the scope table: warm and rebuild build the new content beside the
 * old one and swap it in with one publish, so readers never see a half-built scope and a failed
 * bulk write leaves no trace. Charged bytes (the cap) never exceed maxStoreBytes in steady state;
 * only during a bulk swap does memory briefly hold the old and the new scopes.
 *
 * All offsets below are in 32-bit words unless they end in _B (bytes) or _F (Float64 index
 * relative to the record, in 8-byte units).
 */

import { LIMITS } from './limits.js'

export const MAGIC = 0x53435031 // "SCP1"
export const LAYOUT_VERSION = 9 // 8: expiry; 9: the capacity policy

// ---- header (word indexes); hot counters sit on their own 64-byte line --------------------
export const H_MAGIC = 0
export const H_VERSION = 1
export const H_MAX_STORE_BYTES_F = 1 // f64 slot 1 = bytes 8..15
export const H_SCOPE_MAX_ITEMS = 4
export const H_MAX_ITEM_BYTES = 5
export const H_MAX_SCOPES = 6
export const H_SCOPE_SLOTS = 7
export const H_MAX_THREADS = 8
export const H_THREADS_W = 9 // word offset of the thread slot region
export const H_SCOPES_W = 10 // word offset of the scope table
export const H_DIR_W = 11 // word offset of the directory
export const H_DIR_CAP = 12 // directory entries (power of two)
export const H_HEAP_B8 = 13 // heap start, in 8-byte units
export const H_HEAP_END_B8 = 14 // heap end (exclusive), in 8-byte units
export const H_SEED = 15 // per-store hash seed
// line 1: allocator (lock + accounting), written by every writer
export const H_ALLOC_LOCK = 16
export const H_ALLOC_WAITERS = 17
export const H_CHARGED_B8 = 18 // bytes charged against maxStoreBytes, in 8-byte units
export const H_PENDING_B8 = 19 // live heap bytes not charged (bulk writes in flight), 8-byte units
export const H_FL_BITMAP = 20 // TLSF first-level bitmap
export const H_SCOPE_FREE = 21 // free scope slot stack head (slot+1, 0 = empty)
export const H_SCOPE_HWM = 22 // scope slots ever used
export const H_DIR_USED = 23 // directory entries used (live + tombstones)
export const H_EXPIRED = 24 // items reclaimed because they expired (stats().expiredItems; expiry.ts)
// words 25..27: reserved for expiry
// the capacity policy (evict.ts): the store's whenFull, the CLOCK hand (directory lock), evictions
export const H_WHEN_FULL = 28 // WHEN_FULL_REJECT | WHEN_FULL_EVICT (set at create)
export const H_CLOCK_HAND = 29 // the scope slot the eviction hand looks at next (moved under the directory lock)
export const H_EVICTED_LO = 30 // scopes evicted: a 64-bit count in two words (counter64.ts)
// line 2: directory lock and versions, recovery counters
export const H_DIR_LOCK = 32
export const H_DIR_WAITERS = 33
export const H_DIR_VER = 34 // seqlock over the directory (odd while it changes)
export const H_SCOPES = 35 // live scope count
export const H_LEASE_MS = 36 // how long a waiter waits for a lock before lock_timeout
export const H_REAPS = 37 // dead threads reaped
export const H_SCOPES_LOST = 38 // scopes emptied because a dead writer left them torn
export const H_STORE_ID = 39 // random, set by the first thread that attaches: names this store's Web Locks (liveness-weblocks.ts)
// the lease table (leases.ts): its mutex, counters and shape
export const H_LEASE_LOCK = 40
export const H_LEASE_WAITERS = 41
export const H_LEASE_RELEASES = 42 // bumped by every unlock: lock() waiters wait on it (Atomics.waitAsync)
export const H_LEASE_WAKERS = 43 // lock() calls waiting on H_LEASE_RELEASES (unlock notifies only if > 0)
export const H_LEASE_HELD = 44 // records in state HELD (lapsed ones included until reused or swept)
export const H_LEASE_PROBE = 45 // the longest distance from its home slot any record was ever placed at
export const H_LEASES_W = 46 // word offset of the lease table
export const H_LEASE_CAP = 47 // lease records (power of two)
export const H_MAX_LOCKS = 52 // held leases allowed at once
export const H_LEASE_TOKEN_F = 27 // f64 slot 27 = words 54..55: the last fencing token handed out
export const H_FENCE_FLOOR_F = 28 // f64 slot 28 = words 56..57: ≥ the fence of every scope ever dropped (fences.ts)
// 64-bit event counters for stats() and /metrics (counter64.ts: low word, high word): bumped on
// rare paths only (a drop-oldest append, a lock that was busy, a loader run), never by a read
export const H_DROPPED_LO = 58 // items dropped by drop-oldest scope limits (words 58..59)
export const H_LOCK_WAITS_LO = 60 // tryLock/lock calls that found the lock held: waited or failed (words 60..61)
export const H_LOADER_RUNS_LO = 62 // getOrLoad loaders run (words 62..63)
// line 3: item count (rare writers: bulk, drops, expiry, the reaper; plus each slot's T_ITEMS_F) and last write
export const H_ITEMS = 48
export const H_PROCESS_SHARED = 49 // 1: the store is a /dev/shm file shared by processes (shm-open.ts): waits use the futex, liveness checks pids
export const H_LAST_WRITE_TS_F = 25 // f64 slot 25 = bytes 200..207: unused since per-thread T_LAST_WRITE_TS_F (stats() still takes it into the max)
// TLSF second-level bitmaps and free-list heads
export const H_SL_BITMAPS = 64 // FL_COUNT words
export const H_FREE_HEADS = 96 // FL_COUNT × SL_COUNT words (8-byte-unit block offsets, 0 = empty)
export const HEADER_WORDS = 96 + 26 * 16 // 512 words
export const HEADER_BYTES = HEADER_WORDS * 4

// ---- thread slots (128 words = 512 bytes, own cache lines, so a thread's stores never false-share) ----
export const T_STATE = 0 // FREE | ALIVE | DEAD | REAPING
export const T_THREAD_ID = 1
export const T_EPOCH = 2 // bumped on every claim; part of the owner token
export const T_BUSY = 3 // 1 while the thread is inside a write (it may own unreachable blocks)
// The undo record of the publish window this thread has open (reaper.ts repairs a torn scope with it):
export const T_UNDO_REC = 4 // word index of the scope record + 1 (0: no window open); stored last
export const T_UNDO_OP = 5 // UNDO_RESTORE | UNDO_TRIM | UNDO_DELETE | UNDO_DROP
export const T_UNDO_A = 6 // op argument: trim: items removed; delete: entry position
export const T_UNDO_B = 7 // op argument: trim: bytes freed / 8; delete: the item's ref
export const T_UNDO_PATCH = 8 // 2 × [word index (-1: unused), old value] of words outside the record
export const T_FENCE = 12 // a word only this thread touches: its atomic RMW is a seqlock reader's fence on ARM
export const T_REAPER = 13 // REAPING: the token of the reaper (if it dies, another reap takes the slot over)
export const T_DEFERRED_B8 = 14 // bytes (/8) of retired blocks this thread still has to free (deferred frees, PENDING)
export const T_WLOCK = 15 // = the slot's token once its thread holds its Web Lock (liveness-weblocks.ts); stale otherwise
export const T_UNDO_SNAP = 16 // the scope record's SCOPE_WORDS (48) words as they were when the window opened: words 16..63
// words 64..65: the ts (µs) of the latest write a thread in this slot made; only that thread
// stores it, stats() takes the max over every slot (it survives the slot's reuse: a past write's ts)
export const T_LAST_WRITE_TS_F = 32 // f64 slot 32 of the thread slot = words 64..65
// words 66..79: the thread's process, written at claim (liveness-process.ts proves a process dead with them)
export const T_PID = 66 // process.pid
export const T_PSTART_LO = 67 // the process's start time (/proc/PID/stat field 22, clock ticks since boot), low 32 bits
export const T_PSTART_HI = 68 // its high bits (0 outside shared memory: no addon, one process)
// words 69..79: reserved for the thread's process
// words 80..81: items this slot's threads added minus those they removed (append, delete, trim); only
// the slot's thread stores it and it survives the slot's reuse, so the store's item count is
// H_ITEMS + the sum over every slot (threads.ts itemDeltas) and an append bumps no shared word
export const T_ITEMS_F = 40 // f64 slot 40 of the thread slot
export const T_READY_B8 = 82 // bytes (/8) of the thread's ready blocks (alloc.ts): charged, but holding nothing yet
export const THREAD_WORDS = 128 // 512 bytes
export const UNDO_RESTORE = 1 // append/upsert/update/counter: put the snapshot and patches back
export const UNDO_TRIM = 2 // roll forward: remove the first A entries
export const UNDO_DELETE = 3 // roll forward: remove entry A (item B)
export const UNDO_DROP = 4 // roll forward: the scopes this thread holds locked are being dropped
export const UNDO_BULK = 5 // roll back a warm/rebuild swap: A = a PENDING block of [count, (rec, SCOPE_WORDS words) × count]
export const THREAD_FREE = 0
export const THREAD_ALIVE = 1
export const THREAD_DEAD = 2 // its thread exited; waiting for the reaper
export const THREAD_REAPING = 3 // a reaper is recovering what it held
export const THREAD_CLAIMING = 4 // being claimed: its fields are not the new thread's yet

// ---- scope record (48 words = 192 bytes, 3 cache lines) -------------------------------------
// line 1: read by every reader, written only by the scope's writer
export const S_VER = 0 // seqlock: odd while a writer publishes; never reset, survives slot reuse
export const S_GEN = 1 // bumped each time the slot is given to a scope or freed
export const S_STATE = 2 // SCOPE_FREE | SCOPE_LIVE
export const S_COUNT = 3 // live items
export const S_ENT_REF = 4 // entries array (8-byte units), 0 = none
export const S_ENT_CAP = 5 // entries capacity
export const S_ENT_START = 6 // index of the oldest live entry
export const S_ID_REF = 7 // id hash table (8-byte units), 0 = none
export const S_ID_CAP = 8 // id table slots (power of two)
export const S_HOLES = 9 // seqs missing between the first and last live entry (capped at HOLES_MAX): 0 = seq of entry k is first + k
export const S_NAME_REF = 10 // name bytes block (8-byte units)
export const S_NAME_LEN = 11
export const S_FIRST_SEQ_F = 6 // f64 slot 6 = words 12..13: seq of the oldest live entry (any value while count is 0)
export const S_HASH = 14
export const S_BYTES_B8 = 15 // bytes this scope holds (record + blocks), 8-byte units
// line 2: lock, cold metadata, read tallies
export const S_LOCK = 16
export const S_WAITERS = 17
export const S_LAST_SEQ_F = 9 // words 18..19
export const S_CREATED_TS_F = 10 // words 20..21
export const S_LAST_WRITE_TS_F = 11 // words 22..23
export const S_LAST_ACCESS_TS_F = 12 // words 24..25
export const S_READS_LO = 26
export const S_READS_HI = 27
export const S_NEXT_FREE = 28 // free slot stack link (slot+1)
export const S_ID_USED = 29 // id slots used: live + tombstones (writers only)
export const S_FENCE_F = 15 // words 30..31: the scope's version fence, +1 in every publish window (fences.ts)
// line 3 (words 32..47): the policies beyond ScopeCache
// words 32..39: expiry (expiry.ts). Written by the scope's writer inside its publish windows (so the
// undo snapshot restores them); readers load S_EXP_ITEMS only to pick a page's path (read.ts).
export const S_EXP_ITEMS = 32 // live items that carry an expiry (0: no read of this scope looks at one)
// word 33: reserved for expiry
export const S_EXP_MIN_F = 17 // f64 slot 17 = words 34..35: ≤ the earliest expiry (µs) of a live item while S_EXP_ITEMS > 0
export const S_TTL_F = 18 // f64 slot 18 = words 36..37: the scope's default TTL (ms) for items written without ttlMs (0: none)
// words 38..39: reserved for expiry
/** The record words expiry keeps (the reaper restores them with the rest of a torn window's record). */
export const S_EXPIRY_WORDS: [number, number] = [32, 38]
// words 40..47: reserved for the capacity policy (access bit, item limit)
// words 40..47: the capacity policy (evict.ts, scope-limit.ts)
export const S_CLOCK = 40 // access bit ('evict' stores): 1 = read or written since the hand last passed; a read stores it only when it loads 0
export const S_LIMIT = 41 // setScopeLimit's maxItems (0: none, the store's scopeMaxItems); written under the scope lock
export const S_LIMIT_MODE = 42 // LIMIT_REJECT | LIMIT_DROP_OLDEST
// words 43..47: free
export const SCOPE_WORDS = 48
export const SCOPE_RECORD_BYTES = SCOPE_WORDS * 4
export const SCOPE_FREE = 0
export const SCOPE_LIVE = 1
export const LIMIT_REJECT = 0
export const LIMIT_DROP_OLDEST = 1
export const WHEN_FULL_REJECT = 0
export const WHEN_FULL_EVICT = 1

// ---- lease record (72 words = 288 bytes): one named lock, all fields written under H_LEASE_LOCK ----
// A claim writes every field and then L_STATE, a free writes L_STATE alone: a thread that dies
// inside the mutex leaves every record whole (the reaper only has to release the mutex).
export const L_STATE = 0 // LEASE_FREE | LEASE_HELD
export const L_HASH = 1
export const L_NAME_LEN = 2
export const L_HOLDER = 3 // thread token of the holder (diagnostics: a dead holder's lease simply lapses)
export const L_TOKEN_F = 2 // f64 slot 2 = words 4..5: the fencing token
export const L_EXPIRES_F = 3 // f64 slot 3 = words 6..7: lease end, ms on the store clock
export const L_NAME_B = 32 // name bytes: a lock name follows the key rules (≤ 256 bytes)
export const LEASE_WORDS = 72
export const LEASE_RECORD_BYTES = LEASE_WORDS * 4
export const LEASE_FREE = 0
export const LEASE_HELD = 1

// ---- directory entry: [hash, slot+1]; slot+1 = 0 empty, -1 tombstone --------------------------
export const DIR_EMPTY = 0
export const DIR_TOMB = -1

// ---- heap blocks (TLSF) ---------------------------------------------------------------------
// A block starts with a 2-word header. Sizes are multiples of 8, so the low 3 bits are flags.
//   word 0: size | FREE | PREV_FREE      word 1: used: tag word; free: next free (8-byte units)
//   tag word = type (bits 0-2) | PENDING (bit 3) | owner thread slot + 1 (bits 4-15)
//            | allocation serial (bits 16-31: per thread, +1 per block; with seq and ts it tells
//              two lives of one item block apart, for the readers' decoded-string cache)
//   The owner is the thread that allocated the block, or that unpublished it and will free it:
//   an unreachable block whose owner is dead is garbage the reaper frees (reaper.ts).
//   free blocks also hold word 2: prev free, and their last word: size (footer, for coalescing)
export const B_SIZE = 0
export const B_TAG = 1
export const B_NEXT = 1
export const B_PREV = 2
export const BLOCK_HEADER_BYTES = 8
export const MIN_BLOCK_BYTES = 16
export const F_FREE = 1
export const F_PREV_FREE = 2
export const SIZE_MASK = ~7
export const SL_BITS = 4
export const SL_COUNT = 1 << SL_BITS
export const FL_COUNT = 26 // up to 2^32-byte blocks
export const SMALL_BLOCK = SL_COUNT << 3 // 128: below this, classes are 8 bytes apart

// block types (tag word bits 0-2)
export const TAG_TYPE_MASK = 7
export const TAG_PENDING = 8 // counted in H_PENDING_B8, not against the budget
export const TAG_OWNER_SHIFT = 4
export const TAG_OWNER_MASK = 0xfff0
export const TAG_SERIAL_SHIFT = 16
export const TAG_ITEM = 1
export const TAG_ENTRIES = 2
export const TAG_IDTAB = 3
export const TAG_NAME = 4
export const TAG_UNDO = 5 // a bulk swap's undo record (PENDING, freed when the swap is done)
export const TAG_READY = 6 // a thread's ready block: charged, reachable from nothing until an item write of its size takes it (alloc.ts)
/** The owner thread slot named in a tag word (-1: none). */
export const tagOwner = (tag: number): number => ((tag & TAG_OWNER_MASK) >>> TAG_OWNER_SHIFT) - 1
export const tagType = (tag: number): number => tag & TAG_TYPE_MASK

// ---- item block (24-byte header; words from the block start) --------------------------------
//   word 0  block size | flags          word 1  tag word (above)
//   word 2  seq, low 32 bits            word 3  seq, high 21 bits | id length (9 bits) << 21 | IF_* flags << 30
//   word 4  ts (µs), low 32 bits        word 5  ts, high 21 bits | pad (4 bits) << 21 | I_EXPIRES (bit 25)
//   byte 24 id bytes, then payload bytes
//   with I_EXPIRES: the block's last 8 bytes hold the expiry (f64, µs since the epoch; expiry.ts)
// The payload length is not stored: it is the block size − 24 − id length − pad − (8 if I_EXPIRES),
// where pad (0–15) counts the bytes between the payload and the block end or the expiry
// (8-alignment, and a remainder too small to split off). An item block's size word never changes
// while it is allocated, nor do its payload and flags; only touch rewrites the expiry, inside a
// publish window of the item's scope. (item-record.ts)
export const I_SEQ_LO = 2
export const I_SEQ_HI = 3
export const I_TS_LO = 4
export const I_TS_HI = 5
export const I_HI_MASK = 0x1fffff // the high 21 bits of a 53-bit seq or ts
export const I_ID_LEN_SHIFT = 21
export const I_ID_LEN_MASK = 0x1ff
export const I_FLAGS_SHIFT = 30
export const I_PAD_SHIFT = 21
export const I_PAD_MASK = 15
/** Set in the ts-hi word when the block ends with an 8-byte expiry. At bit 25, `(tsHi >>> 22) & 8` is its 8 bytes. */
export const I_EXPIRES = 1 << 25
export const I_EXPIRES_BYTES_SHIFT = 22
export const EXPIRY_BYTES = 8
export const ITEM_HEADER_BYTES = 24
export const IF_ASCII = 1 // payload bytes are all ASCII (decode with latin1Slice)
export const IF_STRING = 2 // payload is a JSON string

// ---- entries array: 1 word per item, its ref (8-byte units), in seq order from S_ENT_START; ----
//      the seq of entry k is S_FIRST_SEQ_F + k while S_HOLES is 0, else the item's own (scope-index.ts)
export const HOLES_MAX = 1 << 30
// ---- id table: 1 word per slot, tag (the id hash's top bits) | item ref (low ID_REF_BITS bits);
//      0 = empty, -1 = tombstone; power-of-two slot count, load ≤ 0.8 (id-table.ts) ------------
export const ID_EMPTY = 0
export const ID_TOMB = -1
/**
 * The item-ref bits of an id table slot: the bit length of the heap's end (8-byte units), so every
 * ref fits and an all-ones ref (the tombstone) is none; the bits above it hold a hash tag.
 */
export const idRefMask = (heapEndB8: number): number => 2 ** (32 - Math.clz32(heapEndB8)) - 1

export const align8 = (n: number): number => (n + 7) & ~7

/**
 * Bytes one item occupies in its heap block: what `maxItemBytes` and the byte budget count
 * (`expires`: it carries an expiry, 8 bytes more).
 */
export const itemBytes = (idBytes: number, payloadBytes: number, expires = false): number =>
  align8(ITEM_HEADER_BYTES + idBytes + payloadBytes + (expires ? EXPIRY_BYTES : 0))

/** Heap block size for a request of `n` bytes of content (header included, 8-aligned). */
export const blockBytes = (n: number): number => Math.max(MIN_BLOCK_BYTES, align8(n + BLOCK_HEADER_BYTES))

export const DEFAULTS = {
  maxStoreBytes: 100 * 1024 * 1024,
  scopeMaxItems: 100_000,
  maxItemBytes: 1024 * 1024,
  maxThreads: 256,
  lockLeaseMs: 1000,
  maxLocks: 1024,
  expirySweepMs: 1000,
} as const

/** The largest TTL (ms) a write, touch or setScopeTtl takes: ten years; more is a mistake, not a cache. */
export const MAX_TTL_MS = LIMITS.maxTtlMs

/**
 * The largest budget: every byte offset of the buffer must fit a signed 32-bit int (the core
 * shifts offsets with `>>`), and the buffer holds 2 × the budget of heap plus the scope table
 * (resolveConfig checks the total too, for a large explicit maxScopes).
 */
export const MAX_STORE_BYTES = 768 * 1024 * 1024
export const MAX_BUFFER_BYTES = 2 ** 31 - 64
export const MAX_THREADS = 2047 // token = epoch << 11 | slot+1
export const MAX_SCOPES = 1 << 22
export const MAX_LOCKS = 1 << 20
