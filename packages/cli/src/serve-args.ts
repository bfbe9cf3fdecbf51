/**
 * `scopecache serve` settings: flags (node:util parseArgs) over `SCOPECACHE_*` environment variables
 * over defaults. One table drives parsing, the environment and --help, so they cannot drift apart.
 * Every bad value is a UsageError (exit code 2) naming the flag or variable and what it accepts.
 */
import { parseArgs } from 'node:util'
import { isLogLevel, isLoopbackHost, LOG_LEVELS, type ServerOptions } from '@scopecache/http/server'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Kind = 'port' | 'int' | 'mb' | 'seconds' | 'string' | 'level' | 'bool' | 'whenFull'

interface Setting {
  flag: string
  env: readonly string[]
  kind: Kind
  arg: string
  help: string
  /** Shown as the default in --help. */
  dflt?: string
}

export const SETTINGS: readonly Setting[] = [
  { flag: 'port', env: ['SCOPECACHE_PORT'], kind: 'port', arg: 'N', help: 'TCP port (0 = any free port)', dflt: '8080' },
  { flag: 'host', env: ['SCOPECACHE_HOST'], kind: 'string', arg: 'ADDR', help: 'address to bind; non-loopback needs --allow-remote', dflt: '127.0.0.1' },
  { flag: 'allow-remote', env: ['SCOPECACHE_ALLOW_REMOTE'], kind: 'bool', arg: '', help: 'allow a non-loopback --host (no authentication: see Security)' },
  { flag: 'socket', env: ['SCOPECACHE_SOCKET', 'SCOPECACHE_SOCKET_PATH'], kind: 'string', arg: 'PATH', help: 'listen on this Unix socket (mode 0660) instead of TCP; 1 thread' },
  { flag: 'threads', env: ['SCOPECACHE_THREADS'], kind: 'int', arg: 'N', help: 'listener threads (more than 1 needs Node >= 22.12)', dflt: 'cores, or 1 without reusePort' },
  { flag: 'scope-max-items', env: ['SCOPECACHE_SCOPE_MAX_ITEMS'], kind: 'int', arg: 'N', help: 'items per scope', dflt: '100000' },
  { flag: 'max-store-mb', env: ['SCOPECACHE_MAX_STORE_MB'], kind: 'mb', arg: 'MB', help: 'store byte budget in MiB', dflt: '100' },
  { flag: 'max-item-mb', env: ['SCOPECACHE_MAX_ITEM_MB'], kind: 'mb', arg: 'MB', help: 'bytes per item in MiB', dflt: '1' },
  { flag: 'when-full', env: ['SCOPECACHE_WHEN_FULL'], kind: 'whenFull', arg: 'MODE', help: 'a full store: reject (507 store_full) or evict (whole scopes, least recently used first)', dflt: 'reject' },
  { flag: 'shm', env: ['SCOPECACHE_SHM'], kind: 'string', arg: 'NAME', help: 'serve the store NAME in shared memory (/dev/shm), created or attached: several serve processes share it (needs @scopecache/shm)' },
  { flag: 'init-command', env: ['SCOPECACHE_INIT_COMMAND'], kind: 'string', arg: 'PATH', help: 'executable run before the listener opens, against the private socket in $SCOPECACHE_SOCKET_PATH' },
  { flag: 'init-timeout', env: ['SCOPECACHE_INIT_TIMEOUT', 'SCOPECACHE_INIT_TIMEOUT_SEC'], kind: 'seconds', arg: 'S', help: 'kill the init command after S seconds (0 = never)', dflt: '60' },
  { flag: 'max-connections', env: ['SCOPECACHE_MAX_CONNECTIONS'], kind: 'int', arg: 'N', help: 'open connections per listener thread', dflt: '4096' },
  { flag: 'redis', env: ['SCOPECACHE_REDIS'], kind: 'string', arg: 'URL', help: 'join a coherent group through this Redis (redis://host:port): writes published, store kept coherent (@scopecache/redis)' },
  { flag: 'group', env: ['SCOPECACHE_GROUP'], kind: 'string', arg: 'NAME', help: 'the coherent group to join (with --redis)' },
  { flag: 'redis-mode', env: ['SCOPECACHE_REDIS_MODE'], kind: 'string', arg: 'MODE', help: 'invalidate (other nodes drop what a write names) or replicate (they store it too)', dflt: 'invalidate' },
  { flag: 'log-level', env: ['SCOPECACHE_LOG_LEVEL'], kind: 'level', arg: 'LEVEL', help: LOG_LEVELS.join('|'), dflt: 'info' },
]

const INT_RE = /^\d+$/
const DECIMAL_RE = /^\d+(\.\d+)?$/
const MIB = 1024 * 1024
/** Listener threads; the store has 256 thread slots and the main thread takes one. */
const MAX_THREADS = 128

type Value = string | number | boolean

