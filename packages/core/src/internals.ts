/**
 * The invariant checker: walks a store's shared memory and throws on the first broken rule.
 * Run it when no thread is writing (tests call it after every command and after stress runs).
 *
 *  heap   every block's header, footer and PREV_FREE flag agree; no two neighbouring free blocks
 *         (unless merging would pass the block size cap); every free block is on the free list of
 *         its class exactly once and the bitmaps match the lists
 *  owners every used block is reachable from exactly one place (a scope's name, entries array,
 *         id table or one entry); none is leaked, none shared
 *  bytes  Σ used blocks + scope records == charged bytes + pending bytes; pending bytes are only
 *         a live thread's deferred frees (PENDING blocks it owns, == its T_DEFERRED_B8); each
 *         scope's byte count == its record + its blocks
 *  scopes entries hold strictly increasing seqs ≤ lastSeq that match their items; the id table
 *         finds exactly the items that have ids, slot by slot (checkIdTable); the directory finds every live scope and
 *         nothing else; counts match; no lock is held and no seqlock is odd
 */
import { MAX_BLOCK_BYTES } from './alloc.js'
import type { ScopeCache } from './cache.js'
import {
  F_FREE, F_PREV_FREE, FL_COUNT, H_CHARGED_B8, H_DIR_LOCK, H_DIR_VER, H_ALLOC_LOCK, H_FL_BITMAP, H_FREE_HEADS,
  H_ITEMS, H_PENDING_B8, H_SCOPES, H_SCOPE_HWM, H_SL_BITMAPS, ID_EMPTY, ID_TOMB, MIN_BLOCK_BYTES, S_BYTES_B8, S_COUNT,
  S_ENT_CAP, S_ENT_REF, S_ENT_START, S_FIRST_SEQ_F, S_HOLES, S_ID_CAP, S_ID_REF, S_ID_USED, S_LAST_SEQ_F, S_LOCK, S_NAME_LEN,
  S_CLOCK, S_LIMIT, S_LIMIT_MODE, LIMIT_REJECT, LIMIT_DROP_OLDEST,
  S_NAME_REF, S_STATE, S_VER, SCOPE_LIVE, SCOPE_RECORD_BYTES, SIZE_MASK, SL_BITS, SL_COUNT, TAG_ENTRIES,
  TAG_IDTAB, TAG_ITEM, TAG_NAME, B_NEXT, B_TAG, SMALL_BLOCK, TAG_PENDING, TAG_TYPE_MASK, T_STATE, THREAD_DEAD,
  THREAD_REAPING, T_DEFERRED_B8, T_READY_B8, TAG_READY, tagOwner, THREAD_ALIVE, blockBytes, IF_ASCII, itemBytes, I_EXPIRES, I_TS_HI, MAX_TTL_MS, S_EXP_ITEMS,
  S_EXP_MIN_F, S_TTL_F,
  H_LEASE_HELD, H_LEASE_LOCK, H_LEASE_PROBE, H_LEASE_TOKEN_F, L_HASH, L_NAME_B, L_NAME_LEN, L_STATE, L_TOKEN_F,
  LEASE_FREE, LEASE_HELD, LEASE_WORDS,
} from './layout.js'
import { MAX_PROBE } from './id-table.js'
import { itemExpiry } from './item-record.js'
import { hashKey } from './keys.js'
import { LEASE_SEED } from './leases.js'
import { holesOf } from './scope-index.js'
import { INTERNALS, type Internals } from './store.js'
import { MAX_KEY_BYTES } from './validate.js'

export { INTERNALS } from './store.js'
export { setFaultHook, type FaultPoint } from './fault.js'

export interface HeapReport {
  usedBlocks: number
  usedBytes: number
  freeBlocks: number
  freeBytes: number
  largestFree: number
}

class Violation extends Error {
  override name = 'InvariantViolation'
}

const fail = (msg: string): never => {
  throw new Violation(msg)
}

