/**
 * A coherent node's state for /metrics (`serve --redis`). The node lives in the server's main
 * thread; listener threads answer /metrics, so the main thread copies its `stats().coherence`
 * into a small SharedArrayBuffer (a few times a second and on every state change) that every
 * listener reads: one Float64 per figure, the state as its index in COHERENCE_STATES.
 */
import type { CoherenceStats, LinkState } from '@scopecache/redis'
import { Counter, Gauge, type Registry } from 'prom-client'

export const COHERENCE_STATES = ['connecting', 'in-sync', 'resyncing', 'disconnected', 'closed'] as const satisfies readonly LinkState[]

/** What the server reports of a node: the counts and state of @scopecache/redis' CoherenceStats, and two quantiles. */
export type CoherenceFigures = Pick<CoherenceStats, 'state' | (typeof COUNTS)[number]> & { propagationMs: Pick<CoherenceStats['propagationMs'], 'p50' | 'p99'> }

const COUNTS = ['published', 'conflicts', 'applied', 'ownSkipped', 'badEntries', 'applyErrors', 'resyncs', 'disconnects'] as const
const WORDS = 1 + COUNTS.length + 2

export const createCoherenceBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(WORDS * 8)

export function writeCoherence(buf: SharedArrayBuffer, s: CoherenceFigures): void {
  const f = new Float64Array(buf)
  f[0] = COHERENCE_STATES.indexOf(s.state)
  COUNTS.forEach((k, i) => (f[1 + i] = s[k]))
  f[1 + COUNTS.length] = s.propagationMs.p50
  f[2 + COUNTS.length] = s.propagationMs.p99
}

export function readCoherence(buf: SharedArrayBuffer): CoherenceFigures {
  const f = new Float64Array(buf)
  const out = { state: COHERENCE_STATES[f[0]] ?? 'connecting', propagationMs: { p50: f[1 + COUNTS.length], p99: f[2 + COUNTS.length] } } as CoherenceFigures
  COUNTS.forEach((k, i) => (out[k] = f[1 + i]))
  return out
}

const SNAKE: Record<(typeof COUNTS)[number], string> = {
  published: 'published', conflicts: 'conflicts', applied: 'applied', ownSkipped: 'own_skipped', badEntries: 'bad_entries',
  applyErrors: 'apply_errors', resyncs: 'resyncs', disconnects: 'disconnects',
}

/** scopecache_coherence_*: the node's state (one gauge per state, 1 for the current one), its counts, its propagation delay. */
export function registerCoherence(registry: Registry, read: () => CoherenceFigures): void {
  const registers = [registry]
  new Gauge({
    name: 'scopecache_coherence_state', help: 'The coherent node\'s link state: 1 for the current one.', labelNames: ['state'], registers,
    collect() {
      const now = read().state
      for (const s of COHERENCE_STATES) this.set({ state: s }, s === now ? 1 : 0)
    },
  })
  for (const k of COUNTS) {
    new Counter({ name: `scopecache_coherence_${SNAKE[k]}_total`, help: `Coherent node: ${k} (see @scopecache/redis stats().coherence).`, registers, collect() { this.reset(); this.inc(read()[k]) } })
  }
  new Gauge({ name: 'scopecache_coherence_propagation_p99_seconds', help: 'Other nodes\' writes applied here: p99 delay over the last 4096.', registers, collect() { this.set(read().propagationMs.p99 / 1000) } })
}
