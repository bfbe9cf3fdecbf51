/** What a node reports about its coherence (in `stats().coherence` and the server's /metrics). */

export type LinkState = 'connecting' | 'in-sync' | 'resyncing' | 'disconnected' | 'closed'

export interface CoherenceStats {
  state: LinkState
  mode: 'invalidate' | 'replicate'
  group: string
  nodeId: string
  shards: number
  /** The Redis server's run id at the last connection ('' before the first). */
  runId: string
  /** Writes this node published (acknowledged by Redis). */
  published: number
  /** Writes refused because the Redis-held fence had moved (`ifVersion`). */
  conflicts: number
  /** Other nodes' entries applied here. */
  applied: number
  /** This node's own entries met in the stream and not applied again. */
  ownSkipped: number
  /** Malformed entries (bad fields, unknown op, oversized item): logged, skipped. */
  badEntries: number
  /** Entries (or own writes) the local store refused (full, conflict): the scope was dropped instead. */
  applyErrors: number
  /** Times the node flushed its store and started again from the streams' ends. */
  resyncs: number
  /** Times the link to Redis was lost. */
  disconnects: number
  /** Propagation delay of other nodes' entries (writer's clock to applied here), over the last 4096. */
  propagationMs: { count: number; p50: number; p99: number; max: number }
}

/** A ring of the last N propagation delays; quantiles computed when asked. */
export class Delays {
  private readonly ring = new Float64Array(4096)
  private n = 0

  add(ms: number): void {
    if (Number.isFinite(ms)) this.ring[this.n++ % this.ring.length] = Math.max(0, ms)
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const k = Math.min(this.n, this.ring.length)
    if (k === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
    const a = this.ring.slice(0, k).sort()
    const q = (p: number): number => a[Math.min(k - 1, Math.floor(p * k))]
    return { count: this.n, p50: q(0.5), p99: q(0.99), max: a[k - 1] }
  }
}
