/**
 * The Lua scripts that make each step atomic in Redis (one shard's stream and meta hash: one
 * slot, so they run on a Cluster too). Fences are Redis-held per scope and never go backwards,
 * not even across a Redis restart that lost everything: a scope's fence is at least the shard's
 * `base`, set from Redis' clock (µs) when the meta hash is first used, so a restarted Redis
 * starts every fence above any fence it handed out before (which stays true while a shard takes
 * fewer than one write per µs). Each entry carries `p`, the id of the shard's previous scripted
 * entry: a node that applied up to id X and reads an entry whose `p` is not X has missed
 * something (trimmed, or a restarted Redis) and must resynchronise.
 */
import { createHash } from 'node:crypto'

const BASE = `
local base = redis.call('HGET', KEYS[2], 'base')
if not base then
  local t = redis.call('TIME')
  base = string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  redis.call('HSET', KEYS[2], 'base', base)
end
local cur = tonumber(redis.call('HGET', KEYS[2], 'f:' .. ARGV[1]) or '0')
if cur < tonumber(base) then cur = tonumber(base) end
`

/** KEYS stream, meta; ARGV scope, ifVersion ('' for none), maxLen, field, value, … → {1, id, fence, prev} | {0, fence} */
export const WRITE = `${BASE}
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= cur then return {0, string.format('%d', cur)} end
local f = string.format('%d', cur + 1)
local prev = redis.call('HGET', KEYS[2], 'last') or '0-0'
local args = {'XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'p', prev, 'f', f}
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
local id = redis.call(unpack(args))
redis.call('HSET', KEYS[2], 'f:' .. ARGV[1], f, 'last', id)
return {1, id, f, prev}`

/** KEYS stream, meta; ARGV scope → the scope's fence */
export const VERSION = `${BASE}
return string.format('%d', cur)`

/**
 * KEYS stream, meta; ARGV chain (the last scripted entry applied), cursor (the last entry read).
 * 'ok' when nothing was missed: the shard's last entry is the one applied, or a later one is still
 * there to be read. 'gap' when entries after `chain` are gone (trimmed; a restarted Redis).
 */
export const CHECK = `
local last = redis.call('HGET', KEYS[2], 'last') or '0-0'
if last == ARGV[1] then return 'ok' end
local nxt = redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', 1)
if #nxt > 0 then return 'ok' end
return 'gap'`

/** KEYS stream, meta → {last scripted id, last entry id}: where a resynchronised node starts. */
export const RESYNC = `
local last = redis.call('HGET', KEYS[2], 'last') or '0-0'
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local cursor = last
if #top > 0 then cursor = top[1][1] end
return {last, cursor}`

export interface Script {
  readonly src: string
  readonly sha: string
}

export const script = (src: string): Script => ({ src, sha: createHash('sha1').update(src).digest('hex') })
export const SCRIPTS = { write: script(WRITE), version: script(VERSION), check: script(CHECK), resync: script(RESYNC) }

/** One command to the node that holds `key` (a client, or a cluster client that routes by key). */
export type Send = (key: string, args: string[]) => Promise<unknown>

/** EVALSHA, falling back to EVAL once when the server does not know the script (a restart, a new master). */
export async function evalScript(send: Send, s: Script, keys: string[], argv: string[]): Promise<unknown> {
  try {
    return await send(keys[0], ['EVALSHA', s.sha, String(keys.length), ...keys, ...argv])
  } catch (e) {
    if (!String((e as Error)?.message ?? e).startsWith('NOSCRIPT')) throw e
    return send(keys[0], ['EVAL', s.src, String(keys.length), ...keys, ...argv])
  }
}
