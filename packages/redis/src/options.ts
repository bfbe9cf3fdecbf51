/** createCoherentCache's options: checked once, defaults filled in (bad ones: `invalid_input`, nothing started). */
import { randomBytes } from 'node:crypto'
import { MESSAGES, ScopeCache, ScopeCacheError } from '@scopecache/core'

export type CoherenceMode = 'invalidate' | 'replicate'

export interface CoherentCacheOptions {
  /** The local store this node keeps coherent (its contents are dropped when the node starts or resyncs). */
  cache: ScopeCache
  /** `redis://host:port` of a standalone Redis (or Valkey); `{ cluster: [url, …] }` for a Redis Cluster. */
  redis: string | { url: string } | { cluster: readonly string[] }
  /** The group's name: nodes with the same group (and Redis) keep each other coherent. No `{`, `}`. */
  group: string
  /** `invalidate` (default): other nodes drop what a write names. `replicate`: they store the item too. */
  mode?: CoherenceMode
  /** How long the node may keep serving what it holds after losing proof that it is current (ms). Default 0. */
  maxStaleMs?: number
  /** Streams the group's scopes hash to (spread over a cluster's masters). Default 1; every node must agree. */
  shards?: number
  /** Entries kept per stream (`XADD MAXLEN ~`); a node that falls further behind resyncs. Default 10 000. */
  maxLen?: number
  /** How long one `XREAD BLOCK` waits (ms); a read not answered within blockMs + timeoutMs means Redis is lost. Default 500. */
  blockMs?: number
  /** How long a command may take before Redis counts as lost (ms). Default 2000. */
  timeoutMs?: number
  /** This node's id in the entries it publishes. Default: random. */
  nodeId?: string
  /** Where bad stream entries and link changes are reported. Default: console.warn. */
  log?: (message: string) => void
}

export interface ResolvedOptions {
  cache: ScopeCache
  urls: string[]
  cluster: boolean
  group: string
  mode: CoherenceMode
  maxStaleMs: number
  shards: number
  maxLen: number
  blockMs: number
  timeoutMs: number
  nodeId: string
  log: (message: string) => void
}

export const COHERENT_OPTION_KEYS = ['cache', 'redis', 'group', 'mode', 'maxStaleMs', 'shards', 'maxLen', 'blockMs', 'timeoutMs', 'nodeId', 'log'] as const

const bad = (msg: string): ScopeCacheError => new ScopeCacheError('invalid_input', `${MESSAGES.invalidPrefix}createCoherentCache: ${msg}`)

function int(o: Record<string, unknown>, key: string, dflt: number, min: number, max: number): number {
  const v = o[key]
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(`'${key}' must be an integer from ${min} to ${max}`)
  return v
}

function url(u: unknown): string {
  if (typeof u !== 'string' || !/^rediss?:\/\/./.test(u)) throw bad("'redis' must be a redis:// URL (or { url } or { cluster: [urls] })")
  return u
}

export function resolveOptions(opts: CoherentCacheOptions): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') throw bad('options must be an object')
  const o = opts as unknown as Record<string, unknown>
  for (const k of Object.keys(o)) if (!(COHERENT_OPTION_KEYS as readonly string[]).includes(k)) throw bad(`unknown option '${k}' (it takes ${COHERENT_OPTION_KEYS.join(', ')})`)
  if (!(opts.cache instanceof ScopeCache)) throw bad("'cache' must be a ScopeCache")
  const r = opts.redis as unknown
  let urls: string[]
  let cluster = false
  if (typeof r === 'string') urls = [url(r)]
  else if (r !== null && typeof r === 'object' && 'cluster' in r) {
    const list = (r as { cluster: unknown }).cluster
    if (!Array.isArray(list) || list.length === 0) throw bad("'redis.cluster' must be a non-empty array of redis:// URLs")
    urls = list.map(url)
    cluster = true
  } else if (r !== null && typeof r === 'object' && 'url' in r) urls = [url((r as { url: unknown }).url)]
  else throw bad("'redis' is required: a redis:// URL, { url } or { cluster: [urls] }")
  const g = opts.group
  if (typeof g !== 'string' || g === '' || g.length > 100 || /[{}\s]/.test(g)) throw bad("'group' must be 1–100 characters without braces or whitespace")
  const mode = opts.mode ?? 'invalidate'
  if (mode !== 'invalidate' && mode !== 'replicate') throw bad("'mode' must be 'invalidate' or 'replicate'")
  const nodeId = opts.nodeId ?? randomBytes(6).toString('hex')
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 64) throw bad("'nodeId' must be a string of 1–64 characters")
  if (opts.log !== undefined && typeof opts.log !== 'function') throw bad("'log' must be a function")
  return {
    cache: opts.cache, urls, cluster, group: g, mode, nodeId,
    maxStaleMs: int(o, 'maxStaleMs', 0, 0, 86_400_000),
    shards: int(o, 'shards', 1, 1, 1024),
    maxLen: int(o, 'maxLen', 10_000, 1, 1e9),
    blockMs: int(o, 'blockMs', 500, 1, 60_000),
    timeoutMs: int(o, 'timeoutMs', 2000, 10, 600_000),
    log: opts.log ?? ((m) => console.warn(`scopecache/redis: ${m}`)),
  }
}