function classOf(size: number): number {
  if (size < SMALL_BLOCK) return size >>> 3
  const l = 31 - Math.clz32(size)
  return ((l - 6) << SL_BITS) | ((size >>> (l - SL_BITS)) & (SL_COUNT - 1))
}

export function checkInvariants(cache: ScopeCache): HeapReport {
  const x = cache[INTERNALS]()
  const { v, cfg, idx, ids, dir, threads } = x
  const hashId = (id: string): number => x.hashId(id)
  const { i32, f64 } = v
  const lo = cfg.heapB8 * 8
  const end = cfg.heapEndB8 * 8 - 8

  // ---- heap walk ------------------------------------------------------------------------------
  const used = new Map<number, number>() // byte offset -> tag
  const free = new Set<number>()
  const deferred = new Map<number, number>() // owner slot -> bytes of PENDING blocks (its deferred frees)
  const ready = new Map<number, number>() // owner slot -> bytes of its ready blocks (alloc.ts takeReady)
  let pendingBytes = 0
  const report: HeapReport = { usedBlocks: 0, usedBytes: 0, freeBlocks: 0, freeBytes: 0, largestFree: 0 }
  let prevFree = false
  let prevSize = 0
  for (let b = lo; b < end; ) {
    const hdr = i32[b >> 2]
    const size = hdr & SIZE_MASK
    if (size < MIN_BLOCK_BYTES || b + size > end) fail(`heap: block at ${b} has bad size ${size}`)
    if (((hdr & F_PREV_FREE) !== 0) !== prevFree) fail(`heap: block at ${b} PREV_FREE flag is wrong`)
    if ((hdr & F_FREE) !== 0) {
      if (i32[((b + size) >> 2) - 1] !== size) fail(`heap: free block at ${b} footer mismatch`)
      if (prevFree && prevSize + size <= MAX_BLOCK_BYTES) fail(`heap: free blocks at ${b - prevSize} and ${b} were not coalesced`)
      free.add(b)
      report.freeBlocks++
      report.freeBytes += size
      report.largestFree = Math.max(report.largestFree, size)
    } else {
      const tag = i32[(b >> 2) + B_TAG]
      if ((tag & TAG_PENDING) !== 0) {
        // with no write running, only a live thread's deferred frees may be PENDING
        const owner = tagOwner(tag)
        if (owner < 0 || owner >= cfg.maxThreads || i32[threads.at(owner) + T_STATE] !== THREAD_ALIVE) {
          fail(`heap: used block at ${b} is still marked PENDING with no bulk write running`)
        }
        deferred.set(owner, (deferred.get(owner) ?? 0) + size)
        pendingBytes += size
      } else if ((tag & TAG_TYPE_MASK) === TAG_READY) {
        // charged, reachable from nothing: a live thread's ready blocks
        const owner = tagOwner(tag)
        if (owner < 0 || owner >= cfg.maxThreads || i32[threads.at(owner) + T_STATE] !== THREAD_ALIVE) fail(`heap: ready block at ${b} of a thread that is not alive`)
        ready.set(owner, (ready.get(owner) ?? 0) + size)
      } else used.set(b, tag & TAG_TYPE_MASK)
      report.usedBlocks++
      report.usedBytes += size
    }
    prevFree = (hdr & F_FREE) !== 0
    prevSize = size
    b += size
  }
  if (((i32[end >> 2] & F_PREV_FREE) !== 0) !== prevFree) fail('heap: sentinel PREV_FREE flag is wrong')

  // ---- free lists -----------------------------------------------------------------------------
  for (let fl = 0; fl < FL_COUNT; fl++) {
    const slMap = i32[H_SL_BITMAPS + fl]
    if (((i32[H_FL_BITMAP] >>> fl) & 1) !== (slMap !== 0 ? 1 : 0)) fail(`free lists: first-level bit ${fl} disagrees`)
    for (let sl = 0; sl < SL_COUNT; sl++) {
      const c = (fl << SL_BITS) | sl
      let ref = i32[H_FREE_HEADS + c]
      if (((slMap >>> sl) & 1) !== (ref !== 0 ? 1 : 0)) fail(`free lists: bitmap bit for class ${c} disagrees`)
      let guard = 0
      while (ref !== 0) {
        const b = ref * 8
        if (!free.delete(b)) fail(`free lists: class ${c} lists ${b}, which is not a free block (or is listed twice)`)
        if (classOf(i32[b >> 2] & SIZE_MASK) !== c) fail(`free lists: block ${b} is in the wrong class`)
        if (++guard > report.freeBlocks) fail('free lists: cycle')
        ref = i32[(b >> 2) + B_NEXT]
      }
    }
  }
  if (free.size > 0) fail(`free lists: ${free.size} free block(s) on no list`)

  // ---- scopes ---------------------------------------------------------------------------------
  const own = (b8: number, tag: number, what: string): number => {
    const b = b8 * 8
    const t = used.get(b)
    if (t === undefined) fail(`${what}: block ${b} is not a used block (freed, or never allocated)`)
    if (t !== tag) fail(`${what}: block ${b} has tag ${t}, expected ${tag}`)
    used.delete(b)
    return i32[b >> 2] & SIZE_MASK
  }
  let scopes = 0
  let items = 0
  let recordBytes = 0
  const hwm = i32[H_SCOPE_HWM]
  for (let s = 0; s < hwm; s++) {
    const rec = dir.rec(s)
    if (i32[rec + S_LOCK] !== 0) fail(`scope slot ${s}: lock still held by token ${i32[rec + S_LOCK]}`)
    if ((i32[rec + S_VER] & 1) !== 0) fail(`scope slot ${s}: seqlock left odd`)
    if (i32[rec + S_STATE] !== SCOPE_LIVE) continue
    scopes++
    recordBytes += SCOPE_RECORD_BYTES
    const nameA = i32[rec + S_NAME_REF] * 8 + 8
    const name = v.buf.toString('utf8', nameA, nameA + i32[rec + S_NAME_LEN])
    const where = `scope '${name}'`
    let bytes = SCOPE_RECORD_BYTES + own(i32[rec + S_NAME_REF], TAG_NAME, where + ' name')
    if (dir.findLocked(name) !== s) fail(`${where}: the directory does not find it at slot ${s}`)
    // the capacity policy's words (evict.ts, scope-limit.ts)
    const clock = i32[rec + S_CLOCK]
    const limit = i32[rec + S_LIMIT]
    if (clock !== 0 && clock !== 1) fail(`${where}: access bit ${clock}`)
    if (limit < 0 || limit > cfg.scopeMaxItems) fail(`${where}: item limit ${limit} outside 0..${cfg.scopeMaxItems}`)
    if (i32[rec + S_LIMIT_MODE] !== LIMIT_REJECT && i32[rec + S_LIMIT_MODE] !== LIMIT_DROP_OLDEST) fail(`${where}: limit mode ${i32[rec + S_LIMIT_MODE]}`)
    if (limit === 0 && i32[rec + S_LIMIT_MODE] !== LIMIT_REJECT) fail(`${where}: a limit mode without a limit`)
    const count = i32[rec + S_COUNT]
    items += count
    const lastSeq = f64[(rec >> 1) + S_LAST_SEQ_F]
    if (count > 0 || i32[rec + S_ENT_REF] !== 0) {
      const size = own(i32[rec + S_ENT_REF], TAG_ENTRIES, where + ' entries')
      const want = blockBytes(i32[rec + S_ENT_CAP] * 4)
      if (size !== want && size !== want + 8) fail(`${where}: entries block of ${size} bytes for ${i32[rec + S_ENT_CAP]} entries`)
      bytes += size
      if (i32[rec + S_ENT_START] < 0 || i32[rec + S_ENT_START] + count > i32[rec + S_ENT_CAP]) fail(`${where}: entries window out of range`)
    }
    // the first live seq and the hole count the readers rely on (scope-index.ts)
    const first = f64[(rec >> 1) + S_FIRST_SEQ_F]
    const holes = i32[rec + S_HOLES]
    if (count === 0 && (holes !== 0 || first !== lastSeq + 1)) fail(`${where}: empty, but first seq ${first} (lastSeq ${lastSeq}) and ${holes} holes`)
    if (count > 0) {
      if (first !== idx.seqOf(idx.refAt(rec, 0))) fail(`${where}: first seq ${first} but the oldest item has seq ${idx.seqOf(idx.refAt(rec, 0))}`)
      const want = holesOf(first, idx.seqOf(idx.refAt(rec, count - 1)), count)
      if (holes !== want) fail(`${where}: ${holes} holes recorded, ${want} between its first and last items`)
    }
    const withId = new Set<number>()
    let prev = 0
    let expiring = 0
    let earliest = Infinity
    for (let k = 0; k < count; k++) {
      const ref = idx.refAt(rec, k)
      const seq = idx.seqOf(ref)
      if (!(seq > prev)) fail(`${where}: seqs not strictly increasing at position ${k}`)
      if (seq > lastSeq) fail(`${where}: seq ${seq} above lastSeq ${lastSeq}`)
      if (idx.seqAt(rec, k) !== seq || idx.findSeq(rec, seq) !== k) fail(`${where}: seq ${seq} at position ${k} is not found there by seq`)
      const size = own(ref, TAG_ITEM, `${where} item ${seq}`)
      // the payload length is derived from the block size and the pad (item-record.ts): check what it gives
      const plen = idx.payloadLen(ref)
      const exp = itemExpiry(i32, f64, ref)
      if ((i32[ref * 2 + I_TS_HI] & I_EXPIRES) !== 0) {
        expiring++
        if (!Number.isSafeInteger(exp) || exp <= 0) fail(`${where}: item ${seq} has expiry ${exp}`)
        earliest = Math.min(earliest, exp)
      }
      const want = itemBytes(idx.idLen(ref), plen, exp > 0)
      if (plen < 1 || (size !== want && size !== want + 8)) fail(`${where}: item ${seq} block size ${size} disagrees with its lengths`)
      if (!Number.isSafeInteger(idx.tsOf(ref)) || idx.tsOf(ref) <= 0) fail(`${where}: item ${seq} has ts ${idx.tsOf(ref)}`)
      if ((idx.flags(ref) & IF_ASCII) !== 0) {
        const a = idx.idStart(ref) + idx.idLen(ref)
        for (let j = a; j < a + plen; j++) if (v.u8[j] >= 0x80) fail(`${where}: item ${seq} is flagged ASCII but is not`)
      }
      bytes += size
      prev = seq
      if (idx.idLen(ref) > 0) {
        withId.add(ref)
        const idA = idx.idStart(ref)
        const id = v.buf.toString('utf8', idA, idA + idx.idLen(ref))
        const h = hashId(id)
        if (ids.hashItem(ref) !== h) fail(`${where}: id '${id}' hashes differently from its stored bytes`)
        const at = ids.find(rec, id, h)
        if (at < 0 || ids.refOf(i32[at]) !== ref) fail(`${where}: id '${id}' (seq ${seq}) is not found through the id table`)
      }
    }
    // expiry (expiry.ts): the count readers and writers go by, and a bound no later than the earliest
    if (i32[rec + S_EXP_ITEMS] !== expiring) fail(`${where}: ${i32[rec + S_EXP_ITEMS]} items with an expiry recorded, ${expiring} found`)
    if (expiring > 0 && !(f64[(rec >> 1) + S_EXP_MIN_F] <= earliest)) fail(`${where}: earliest-expiry bound ${f64[(rec >> 1) + S_EXP_MIN_F]} after the earliest expiry ${earliest}`)
    const ttl = f64[(rec >> 1) + S_TTL_F]
    if (!(Number.isSafeInteger(ttl) && ttl >= 0 && ttl <= MAX_TTL_MS)) fail(`${where}: default TTL ${ttl}`)
    if (i32[rec + S_ID_REF] !== 0) bytes += checkIdTable(x, rec, where, withId, own)
    else if (withId.size > 0) fail(`${where}: items with ids but no id table`)
    if (i32[rec + S_BYTES_B8] * 8 !== bytes) fail(`${where}: byte count ${i32[rec + S_BYTES_B8] * 8} but blocks add up to ${bytes}`)
  }
  if (used.size > 0) {
    const [b, tag] = used.entries().next().value as [number, number]
    fail(`heap: ${used.size} used block(s) owned by nothing (leaked), e.g. ${b} with tag ${tag}`)
  }
  for (let t = 0; t < cfg.maxThreads; t++) {
    const listed = Atomics.load(i32, threads.at(t) + T_DEFERRED_B8) * 8
    const held = deferred.get(t) ?? 0
    if (i32[threads.at(t) + T_STATE] === THREAD_ALIVE && listed !== held) {
      fail(`accounting: thread slot ${t} lists ${listed} bytes of deferred frees, but owns ${held} bytes of PENDING blocks`)
    }
    const readyListed = Atomics.load(i32, threads.at(t) + T_READY_B8) * 8
    if (readyListed !== (ready.get(t) ?? 0)) fail(`accounting: thread slot ${t} lists ${readyListed} bytes of ready blocks, but owns ${ready.get(t) ?? 0}`)
  }
  if (i32[H_PENDING_B8] * 8 !== pendingBytes) fail(`accounting: ${i32[H_PENDING_B8] * 8} pending bytes, but deferred frees hold ${pendingBytes}`)
  if (i32[H_CHARGED_B8] * 8 !== report.usedBytes - pendingBytes + recordBytes) {
    fail(`accounting: charged ${i32[H_CHARGED_B8] * 8} bytes, but used blocks ${report.usedBytes - pendingBytes} + records ${recordBytes}`)
  }
  if (i32[H_CHARGED_B8] * 8 > cfg.maxStoreBytes) fail('accounting: charged bytes exceed maxStoreBytes')
  if (i32[H_SCOPES] !== scopes) fail(`counters: ${i32[H_SCOPES]} scopes counted, ${scopes} live`)
  const counted = i32[H_ITEMS] + threads.itemDeltas()
  if (counted !== items) fail(`counters: ${counted} items counted (H_ITEMS ${i32[H_ITEMS]} + the thread slots'), ${items} live`)
  if (i32[H_DIR_LOCK] !== 0 || i32[H_ALLOC_LOCK] !== 0) fail('locks: directory or allocator lock still held')
  for (let t = 0; t < cfg.maxThreads; t++) {
    const st = i32[threads.at(t) + T_STATE]
    if (st === THREAD_DEAD || st === THREAD_REAPING) fail(`threads: slot ${t} is dead and was never reaped`)
  }
  if ((i32[H_DIR_VER] & 1) !== 0) fail('directory seqlock left odd')
  // every directory entry points at a live scope
  for (let i = 0; i < cfg.dirCap; i++) {
    const s1 = i32[cfg.dirW + i * 2 + 1]
    if (s1 > 0 && i32[dir.rec(s1 - 1) + S_STATE] !== SCOPE_LIVE) fail(`directory: entry ${i} points at a free slot ${s1 - 1}`)
  }
  checkLeaseTable(x)
  return report
}