function parseValue(s: Setting, raw: string, where: string): Value {
  const bad = (what: string) => new UsageError(`${where}: ${JSON.stringify(raw)} is not ${what}`)
  switch (s.kind) {
    case 'port': {
      if (!INT_RE.test(raw) || Number(raw) > 65535) throw bad('a port number (0-65535)')
      return Number(raw)
    }
    case 'int': {
      if (!INT_RE.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) throw bad('a positive integer')
      return Number(raw)
    }
    case 'mb': {
      if (!DECIMAL_RE.test(raw) || Number(raw) <= 0) throw bad('a positive number of MiB')
      return Math.floor(Number(raw) * MIB)
    }
    case 'seconds': {
      if (!DECIMAL_RE.test(raw)) throw bad('a number of seconds (0 = no limit)')
      return Math.round(Number(raw) * 1000)
    }
    case 'string': {
      if (raw === '') throw bad('a non-empty value')
      return raw
    }
    case 'level': {
      if (!isLogLevel(raw)) throw bad(`one of ${LOG_LEVELS.join(', ')}`)
      return raw
    }
    case 'whenFull': {
      if (raw !== 'reject' && raw !== 'evict') throw bad('reject or evict')
      return raw
    }
    case 'bool': {
      if (/^(1|true|yes|on)$/i.test(raw)) return true
      if (/^(0|false|no|off|)$/i.test(raw)) return false
      throw bad('a boolean (1/0, true/false, yes/no)')
    }
  }
}

export interface ServeCommand {
  help: boolean
  options: ServerOptions
}

/** Flags win over environment variables, which win over defaults. */
export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv): ServeCommand {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } }
  for (const s of SETTINGS) spec[s.flag] = { type: s.kind === 'bool' ? 'boolean' : 'string' }
  let parsed
  try {
    parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: false })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>
  if (flags['help'] === true) return { help: true, options: {} }

  const got = new Map<string, Value>()
  for (const s of SETTINGS) {
    const f = flags[s.flag]
    if (f !== undefined) {
      got.set(s.flag, typeof f === 'boolean' ? f : parseValue(s, f, `--${s.flag}`))
      continue
    }
    const name = s.env.find((n) => env[n] !== undefined)
    if (name !== undefined) got.set(s.flag, parseValue(s, env[name]!, name))
  }
  if (flags['socket'] !== undefined && (flags['port'] !== undefined || flags['host'] !== undefined)) {
    throw new UsageError('--socket listens on a Unix socket instead of TCP: do not combine it with --port or --host')
  }
  const pick = <T extends Value>(flag: string) => got.get(flag) as T | undefined
  const host = pick<string>('host') ?? '127.0.0.1'
  if (pick('socket') === undefined && !isLoopbackHost(host) && pick('allow-remote') !== true) {
    throw new UsageError(`--host ${host} is not a loopback address; add --allow-remote to accept clients from other machines (there is no authentication)`)
  }
  if ((pick<number>('threads') ?? 1) > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`)
  const itemBytes = pick<number>('max-item-mb') ?? MIB
  const storeBytes = pick<number>('max-store-mb') ?? 100 * MIB
  if (itemBytes > storeBytes) throw new UsageError('--max-item-mb must not exceed --max-store-mb')
  const maxConnections = pick<number>('max-connections')
  const redis = pick<string>('redis')
  const group = pick<string>('group')
  const mode = pick<string>('redis-mode')
  if ((redis === undefined) !== (group === undefined)) throw new UsageError('--redis and --group go together: the Redis URL and the name of the group to join')
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) throw new UsageError(`--redis: ${JSON.stringify(redis)} is not a redis:// URL`)
  if (mode !== undefined && mode !== 'invalidate' && mode !== 'replicate') throw new UsageError(`--redis-mode: ${JSON.stringify(mode)} is not invalidate or replicate`)
  if (mode !== undefined && redis === undefined) throw new UsageError('--redis-mode needs --redis and --group')
  return {
    help: false,
    options: {
      port: pick<number>('port') ?? 8080,
      host,
      allowRemote: pick<boolean>('allow-remote') ?? false,
      socket: pick<string>('socket'),
      threads: pick<number>('threads') ?? 'auto',
      scopeMaxItems: pick<number>('scope-max-items'),
      maxStoreBytes: pick<number>('max-store-mb'),
      maxItemBytes: pick<number>('max-item-mb'),
      whenFull: pick<'reject' | 'evict'>('when-full'),
      shm: pick<string>('shm'),
      initCommand: pick<string>('init-command'),
      initTimeoutMs: pick<number>('init-timeout') ?? 60_000,
      limits: maxConnections === undefined ? undefined : { maxConnections },
      logLevel: pick<ServerOptions['logLevel'] & string>('log-level') ?? 'info',
      redis: redis === undefined ? undefined : { url: redis, group: group as string, mode: (mode ?? 'invalidate') as 'invalidate' | 'replicate' },
    },
  }
}
