// Multi-core read scaling: aggregate random getRaw throughput with 1 … N reader threads (N = CPUs),
// for disjoint scopes (one per reader) and for one hot scope shared by all, then the same with one
// writer thread running (appending in another scope, or upserting in the readers' hot scope);
// beside lmdb-js (one environment, every reader over the same keys) and a per-worker Map.
// Every reader times a fixed count of reads after a shared start barrier (a SharedArrayBuffer
// word); aggregate ops/s = Σ reads ÷ the slowest reader's time.
import { Worker } from 'node:worker_threads'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ScopeCache } from '@scopecache/core'
import { dataset } from '../lib/data.mjs'
import { median, round } from '../lib/measure.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const READY = 0, GO = 1, STOP = 2

/** Threads kept for the whole suite: N readers + 1 writer, each attached to the store once. */
async function startThreads(count, cache, lmdbPath) {
  const threads = []
  for (let index = 0; index < count; index++) {
    const w = new Worker(new URL('./scaling-worker.mjs', import.meta.url), { workerData: { handle: cache.handle, lmdbPath, index } })
    cache.watch(w)
    let pending = null
    w.on('message', (m) => { if (!m.ready) { const p = pending; pending = null; m.error ? p?.reject(new Error(m.error)) : p?.resolve(m.ok) } })
    w.once('error', (e) => pending?.reject(e))
    w.once('exit', (code) => pending?.reject(new Error(`scaling worker exited with code ${code}`)))
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
    threads.push({ w, run: (msg) => new Promise((resolve, reject) => { pending = { resolve, reject }; w.postMessage(msg) }) })
  }
  return threads
}

async function trial(threads, { engine, readers, hot, writer, ops }) {
  const ctl = new Int32Array(new SharedArrayBuffer(16))
  const base = { engine, ctl: ctl.buffer, warmOps: Math.min(ops, 100_000) }
  const jobs = []
  for (let i = 0; i < readers; i++) jobs.push(threads[i].run({ ...base, role: 'reader', scope: hot ? 'hot' : `d${i}`, ops }))
  if (writer) jobs.push(threads[threads.length - 1].run({ ...base, role: 'writer', scope: writer === 'same' ? 'hot' : 'w', writer: { mode: writer, maxMs: 60_000, maxWrites: 50_000_000 } }))
  const failed = Promise.race(jobs.map((p) => p.then(() => new Promise(() => {}))))
  const deadline = Date.now() + 60_000
  while (Atomics.load(ctl, READY) < jobs.length) {
    if (Date.now() > deadline) throw new Error('scaling threads not ready within 60 s')
    await Promise.race([sleep(2), failed])
  }
  const cpu0 = process.cpuUsage()
  const wall0 = process.hrtime.bigint()
  Atomics.store(ctl, GO, 1)
  Atomics.notify(ctl, GO)
  const readerResults = await Promise.all(jobs.slice(0, readers))
  // CPU time the whole process got ÷ wall time: about readers (+1 with a writer) when the threads
  // had the cores to themselves, less when other processes took CPU during the trial.
  const cpu = process.cpuUsage(cpu0)
  const coresUsed = ((cpu.user + cpu.system) * 1000) / Number(process.hrtime.bigint() - wall0)
  Atomics.store(ctl, STOP, 1)
  const writerResult = writer ? await jobs[readers] : null
  const maxNs = Math.max(...readerResults.map((r) => r.ns))
  const total = readerResults.reduce((a, r) => a + r.ops, 0)
  return {
    opsPerSec: (total / maxNs) * 1e9,
    nsPerRead: readerResults.map((r) => r.ns / r.ops),
    writesPerSec: writerResult ? (writerResult.writes / writerResult.ms) * 1000 : null,
    coresUsed,
  }
}

