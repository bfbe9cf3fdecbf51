// Writers that do not stall the world (issue 3 §2), measured with real worker threads:
//   1. write scaling: appends/s with 1 and 2 writer threads, each on its own scope (they share
//      only the allocator lock, held for one alloc/free at a time);
//   2. readers during a bulk write: a reader thread does random getRaw on scope A while another
//      thread warms / rebuilds a large batch into other scopes; its p50/p99/max latency and
//      throughput are compared with the same reader running alone.
// Threads start on a shared-memory barrier and run a fixed number of operations (bounded).
import os from 'node:os'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { runIfMain } from '../lib/standalone.mjs'
import { barrier, spawnAttached } from '../lib/threads.mjs'
import { ScopeCache, rawJson } from '@scopecache/core'
import { median, withCpuShare } from '../lib/measure.mjs'

const PAYLOAD = JSON.stringify({ text: 'x'.repeat(80), n: 1 })


if (!isMainThread) {
  const { handle, role, gate: gateBuf, ops, scope, n } = workerData
  const cache = ScopeCache.attach(handle)
  const gate = new Int32Array(gateBuf)
  const raw = rawJson(PAYLOAD)
  if (role === 'writer') {
    barrier(gate, n)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < ops; i++) {
      cache.append(scope, raw, { id: `k${i}` })
      if ((i & 4095) === 4095) cache.trim(scope, { keep: 1024 }) // bounded memory, allocator reuse
    }
    parentPort.postMessage({ ns: Number(process.hrtime.bigint() - t0) })
  } else if (role === 'reader') {
    barrier(gate, n)
    const lat = new Float64Array(ops)
    let x = 1
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < ops; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      const a = process.hrtime.bigint()
      cache.getRaw('A', { id: `a${x % 10_000}` })
      lat[i] = Number(process.hrtime.bigint() - a)
    }
    const total = Number(process.hrtime.bigint() - t0)
    lat.sort()
    parentPort.postMessage({ ns: total, p50: lat[ops >> 1], p99: lat[Math.floor(ops * 0.99)], max: lat[ops - 1] })
  } else if (role === 'bulk') {
    const items = Array.from({ length: ops }, (_, i) => ({ scope: `bulk:${i % 50}`, id: `b${i}`, payload: raw }))
    barrier(gate, n)
    const t0 = process.hrtime.bigint()
    cache.warm(items)
    const warmNs = Number(process.hrtime.bigint() - t0)
    parentPort.postMessage({ ns: warmNs })
  }
  cache.close()
}

const spawn = (cache, data) => spawnAttached(new URL(import.meta.url), cache, data)

