/**
 * The `scopecache` command. Subcommands: `serve`. Bad usage exits 2 with one line on stderr.
 */
import { MAIN_HELP, serveHelp } from './help.js'
import { serve } from './serve.js'
import { parseServeArgs, UsageError } from './serve-args.js'

declare const SCOPECACHE_VERSION: string

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(MAIN_HELP)
    return cmd === undefined ? 2 : 0
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${SCOPECACHE_VERSION}\n`)
    return 0
  }
  if (cmd !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try: scopecache --help)`)
  const parsed = parseServeArgs(rest, process.env)
  if (parsed.help) {
    process.stdout.write(serveHelp())
    return 0
  }
  return serve(parsed.options)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`scopecache: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`scopecache: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
