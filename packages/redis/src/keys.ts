/**
 * Where a group lives in Redis. Scopes hash to `shards` streams; each shard's stream and its
 * meta hash (the Redis-held fences of its scopes, its base, the id of its last entry) share one
 * hash tag, so a Lua script touches both in one slot of a Redis Cluster, and different shards
 * land on different slots (and so, in a cluster, spread over the masters):
 *
 *   {<group>:s:<n>}       the stream of shard n (XADD ... MAXLEN ~ maxLen)
 *   {<group>:s:<n>}:m     its meta hash: f:<scope> → fence, base → fence floor, last → last entry id
 */

export interface ShardKeys {
  readonly stream: string
  readonly meta: string
}

export function shardKeys(group: string, shards: number): ShardKeys[] {
  return Array.from({ length: shards }, (_, n) => {
    const tag = `{${group}:s:${n}}`
    return { stream: tag, meta: `${tag}:m` }
  })
}

/** FNV-1a over the UTF-16 code units: stable across processes and versions (every node must agree). */
export function shardOf(scope: string, shards: number): number {
  if (shards === 1) return 0
  let h = 0x811c9dc5
  for (let i = 0; i < scope.length; i++) {
    h ^= scope.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % shards
}

/** Stream ids `ms-seq` compared numerically (both parts are 64-bit in Redis: BigInt). */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  const ma = BigInt(am), mb = BigInt(bm)
  if (ma !== mb) return ma < mb ? -1 : 1
  const sa = BigInt(as), sb = BigInt(bs)
  return sa === sb ? 0 : sa < sb ? -1 : 1
}