const suite = {
  id: 'scaling',
  title: 'Multi-core scaling: aggregate reads with 1 … N worker threads',
  async run({ quick, progress }) {
    const cores = availableParallelism()
    const N = Math.max(2, cores)
    const reps = quick ? 1 : 3
    const data = dataset()
    const skipped = []
    progress(`filling ${N + 1} scopes of 50 000 items`)
    const cache = ScopeCache.create({ maxStoreBytes: 256 << 20, maxThreads: 64 })
    for (const scope of ['hot', ...Array.from({ length: N }, (_, i) => `d${i}`)]) {
      for (let i = 0; i < data.n; i++) cache.append(scope, data.payloads[i], { id: data.ids[i] })
    }
    let lmdbPath = null
    try {
      const { open } = await import('lmdb')
      lmdbPath = mkdtempSync(join(tmpdir(), 'scopecache-bench-lmdb-'))
      const db = open({ path: lmdbPath, encoding: 'string' })
      db.transactionSync(() => { for (let i = 0; i < data.n; i++) db.putSync(data.ids[i], data.texts[i]) })
      await db.close()
    } catch (e) {
      skipped.push({ what: 'lmdb-js', why: `could not open a database: ${e.message}` })
      lmdbPath = null
    }
    const opsFor = { scopecache: quick ? 600_000 : 2_500_000, lmdb: quick ? 300_000 : 1_000_000, map: quick ? 3_000_000 : 10_000_000 }
    const series = [
      { key: 'scopecache.disjoint', label: 'scopecache, disjoint scopes', engine: 'scopecache', hot: false },
      { key: 'scopecache.hot', label: 'scopecache, one hot scope', engine: 'scopecache', hot: true },
      { key: 'scopecache.disjoint.writerOther', label: 'scopecache, disjoint + 1 writer (other scope)', engine: 'scopecache', hot: false, writer: 'other' },
      { key: 'scopecache.hot.writerOther', label: 'scopecache, hot + 1 writer (other scope)', engine: 'scopecache', hot: true, writer: 'other' },
      { key: 'scopecache.hot.writerSame', label: 'scopecache, hot + 1 writer (upserts in the hot scope)', engine: 'scopecache', hot: true, writer: 'same' },
      ...(lmdbPath ? [{ key: 'lmdb', label: 'lmdb-js, same keys', engine: 'lmdb', hot: true }] : []),
      { key: 'map', label: 'per-worker Map (each thread its own copy)', engine: 'map', hot: false },
    ]
    const out = {}
    progress(`starting ${N + 1} threads`)
    const threads = await startThreads(N + 1, cache, lmdbPath)
    try {
      // Repeats outermost, every series and reader count inside: a change in the machine's load
      // during the run then hits every case alike instead of skewing one ratio.
      const runs = {}
      for (let rep = 0; rep < reps; rep++) {
        for (const s of series) {
          for (let r = 1; r <= N; r++) {
            progress(`${s.label}: ${r} reader${r > 1 ? 's' : ''}${reps > 1 ? ` (run ${rep + 1}/${reps})` : ''}`)
            ;(runs[`${s.key}/${r}`] ??= []).push(await trial(threads, { engine: s.engine, readers: r, hot: s.hot, writer: s.writer, ops: opsFor[s.engine] }))
          }
        }
      }
      for (const s of series) {
        for (let r = 1; r <= N; r++) {
          const all = runs[`${s.key}/${r}`]
          const m = median(all.map((x) => x.opsPerSec))
          const pick = all.find((x) => x.opsPerSec === m)
          ;(out[s.key] ??= {})[r] = { opsPerSec: m, nsPerRead: pick.nsPerRead, writesPerSec: pick.writesPerSec, coresUsed: pick.coresUsed, all: all.map((x) => x.opsPerSec) }
        }
      }
    } finally {
      for (const t of threads) t.w.postMessage({ cmd: 'close' })
      await Promise.all(threads.map((t) => new Promise((r) => t.w.once('exit', r))))
      cache.close()
      if (lmdbPath) rmSync(lmdbPath, { recursive: true, force: true })
    }
    return report({ out, series, N, cores, reps, opsFor, skipped })
  },
}

