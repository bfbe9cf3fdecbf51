/**
 * Prometheus metrics that every thread of a server shares. The counts live in one small
 * SharedArrayBuffer (`createMetricsBuffer`, passed to each thread's handler), so /metrics on any
 * thread reports the whole server. Each count is a 64-bit value kept as two Int32 words (low, high)
 * bumped with Atomics.add: a request costs a few uncontended-in-the-common-case atomic adds and no
 * allocation. prom-client renders them: counters and gauges read the buffer (or `cache.stats()`)
 * in their collect() hooks, and the latency histogram is a small custom metric over the buckets,
 * all in a private Registry per handler (never the global one).
 *
 * A reader racing a carry into the high word may see a value 2^32 low for that one scrape;
 * metrics tolerate it, nothing else reads these words.
 */
import type { ScopeCache } from '@scopecache/core'
import { Counter, Gauge, Registry } from 'prom-client'
import { ENDPOINT_NAMES } from './endpoints.js'
import { ERROR_CODES, type HttpErrorCode } from './errors.js'

/** Upper bounds of the latency buckets, seconds (+Inf is implicit). */
export const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const

const MAGIC = 0x5343_4d31 // "SCM1"
const HITS = 0
const MISSES = 1
const WRITES = 2
const REJECT0 = 3
const HIST0 = REJECT0 + ERROR_CODES.length
const PER_ENDPOINT = BUCKETS.length + 2 // buckets, +Inf, sum (ns)
const SLOTS = HIST0 + ENDPOINT_NAMES.length * PER_ENDPOINT
const HEADER_WORDS = 2
const WORDS = HEADER_WORDS + SLOTS * 2

/** A fresh shared buffer for the counts of one server; give the same one to every thread's handler. */
export function createMetricsBuffer(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(WORDS * 4)
  const i32 = new Int32Array(sab)
  i32[0] = MAGIC
  i32[1] = WORDS
  return sab
}

const CODE_INDEX = new Map<HttpErrorCode, number>(ERROR_CODES.map((c, i) => [c, i]))

export class Metrics {
  readonly registry = new Registry()
  private readonly i32: Int32Array

  constructor(cache: ScopeCache, buffer: SharedArrayBuffer = createMetricsBuffer()) {
    const i32 = new Int32Array(buffer)
    if (i32.length !== WORDS || i32[0] !== MAGIC || i32[1] !== WORDS) throw new TypeError('metricsBuffer must come from createMetricsBuffer()')
    this.i32 = i32
    const registers = [this.registry]
    const read = (slot: number): number => this.read(slot)
    const counter = (name: string, help: string, slot: number): void => {
      new Counter({
        name, help, registers,
        collect() {
          this.reset()
          this.inc(read(slot))
        },
      })
    }
    counter('scopecache_hits_total', 'Item reads that found their item (a /head or /tail page with items counts once).', HITS)
    counter('scopecache_misses_total', 'Item reads that found nothing.', MISSES)
    counter('scopecache_writes_total', 'Write requests that changed the store.', WRITES)
    new Counter({
      name: 'scopecache_rejections_total', help: 'Requests answered with an error, by code.', labelNames: ['code'], registers,
      collect() {
        this.reset()
        ERROR_CODES.forEach((code, i) => this.inc({ code }, read(REJECT0 + i)))
      },
    })
    const gauge = (name: string, help: string, pick: (s: ReturnType<ScopeCache['stats']>) => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(pick(cache.stats())) } })
    }
    // the store's own event counts (64-bit header counters summed over every thread of the store)
    const storeCounter = (name: string, help: string, pick: (s: ReturnType<ScopeCache['stats']>) => number): void => {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(pick(cache.stats())) } })
    }
    storeCounter('scopecache_evicted_scopes_total', "Scopes evicted to make room (whenFull 'evict').", (s) => s.evictedScopes)
    storeCounter('scopecache_dropped_oldest_total', "Items dropped by scope limits with whenFull 'drop-oldest'.", (s) => s.droppedOldest)
    storeCounter('scopecache_lock_waits_total', 'Lock calls (/lock, tryLock, lock) that found the lock held: waited or failed.', (s) => s.lockWaits)
    storeCounter('scopecache_loader_runs_total', 'getOrLoad loaders run (read-through misses that loaded).', (s) => s.loaderRuns)
    gauge('scopecache_items', 'Items in the store.', (s) => s.items)
    gauge('scopecache_scopes', 'Scopes in the store.', (s) => s.scopes)
    gauge('scopecache_bytes', 'Bytes charged against the store budget.', (s) => s.bytes)
    gauge('scopecache_max_store_bytes', 'The store byte budget.', (s) => s.maxStoreBytes)
    new Counter({
      name: 'scopecache_expired_items_total', help: 'Items reclaimed because they expired (by writes to their scope and the sweep).', registers,
      collect() {
        this.reset()
        this.inc(cache.stats().expiredItems)
      },
    })
    this.registry.registerMetric(new DurationHistogram(read) as never)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  hit(): void {
    this.add(HITS, 1)
  }

  miss(): void {
    this.add(MISSES, 1)
  }

  write(): void {
    this.add(WRITES, 1)
  }

  reject(code: HttpErrorCode): void {
    this.add(REJECT0 + (CODE_INDEX.get(code) as number), 1)
  }

  /** One request of endpoint `index` (ENDPOINT_NAMES) that took `ms` milliseconds. */
  observe(index: number, ms: number): void {
    const s = ms / 1000
    let b = 0
    while (b < BUCKETS.length && s > BUCKETS[b]) b++
    const base = HIST0 + index * PER_ENDPOINT
    this.add(base + b, 1)
    let ns = Math.round(ms * 1e6)
    while (ns > 0x7fffffff) {
      this.add(base + BUCKETS.length + 1, 0x7fffffff)
      ns -= 0x7fffffff
    }
    this.add(base + BUCKETS.length + 1, ns)
  }

  private add(slot: number, n: number): void {
    const w = HEADER_WORDS + slot * 2
    const before = Atomics.add(this.i32, w, n) >>> 0
    if (before + n > 0xffffffff) Atomics.add(this.i32, w + 1, 1)
  }

  read(slot: number): number {
    const w = HEADER_WORDS + slot * 2
    return (Atomics.load(this.i32, w + 1) >>> 0) * 2 ** 32 + (Atomics.load(this.i32, w) >>> 0)
  }
}

/** scopecache_request_duration_seconds{endpoint}: a prom-client-compatible metric over the shared buckets. */
class DurationHistogram {
  readonly name = 'scopecache_request_duration_seconds'
  readonly help = 'Time from request to its answer being ready (before it is written), by endpoint.'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  constructor(private readonly read: (slot: number) => number) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = []
    ENDPOINT_NAMES.forEach((endpoint, e) => {
      const base = HIST0 + e * PER_ENDPOINT
      let count = 0
      const cumulative: number[] = []
      for (let b = 0; b <= BUCKETS.length; b++) cumulative.push((count += this.read(base + b)))
      if (count === 0) return
      BUCKETS.forEach((le, b) => values.push({ labels: { endpoint, le }, value: cumulative[b], metricName: this.name + '_bucket' }))
      values.push({ labels: { endpoint, le: '+Inf' }, value: count, metricName: this.name + '_bucket' })
      values.push({ labels: { endpoint }, value: this.read(base + BUCKETS.length + 1) / 1e9, metricName: this.name + '_sum' })
      values.push({ labels: { endpoint }, value: count, metricName: this.name + '_count' })
    })
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {}
}
