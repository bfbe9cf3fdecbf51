// Interleaved rounds for ratios: A B C A B C … Each round times every task for a short slice, in
// the same order, so a change in the machine's load hits every task of a round alike; a ratio is
// then taken per round (a ÷ b in the same round) and the median of those per-round ratios reported.
// Within a slice the figure is the median batch (each batch is `batch` operations): robust to a
// moment when another process takes the CPU.
import { BATCH, median } from './measure.mjs'

/**
 * tasks: [{ key, fn, before?, after? }]: fn() performs `batch` operations; before() runs untimed at
 * the start of each slice, after() untimed after each batch (to reset state, bound memory).
 * → { [key]: [ns/op of round 1, round 2, …] }
 */
export function timeRounds(tasks, { rounds, sliceMs, prewarm = 20, batch = BATCH, minBatches = 5, progress = () => {} }) {
  for (let r = 0; r < prewarm; r++) for (const t of tasks) { t.before?.(); t.fn(); t.after?.() }
  const ns = Object.fromEntries(tasks.map((t) => [t.key, []]))
  const samples = new Float64Array(1 << 14)
  for (let r = 0; r < rounds; r++) {
    progress(`round ${r + 1}/${rounds}`)
    for (const t of tasks) {
      t.before?.()
      let k = 0
      const end = performance.now() + sliceMs
      do {
        const a = performance.now()
        t.fn()
        samples[k++] = performance.now() - a
        t.after?.()
      } while ((k < minBatches || performance.now() < end) && k < samples.length)
      ns[t.key].push((median(samples.subarray(0, k)) * 1e6) / batch)
    }
  }
  return ns
}

/** The per-round ratios a ÷ b (arrays of the same rounds) and their median, min and max. */
export function roundRatio(a, b) {
  const per = a.map((x, i) => x / b[i])
  return { median: median(per), min: Math.min(...per), max: Math.max(...per), per }
}
