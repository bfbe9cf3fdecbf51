// Timing with tinybench, written so the figures are per operation and honest:
// - every task body runs a batch of BATCH operations and ns/op = iteration time / BATCH, because
//   tinybench's own cost per iteration (two timestamps, a sample push, and an await in async mode)
//   is ~0.2-0.4 µs: timing one 50 ns Map.get per iteration reported 240-420 ns;
// - the figure is the median iteration ÷ BATCH (the mean is kept too);
// - sync tasks run with runSync() (no await between iterations);
// - every task of a group runs untimed first (pre-warm), so a shared code path (the store's read
//   path serves get and getRaw, by id and by seq) is measured in the polymorphic state an
//   application that uses all of them sees, not in whichever state the first task left it;
// - each task gets its own Bench, so the progress line can name it.
import { Bench } from 'tinybench'

export const BATCH = 1000

function timing(quick) {
  return { time: quick ? 250 : 1500, warmupTime: quick ? 50 : 250, iterations: 8, warmupIterations: 4, throws: true }
}

function row(task, batch) {
  const r = task.result
  if (r.state !== 'completed') throw r.error ?? new Error(`${task.name}: ${r.state}`)
  const l = r.latency
  // The headline is the median iteration: robust to the moments another process takes the CPU
  // (this VM is shared); the mean is reported beside it.
  return { name: task.name, ns: (l.p50 * 1e6) / batch, mean: (l.mean * 1e6) / batch, rme: l.rme, samples: l.samplesCount }
}

/** tasks: [{ name, fn }] where fn() performs `batch` operations synchronously. */
export function timeSync(tasks, { quick, batch = BATCH, progress = () => {}, prewarm = quick ? 20 : 50 }) {
  for (let r = 0; r < prewarm; r++) for (const t of tasks) { t.opts?.beforeEach?.(); t.fn(); t.opts?.afterEach?.() }
  return tasks.map((t) => {
    progress(t.name)
    const bench = new Bench(timing(quick))
    bench.add(t.name, t.fn, t.opts)
    bench.runSync()
    return row(bench.tasks[0], batch)
  })
}

/** tasks: [{ name, fn }] where fn() awaits `batch` operations one after the other. */
export async function timeAsync(tasks, { quick, batch, progress = () => {}, prewarm = 3 }) {
  for (let r = 0; r < prewarm; r++) for (const t of tasks) { await t.opts?.beforeEach?.(); await t.fn(); await t.opts?.afterEach?.() }
  const out = []
  for (const t of tasks) {
    progress(t.name)
    const bench = new Bench({ ...timing(quick), time: quick ? 400 : 2000 })
    bench.add(t.name, t.fn, t.opts)
    await bench.run()
    out.push(row(bench.tasks[0], batch))
  }
  return out
}

/** The middle value (upper middle for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Interleaved rounds of async batches of `batch` operations: { key: [ns/op per round] } (the median
 * batch of each slice of `sliceMs`; at least `minSamples` batches per slice, `warmups` untimed rounds).
 */
export async function asyncRounds(tasks, { rounds, sliceMs, batch, warmups = 10, minSamples = 5 }) {
  const ns = Object.fromEntries(tasks.map((t) => [t.key, []]))
  for (let r = 0; r < warmups; r++) for (const t of tasks) await t.fn()
  for (let r = 0; r < rounds; r++) {
    for (const t of tasks) {
      const samples = []
      const end = performance.now() + sliceMs
      do {
        const a = performance.now()
        await t.fn()
        samples.push(performance.now() - a)
      } while (samples.length < minSamples || performance.now() < end)
      ns[t.key].push((median(samples) * 1e6) / batch)
    }
  }
  return ns
}

/**
 * Runs fn() and returns { result, coresUsed }: this process's CPU time ÷ wall time meanwhile. Below
 * the number of busy threads, other processes on the machine took CPU during the measurement.
 */
export async function withCpuShare(fn) {
  const cpu0 = process.cpuUsage(), wall0 = performance.now()
  const result = await fn()
  const cpu = process.cpuUsage(cpu0)
  return { result, coresUsed: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0) }
}

export const fmtNs = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`)
export const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d