/**
 * A scope's id table, slot by slot (id-table.ts): a power-of-two slot count in a block of exactly
 * that many words; each live slot holds an item of this scope that has an id, once, under the tag
 * of its id's hash, within MAX_PROBE of its bucket with no empty slot between; every id is there;
 * the used count (live + tombstones) is right and the load ≤ 0.8. Returns the block's bytes.
 */
function checkIdTable(x: Internals, rec: number, where: string, withId: Set<number>, own: (b8: number, tag: number, what: string) => number): number {
  const { i32 } = x.v
  const { ids } = x
  const tref = i32[rec + S_ID_REF]
  const cap = i32[rec + S_ID_CAP]
  if (cap < 8 || (cap & (cap - 1)) !== 0) fail(`${where}: id table of ${cap} slots (not a power of two ≥ 8)`)
  const size = own(tref, TAG_IDTAB, where + ' id table')
  const want = blockBytes(cap * 4)
  if (size !== want && size !== want + 8) fail(`${where}: id table block of ${size} bytes for ${cap} slots`)
  const w = tref * 2 + 2
  const mask = cap - 1
  const seen = new Set<number>()
  let usedSlots = 0
  for (let i = 0; i < cap; i++) {
    const sv = i32[w + i]
    if (sv === ID_EMPTY) continue
    usedSlots++
    if (sv === ID_TOMB) continue
    const r = ids.refOf(sv)
    if (!withId.has(r)) fail(`${where}: id table slot ${i} points at ${r * 8}, not a live item of this scope with an id`)
    if (seen.has(r)) fail(`${where}: id table holds item ${r * 8} twice`)
    seen.add(r)
    const h = ids.hashItem(r)
    if (ids.slotOf(h, r) !== sv) fail(`${where}: id table slot ${i} has the wrong tag for its id`)
    const home = h & mask
    if (((i - home) & mask) >= MAX_PROBE) fail(`${where}: id table slot ${i} lies ${(i - home) & mask} slots past its bucket`)
    for (let j = home; j !== i; j = (j + 1) & mask) if (i32[w + j] === ID_EMPTY) fail(`${where}: an empty slot cuts the probe path to id table slot ${i}`)
  }
  if (seen.size !== withId.size) fail(`${where}: id table has ${seen.size} live slots for ${withId.size} items with ids`)
  if (usedSlots !== i32[rec + S_ID_USED]) fail(`${where}: id table used count ${i32[rec + S_ID_USED]} but ${usedSlots} slots used`)
  if (usedSlots * 5 > cap * 4) fail(`${where}: id table over its load factor (${usedSlots} of ${cap} slots used)`)
  return size
}

