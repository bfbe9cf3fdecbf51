/**
 * The connections of one node to Redis, made and thrown away as a unit: a command connection
 * (scripts, reads of fences) and blocking readers (XREAD BLOCK must not hold up the commands).
 * node-redis' own reconnection is off: the node's supervisor (sync.ts) decides what a lost link
 * means (flush, resync) before it connects again, with backoff. Commands fail at once while the
 * link is down (no offline queue) and every command has a deadline: a paused Redis (SIGSTOP) is
 * a lost link after `timeoutMs`, not a hang.
 *
 * Standalone: one blocking reader for all shards (one XREAD over every stream). Cluster: one
 * cluster client per shard for its blocking reads (each XREAD names one stream, so one slot).
 */
import { createClient, createCluster } from 'redis'
import type { Send } from './scripts.js'

export interface Link {
  /** A command to the node holding `key`. */
  send: Send
  /** The blocking readers: reader r reads shards `readers[r]`, through `read(r, args)`. */
  readers: number[][]
  read(r: number, args: string[]): Promise<unknown>
  /** The Redis run id (a cluster: every master's, joined): it changes when Redis restarts or fails over. */
  runId(): Promise<string>
  destroy(): void
}

export class Lost extends Error {}

/** `p`, or a rejection after `ms`. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Lost(`${what}: no answer within ${ms} ms`)), ms) })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

const runIdOf = (info: unknown): string => /run_id:([0-9a-f]+)/.exec(String(info))?.[1] ?? ''

type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any -- node-redis' client types are generic over modules we do not use

export async function openLink(urls: string[], cluster: boolean, shards: number, timeoutMs: number, onLost: (why: string) => void): Promise<Link> {
  const opened: Any[] = []
  let dead = false
  const lose = (why: string): void => { if (!dead) onLost(why) }
  const watch = (c: Any, name: string): Any => {
    c.on('error', (e: Error) => lose(`${name}: ${e.message}`))
    c.on('end', () => lose(`${name}: connection closed`))
    opened.push(c)
    return c
  }
  const destroy = (): void => {
    dead = true
    for (const c of opened) { try { c.destroy() } catch { /* already gone */ } }
  }
  const socket = { reconnectStrategy: false as const, connectTimeout: timeoutMs }
  try {
    if (!cluster) {
      const cmd = watch(createClient({ url: urls[0], socket, disableOfflineQueue: true }), 'commands')
      const blk = watch(cmd.duplicate(), 'reader')
      await deadline(Promise.all([cmd.connect(), blk.connect()]), timeoutMs, 'connect')
      return {
        send: (_key, args) => deadline(cmd.sendCommand(args), timeoutMs, args[0]),
        readers: [Array.from({ length: shards }, (_, n) => n)],
        read: (_r, args) => blk.sendCommand(args),
        runId: async () => runIdOf(await deadline(cmd.sendCommand(['INFO', 'server']), timeoutMs, 'INFO')),
        destroy,
      }
    }
    const opts = { rootNodes: urls.map((url) => ({ url })), defaults: { socket, disableOfflineQueue: true } }
    const cmd = watch(createCluster(opts), 'commands')
    const blks: Any[] = Array.from({ length: shards }, (_, n) => watch(createCluster(opts), `reader ${n}`))
    await deadline(Promise.all([cmd.connect(), ...blks.map((b) => b.connect())]), timeoutMs, 'connect')
    return {
      send: (key, args) => deadline(cmd.sendCommand(key, false, args), timeoutMs, args[0]),
      readers: Array.from({ length: shards }, (_, n) => [n]),
      read: (r, args) => blks[r].sendCommand(args[args.length - 2], true, args),
      runId: async () => {
        const ids: string[] = []
        for (const m of cmd.masters) {
          const c = await cmd.nodeClient(m)
          ids.push(runIdOf(await deadline(c.sendCommand(['INFO', 'server']), timeoutMs, 'INFO')))
        }
        return ids.sort().join(',')
      },
      destroy,
    }
  } catch (e) {
    destroy()
    throw e
  }
}