async function run({ quick, progress }) {
  const writeOps = quick ? 100_000 : 400_000
  const readOps = quick ? 400_000 : 2_000_000
  const bulkItems = quick ? 200_000 : 1_000_000
  const rows = []
  const figures = {}

  // 1. write scaling: repeats of (1 writer, 2 writers) back to back, the median per-repeat ratio
  const reps = quick ? 3 : 5
  const rates = { 1: [], 2: [] }, cpu = { 1: [], 2: [] }, ratios = []
  for (let rep = 0; rep < reps; rep++) {
    for (const n of [1, 2]) {
      progress(`concurrency: ${n} writer thread(s) × ${writeOps} appends (repeat ${rep + 1}/${reps})`)
      const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
      const gate = new Int32Array(new SharedArrayBuffer(4))
      const { result: res, coresUsed } = await withCpuShare(() => Promise.all(Array.from({ length: n }, (_, k) => spawn(cache, { role: 'writer', gate: gate.buffer, ops: writeOps, scope: `w${k}`, n }))))
      const slowest = Math.max(...res.map((r) => r.ns))
      rates[n].push((n * writeOps) / (slowest / 1e9))
      cpu[n].push(coresUsed)
      cache.close()
    }
    ratios.push(rates[2][rep] / rates[1][rep])
  }
  const scaling = median(ratios)
  rows.push(
    ['appends/s, 1 writer thread', Math.round(median(rates[1]))],
    ['appends/s, 2 writer threads (own scopes)', Math.round(median(rates[2]))],
    [`write scaling (2 ÷ 1), median of ${reps} repeats (each: ${ratios.map((x) => x.toFixed(2)).join(' / ')})`, +scaling.toFixed(2)],
    ['CPU cores the threads got, 1 writer / 2 writers (median)', `${median(cpu[1]).toFixed(2)} of 1 / ${median(cpu[2]).toFixed(2)} of 2`],
  )
  figures['concurrency.append.1thread.ops'] = Math.round(median(rates[1]))
  figures['concurrency.append.2threads.ops'] = Math.round(median(rates[2]))
  figures['concurrency.append.scaling'] = +scaling.toFixed(3)
  figures['concurrency.append.coresUsed1'] = +median(cpu[1]).toFixed(2)
  figures['concurrency.append.coresUsed2'] = +median(cpu[2]).toFixed(2)

  // 2. a reader of scope A, alone and while another thread warms many items into other scopes
  const lat = {}
  for (const withBulk of [false, true]) {
    progress(`concurrency: reader of scope A ${withBulk ? `while a thread warms ${bulkItems} items elsewhere` : 'alone'}`)
    const cache = ScopeCache.create({ maxStoreBytes: 512 << 20, scopeMaxItems: 100_000 })
    for (let i = 0; i < 10_000; i++) cache.append('A', rawJson(PAYLOAD), { id: `a${i}` })
    const gate = new Int32Array(new SharedArrayBuffer(4))
    const n = withBulk ? 2 : 1
    const jobs = [spawn(cache, { role: 'reader', gate: gate.buffer, ops: readOps, n })]
    if (withBulk) jobs.push(spawn(cache, { role: 'bulk', gate: gate.buffer, ops: bulkItems, n }))
    const [reader, bulk] = await Promise.all(jobs)
    lat[withBulk] = reader
    if (bulk) {
      figures['concurrency.warm.items_per_s'] = Math.round(bulkItems / (bulk.ns / 1e9))
      rows.push([`warm of ${bulkItems} items in 50 scopes, items/s (beside the reader)`, Math.round(bulkItems / (bulk.ns / 1e9))])
    }
    cache.close()
  }
  const tag = (b) => (b ? 'during warm' : 'alone')
  for (const b of [false, true]) {
    const r = lat[b]
    rows.push([`reader of A ${tag(b)}: reads/s`, Math.round(readOps / (r.ns / 1e9))], [`reader of A ${tag(b)}: p50 / p99 / max ns`, `${r.p50} / ${r.p99} / ${r.max}`])
    figures[`concurrency.reader.${b ? 'bulk' : 'alone'}.p99_ns`] = r.p99
    figures[`concurrency.reader.${b ? 'bulk' : 'alone'}.max_ns`] = r.max
    figures[`concurrency.reader.${b ? 'bulk' : 'alone'}.ops`] = Math.round(readOps / (r.ns / 1e9))
  }
  return {
    tables: [{ title: 'Writers that do not stall the world', columns: ['measure', 'value'], rows }],
    figures,
    notes: [
      `${os.availableParallelism()} CPUs; threads start together on a shared-memory barrier; fixed operation counts.`,
      'Write scaling: each writer appends to its own scope (trimming it to 1024 items every 4096 appends, so the allocator reuses memory); the only lock they share is the allocator lock. Repeats run 1 writer then 2 writers back to back; the scaling is the median of the per-repeat ratios. CPU cores got = process CPU time ÷ wall time over the trial (thread start included).',
      'Reader during warm: the reader resolves scope A once and then reads it optimistically; the warm builds its items outside every lock and swaps them in within one short directory change. With 2 cores, both threads have a core each.',
    ],
    skipped: [],
  }
}

const suite = { id: 'concurrency', title: 'Concurrency: parallel writers, readers beside bulk writes', run }
export default suite

if (isMainThread) await runIfMain(import.meta, suite) // (this file is also its own worker)