/** The lease table (leases.ts): free mutex, exact held count, each held name unique and findable. */
function checkLeaseTable(x: Internals): void {
  const { i32, f64, cfg } = x
  if (i32[H_LEASE_LOCK] !== 0) fail('leases: the lease table mutex is still held')
  const names = new Set<string>()
  const probe = i32[H_LEASE_PROBE]
  for (let slot = 0; slot < cfg.leaseCap; slot++) {
    const r = cfg.leasesW + slot * LEASE_WORDS
    if (i32[r + L_STATE] === LEASE_FREE) continue
    if (i32[r + L_STATE] !== LEASE_HELD) fail(`leases: record ${slot} has state ${i32[r + L_STATE]}`)
    const len = i32[r + L_NAME_LEN]
    if (!(len >= 1 && len <= MAX_KEY_BYTES)) fail(`leases: record ${slot} has a name of ${len} bytes`)
    const name = x.v.buf.toString('utf8', r * 4 + L_NAME_B, r * 4 + L_NAME_B + len)
    if (names.has(name)) fail(`leases: '${name}' is held twice`)
    names.add(name)
    const hash = i32[r + L_HASH]
    if (hash !== hashKey(name, cfg.seed ^ LEASE_SEED)) fail(`leases: record ${slot} ('${name}') has a wrong hash`)
    if (((slot - hash) & (cfg.leaseCap - 1)) > probe) fail(`leases: '${name}' sits beyond the probe limit ${probe}`)
    const token = f64[(r >> 1) + L_TOKEN_F]
    if (!(Number.isSafeInteger(token) && token >= 1 && token <= f64[H_LEASE_TOKEN_F])) fail(`leases: '${name}' has token ${token}`)
  }
  if (i32[H_LEASE_HELD] !== names.size) fail(`leases: ${i32[H_LEASE_HELD]} records counted held, ${names.size} are`)
}
