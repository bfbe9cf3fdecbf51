// whenFull 'evict' (issue 12): how close CLOCK over per-scope access bits comes to exact LRU, and
// what the access bit costs a read.
//   1. Hit ratio: a Zipf(0.99) trace of 1 M scope accesses over 100 000 scopes (--quick: 200 000
//      over 20 000), the store sized for 10 % of the scopes. An access reads the scope's item
//      (getRaw); a miss writes the scope's payload, as a cache refills (append: the store evicts
//      what it must). Exact LRU (a Map in insertion order) runs over the same trace at the same
//      capacity. Both are deterministic: a fixed seed, no clock.
//   2. Read cost: getRaw on a 'reject' store vs the same content in an 'evict' store (one plain
//      load and a branch more per read, the bit already set), interleaved rounds, the median of the
//      per-round ratios (lib/rounds.mjs).
import { ScopeCache } from '@scopecache/core'
import { fmtNs, median, round } from '../lib/measure.mjs'
import { roundRatio, timeRounds } from '../lib/rounds.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const PAYLOAD = { text: 'x'.repeat(80) } // ~100 bytes of JSON per scope

/** mulberry32: a small seeded PRNG (the trace must be the same on every run). */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `n` draws from Zipf(s) over ranks 0..k-1 (inverse CDF by binary search); rank r → scope id via a fixed shuffle. */
export function zipfTrace(n, k, s, seed) {
  const cdf = new Float64Array(k)
  let sum = 0
  for (let r = 0; r < k; r++) cdf[r] = sum += 1 / Math.pow(r + 1, s)
  for (let r = 0; r < k; r++) cdf[r] /= sum
  const rnd = prng(seed)
  // popular ranks must not be the lowest scope numbers (slot order would flatter any policy)
  const perm = new Int32Array(k).map((_, i) => i)
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const t = perm[i]
    perm[i] = perm[j]
    perm[j] = t
  }
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const u = rnd()
    let lo = 0
    let hi = k - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    out[i] = perm[lo]
  }
  return out
}

/** Exact LRU over the trace with room for `cap` scopes: hits. */
export function lruHits(trace, cap) {
  const m = new Map()
  let hits = 0
  for (const k of trace) {
    if (m.has(k)) {
      hits++
      m.delete(k)
    } else if (m.size >= cap) m.delete(m.keys().next().value)
    m.set(k, true)
  }
  return hits
}

/** Bytes one scope of the trace holds in a store (record, name, entries, item). */
function scopeBytes() {
  const c = ScopeCache.create({ maxStoreBytes: 1 << 20 })
  c.append('s:99999', PAYLOAD)
  const b = c.stats().bytes
  c.close()
  return b
}

/** The store over the trace: hits, and how many scopes it held at the end. */
export function clockHits(trace, cap) {
  const per = scopeBytes()
  const cache = ScopeCache.create({ maxStoreBytes: cap * per, maxScopes: cap * 2, whenFull: 'evict' })
  const names = new Map()
  const name = (k) => {
    let s = names.get(k)
    if (s === undefined) names.set(k, (s = `s:${k}`))
    return s
  }
  let hits = 0
  for (const k of trace) {
    const scope = name(k)
    if (cache.getRaw(scope, { seq: 1 }) !== undefined) hits++
    else cache.append(scope, PAYLOAD)
  }
  const st = cache.stats()
  cache.close()
  return { hits, held: st.scopes, evicted: st.evictedScopes, perScope: per }
}

