// The benchmark runner: `pnpm bench [--quick] [--only=a,b]`. Runs the setup step, then every
// benchmarks/suites/*.mjs (not *-worker.mjs) in its own child process, shows one progress line,
// writes benchmarks/results/<date>-<machine>[.quick].json and renders benchmarks/RESULTS.md.
import { fork, spawnSync, execFileSync } from 'node:child_process'
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, relative } from 'node:path'
import os from 'node:os'
import { renderResults } from './lib/report.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const ORDER = ['point-reads', 'read-ratios', 'ordered', 'writes', 'write-ratios', 'scaling', 'concurrency', 'memory', 'bulk', 'http', 'http-writes', 'pool', 'locks', 'eviction', 'processes', 'redis-coherent']
const SUITE_TIMEOUT_MS = quick ? 100_000 : 600_000
const tty = process.stderr.isTTY
const t0 = Date.now()

const elapsed = () => `${Math.round((Date.now() - t0) / 1000)}s`.padStart(4)
function status(line, final = false) {
  if (tty) process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 120) - 1)}${final ? '\n' : ''}`)
  else process.stderr.write(line + '\n')
}

function machineSlug() {
  if (process.env.BENCH_MACHINE) return process.env.BENCH_MACHINE
  const model = (os.cpus()[0]?.model ?? 'cpu').toLowerCase().replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, '').trim().split(/\s+/).slice(0, 2).join('-')
  return `${os.availableParallelism()}cpu-${model}`.replace(/[^a-z0-9.-]/g, '')
}

// setup.sh: redis-server; setup-http.sh: wrk (the http suite's load generator).
function setup() {
  if (args.includes('--no-setup')) return ['setup skipped (--no-setup)']
  const lines = []
  for (const script of ['setup.sh', 'setup-http.sh']) {
    const r = spawnSync('bash', [join(here, script)], { encoding: 'utf8', timeout: 300_000 })
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean)
    if (r.error) out.push(`${script} could not run: ${r.error.message}`)
    for (const l of out) process.stderr.write(l + '\n')
    lines.push(...out)
  }
  return lines
}

function discover() {
  const files = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.mjs') && !f.includes('-worker'))
  const rank = (f) => { const i = ORDER.indexOf(f.replace(/\.mjs$/, '')); return i < 0 ? ORDER.length : i }
  return files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).filter((f) => !only || only.includes(f.replace(/\.mjs$/, '')))
}

function runSuite(file, index, total) {
  const id = file.replace(/\.mjs$/, '')
  const started = Date.now()
  const label = () => `[${index + 1}/${total}] ${elapsed()} ${id} (${Math.round((Date.now() - started) / 1000)}s)`
  status(`${label()}: starting`)
  return new Promise((resolve) => {
    const child = fork(join(here, 'lib/run-suite.mjs'), [join(here, 'suites', file), ...(quick ? ['--quick'] : [])], {
      execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let result = null
    let log = ''
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    // On timeout: SIGTERM first (the suite stops its redis-server), SIGKILL if it does not go.
    const timer = setTimeout(() => {
      result = { id, error: `timed out after ${SUITE_TIMEOUT_MS / 1000} s` }
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 3000).unref()
    }, SUITE_TIMEOUT_MS)
    child.on('message', (m) => {
      if (m.progress) status(`${label()}: ${m.progress}`)
      else if (m.result) result = m.result
      else if (m.error) result = { id, error: m.error }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const seconds = Math.round((Date.now() - started) / 100) / 10
      if (!result) result = { id, error: `exited (code ${code}, signal ${signal}) without a result. Output: ${log.trim().slice(-2000)}` }
      result.seconds ??= seconds
      result.title ??= id
      status(`[${index + 1}/${total}] ${elapsed()} ${id}: ${result.error ? 'FAILED: ' + result.error.split('\n')[0] : `done in ${seconds} s`}${result.skipped?.length ? ` (${result.skipped.length} skipped)` : ''}`, true)
      if (result.error) process.stderr.write(result.error + '\n' + log.slice(-2000) + '\n')
      resolve(result)
    })
  })
}

const git = (...a) => { try { return execFileSync('git', a, { cwd: here, encoding: 'utf8' }).trim() } catch { return null } }
const loadBefore = os.loadavg().map((x) => +x.toFixed(2))
const setupLines = setup()
const files = discover()
process.stderr.write(`benchmarks: ${files.length} suites (${files.map((f) => f.replace('.mjs', '')).join(', ')}), ${quick ? 'quick' : 'full'} run\n`)
const suites = []
for (let i = 0; i < files.length; i++) suites.push(await runSuite(files[i], i, files.length))

const date = new Date().toISOString()
const machine = machineSlug()
const resultDir = join(here, 'results')
mkdirSync(resultDir, { recursive: true })
// A subset run (--only) never replaces the run of record: it writes a .partial file and leaves RESULTS.md alone.
const resultPath = join(resultDir, `${date.slice(0, 10)}-${machine}${quick ? '.quick' : ''}${only ? '.partial' : ''}.json`)
const meta = {
  date, machine, quick, hostname: os.hostname(), cpuModel: os.cpus()[0]?.model ?? 'unknown', cpus: os.availableParallelism(),
  memGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, v8: process.versions.v8,
  loadBefore, loadAfter: os.loadavg().map((x) => +x.toFixed(2)), commit: git('rev-parse', '--short', 'HEAD'), dirty: !!git('status', '--porcelain'),
  seconds: Math.round((Date.now() - t0) / 1000), setup: setupLines, expectedSuites: ORDER, only: only ?? null, resultFile: relative(here, resultPath),
}
const figures = Object.assign({}, ...suites.map((s) => s.figures ?? {}))
writeFileSync(resultPath, JSON.stringify({ meta, figures, suites }, null, 2) + '\n')
if (only) {
  for (const s of suites) for (const t of s.tables ?? []) { console.log(`\n${s.id}: ${t.title}`); console.table(t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i]])))) }
  process.stderr.write(`benchmarks: wrote ${relative(process.cwd(), resultPath)} in ${meta.seconds} s (subset run: RESULTS.md left as it was)\n`)
} else {
  renderResults({ meta, suites }, { mdPath: join(here, 'RESULTS.md'), chartDir: join(here, 'charts') })
  process.stderr.write(`benchmarks: wrote ${relative(process.cwd(), resultPath)} and ${relative(process.cwd(), join(here, 'RESULTS.md'))} in ${meta.seconds} s\n`)
}
process.exitCode = suites.some((s) => s.error) ? 1 : 0
