/** Help texts, built from the settings table. */
import { SETTINGS } from './serve-args.js'

export const MAIN_HELP = `scopecache — a scope-partitioned in-memory store with the ScopeCache HTTP API

Usage:
  scopecache serve [options]   run the HTTP server (see: scopecache serve --help)
  scopecache --help            this text
  scopecache --version         the version

Exit codes: 0 stopped cleanly, 1 runtime failure (e.g. the port is taken), 2 bad usage.
`

export function serveHelp(): string {
  const rows = SETTINGS.map((s) => {
    const left = `  --${s.flag}${s.arg === '' ? '' : ' ' + s.arg}`
    const dflt = s.dflt === undefined ? '' : ` (default: ${s.dflt})`
    return `${left.padEnd(30)}${s.help}${dflt}\n${''.padEnd(30)}env: ${s.env.join(', ')}`
  })
  return `Usage: scopecache serve [options]

Runs the ScopeCache-compatible HTTP API on one shared in-memory store, answered by N listener
threads on one port (SO_REUSEPORT; Node 20 has no reusePort, so it serves from 1 thread there).
Flags win over environment variables. Logs are JSON lines (pino) on stdout; once listening it
prints one line "scopecache listening on <address> (<n> threads)".

Options:
${rows.join('\n')}
  -h, --help                  this text

Security: there is no authentication. By default only loopback (127.0.0.1) is bound, like Redis's
protected mode; binding another address needs --allow-remote, and then anyone who can reach the
port can read, overwrite and flush everything. Put it behind a firewall or use --socket.

Init command: PATH is executed (no shell, no arguments) with SCOPECACHE_SOCKET_PATH set to a
private Unix socket (mode 0600) served by the same API; the public listener opens only after it
exits or --init-timeout passes (then its process group is killed). Failures are logged, boot goes on.

Signals: SIGINT/SIGTERM stop accepting, give in-flight requests 5 s, remove the socket file and
exit 0; a second signal exits at once (code 1).
`
}