function readCost({ quick, progress }) {
  const N = 4096
  const stores = { reject: ScopeCache.create({ maxStoreBytes: 8 << 20 }), evict: ScopeCache.create({ maxStoreBytes: 8 << 20, whenFull: 'evict' }) }
  const scopes = Array.from({ length: N }, (_, i) => `s:${i}`)
  for (const c of Object.values(stores)) for (const s of scopes) c.append(s, PAYLOAD, { id: 'a' })
  const BATCH = 1000
  let x = 0
  const order = prng(7)
  const pick = Int32Array.from({ length: BATCH }, () => Math.floor(order() * N))
  const task = (key) => ({ key, fn: () => { const c = stores[key]; for (let i = 0; i < BATCH; i++) x += c.getRaw(scopes[pick[i]], { id: 'a' }).length } })
  const rounds = quick ? 9 : 25
  const ns = timeRounds([task('reject'), task('evict')], { rounds, sliceMs: quick ? 40 : 150, batch: BATCH, progress: (m) => progress(`eviction: getRaw reject vs evict, ${m}`) })
  for (const c of Object.values(stores)) c.close()
  if (x === 0.5) console.log(x)
  return { ns, rounds, ratio: roundRatio(ns.evict, ns.reject) }
}

async function run({ quick, progress }) {
  const accesses = quick ? 200_000 : 1_000_000
  const scopes = quick ? 20_000 : 100_000
  const cap = scopes / 10
  progress(`eviction: Zipf(0.99) trace of ${accesses} accesses over ${scopes} scopes`)
  const trace = zipfTrace(accesses, scopes, 0.99, 12)
  progress('eviction: exact LRU')
  const lru = lruHits(trace, cap) / accesses
  progress('eviction: the store (CLOCK)')
  const clock = clockHits(trace, cap)
  const ratio = clock.hits / accesses
  const cost = readCost({ quick, progress })
  const points = (ratio - lru) * 100
  return {
    tables: [
      {
        title: `Eviction: hit ratio on a Zipf(0.99) trace (${accesses.toLocaleString('en')} accesses, ${scopes.toLocaleString('en')} scopes, room for ${cap.toLocaleString('en')})`,
        columns: ['policy', 'hit ratio', 'vs exact LRU'],
        rows: [
          ["the store, whenFull 'evict' (CLOCK)", `${(ratio * 100).toFixed(2)} %`, `${points >= 0 ? '+' : ''}${points.toFixed(2)} points`],
          ['exact LRU (same trace, same capacity)', `${(lru * 100).toFixed(2)} %`, '—'],
        ],
      },
      {
        title: "Eviction: getRaw on a 'reject' store vs an 'evict' store (same content, main thread)",
        columns: ['store', 'ns/op (median of rounds)', 'ratio (median of per-round ratios)'],
        rows: [
          ["whenFull 'reject'", fmtNs(median(cost.ns.reject)), '1.00×'],
          ["whenFull 'evict'", fmtNs(median(cost.ns.evict)), `${cost.ratio.median.toFixed(3)}× (range ${cost.ratio.min.toFixed(3)}–${cost.ratio.max.toFixed(3)})`],
        ],
      },
    ],
    figures: {
      'eviction.hitRatio': round(ratio, 4),
      'eviction.lruHitRatio': round(lru, 4),
      'eviction.pointsVsLru': round(points, 2),
      'eviction.getRaw.evictVsReject': round(cost.ratio.median, 3),
    },
    notes: [
      `The store is sized in bytes for ${cap.toLocaleString('en')} scopes (${clock.perScope} bytes each: record, name, entries array, one ~100 B item); it held ${clock.held.toLocaleString('en')} at the end and evicted ${clock.evicted.toLocaleString('en')} scopes. A new scope starts with its access bit clear (set by its next read or write); a read sets a clear bit. The hit ratio is deterministic (seeded trace): the same on every machine.`,
      `Read cost: ${cost.rounds} interleaved rounds of ${4096} scopes read by id in a fixed random order; in the 'evict' store every bit is already set, so a read adds one load and a branch.`,
    ],
    skipped: [],
  }
}

const suite = { id: 'eviction', title: "Eviction (whenFull 'evict'): hit ratio vs exact LRU, and the read cost", run }
export default suite

await runIfMain(import.meta, suite)