function report({ out, series, N, cores, reps, opsFor, skipped }) {
  const figures = {}
  const rows = []
  const fmt = (x) => `${(x / 1e6).toFixed(2)} M/s`
  for (const s of series) {
    const one = out[s.key][1].opsPerSec
    for (let r = 1; r <= N; r++) {
      const x = out[s.key][r]
      const ratio = x.opsPerSec / one
      figures[`scaling.${s.key}.opsPerSec${r}`] = Math.round(x.opsPerSec)
      if (r > 1) figures[`scaling.${s.key}.ratio${r}`] = round(ratio, 3)
      let loss = ''
      if (s.writer) {
        const without = out[s.hot ? 'scopecache.hot' : 'scopecache.disjoint'][r].opsPerSec
        const l = 1 - x.opsPerSec / without
        figures[`scaling.${s.key}.loss${r}`] = round(l, 4)
        loss = `${(l * 100).toFixed(1)} %${r + 1 > cores ? ' (oversubscribed: ' + (r + 1) + ' threads on ' + cores + ' cores)' : ''}`
      }
      if (x.writesPerSec) figures[`scaling.${s.key}.writesPerSec${r}`] = Math.round(x.writesPerSec)
      figures[`scaling.${s.key}.coresUsed${r}`] = round(x.coresUsed, 2)
      rows.push([s.label, r, fmt(x.opsPerSec), x.nsPerRead.map((n) => n.toFixed(0)).join(' / '), r > 1 ? `${ratio.toFixed(2)}×` : '1.00×', loss, x.writesPerSec ? `${Math.round(x.writesPerSec).toLocaleString('en')}/s` : '', `${x.coresUsed.toFixed(2)} of ${r + (s.writer ? 1 : 0)}`])
    }
  }
  // Issue 11: scopecache's 2 ÷ 1 scaling against the per-thread Maps' 2 ÷ 1 scaling, per repeat
  // (every case of a repeat ran back to back), the median of those per-repeat ratios.
  const vsMap = []
  for (const k of ['scopecache.disjoint', 'scopecache.hot']) {
    const sc = out[k], m = out.map
    const per = sc[2].all.map((x, i) => (x / sc[1].all[i]) / (m[2].all[i] / m[1].all[i]))
    figures[`scaling.${k}.vsMap2`] = round(median(per), 3)
    vsMap.push([series.find((s) => s.key === k).label, `${(sc[2].opsPerSec / sc[1].opsPerSec).toFixed(2)}×`, `${(m[2].opsPerSec / m[1].opsPerSec).toFixed(2)}×`, `${median(per).toFixed(2)}×`, per.map((x) => x.toFixed(2)).join(' / ')])
  }
  const chartSeries = series.filter((s) => s.engine !== 'map').map((s) => ({ label: s.label, points: Array.from({ length: N }, (_, i) => [i + 1, out[s.key][i + 1].opsPerSec]) }))
  const one = out['scopecache.disjoint'][1].opsPerSec
  return {
    tables: [
      { title: `Aggregate random getRaw-by-id throughput (${cores} CPUs; median of ${reps} run${reps > 1 ? 's' : ''})`, columns: ['case', 'readers', 'aggregate reads/s', 'ns/read per reader', `÷ 1 reader`, 'reader loss to the writer', 'writer rate', 'CPU cores the threads got'], rows },
      { title: 'Read scaling, 2 readers ÷ 1, against the per-thread Maps\' scaling in the same run', columns: ['case', 'scopecache 2 ÷ 1', 'per-worker Map 2 ÷ 1', 'scopecache ÷ Map (median of per-repeat ratios)', 'per repeat'], rows: vsMap },
    ],
    figures,
    charts: [{ id: 'scaling', type: 'line', title: 'Aggregate reads/s vs reader threads (random getRaw over 50 000 items; per-worker Map in the table)', xLabel: 'reader threads', yLabel: 'aggregate reads/s', unit: 'ops/s', series: chartSeries, ideal: Array.from({ length: N }, (_, i) => [i + 1, one * (i + 1)]) }],
    notes: [
      `Each reader thread times ${opsFor.scopecache.toLocaleString('en')} random getRaw-by-id reads (lmdb-js ${opsFor.lmdb.toLocaleString('en')}, Map ${opsFor.map.toLocaleString('en')}) after warming up and after every thread has passed a SharedArrayBuffer start barrier; aggregate = Σ reads ÷ the slowest reader's time. The main thread sleeps meanwhile.`,
      'Disjoint: reader i reads scope d<i>; hot: every reader reads the same scope. Each reader has its own seeded random order over the same 50 000 ids.',
      'Writer (other scope): appends 100-byte items to a scope no reader reads, trimming it to 10 000 items every 1024 appends; writer (same scope): upserts same-size payloads over the hot scope\'s ids, so readers keep hitting and retry when a write lands under them. The writer runs from the start barrier until the last reader finishes.',
      `Reader loss = 1 − (reads/s with the writer ÷ reads/s without it, same readers). With ${cores} cores, ${cores} readers + 1 writer oversubscribes the CPUs, so that loss is mostly CPU sharing, not interference: the row with ${cores - 1} reader${cores > 2 ? 's' : ''} + 1 writer is the one that measures interference.`,
      '"CPU cores the threads got" = the process\'s CPU time ÷ wall time during the trial, against the number of busy threads: when it falls short, other processes on the machine took CPU during that trial and its figure understates the store.',
      'Scaling against the per-thread Maps: (scopecache 2 readers ÷ 1) ÷ (Map 2 readers ÷ 1), each repeat\'s cases run back to back, the median over repeats; the Map readers each own a copy of the data, so their scaling is what the machine allows.',
      'lmdb-js: one environment opened in every reader thread, readers over the same keys (lmdb has no scopes). Map: each thread builds its own Map of the 50 000 items (the per-thread lower bound; N copies of the data).',
    ],
    skipped,
  }
}

export default suite
await runIfMain(import.meta, suite)
