// HTTP benchmark: random `GET /get?scope=bench&id=…` over a 50 000-item scope on loopback, served by
// `startServer` (the engine of `scopecache serve`) with 1 listener thread and with one per core.
// Load comes from wrk (`-t2 -c64`, a Lua script picking random ids) in its own process; without wrk
// it falls back to autocannon, in this process (noted, and it saturates sooner). Server and load
// generator share the machine's cores, as in the Go figure this is compared with. Beside req/s, the
// server CPU time per request (lib/proc-cpu.mjs) against a bare node:http server answering a constant.
import { spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ScopeCache } from '@scopecache/core'
import { createHandler } from '@scopecache/http'
import { reusePortSupported, startServer } from '@scopecache/http/server'
import { median } from '../lib/measure.mjs'
import { procCpuMicros } from '../lib/proc-cpu.mjs'
import { bareChildTarget, reusePortNode, shmTargets } from '../lib/shm-serve.mjs'

const ITEMS = 50_000
const SCOPE = 'bench'
// ScopeCache (Go) v0.8.32 on a 2-vCPU machine like this one, wrk -t2 -c64, server and wrk sharing the
// cores: ~69 000 req/s (the figure given with this task; not re-measured by this suite).
const GO_RPS = 69_000
const LUA = fileURLToPath(new URL('./http-wrk.lua', import.meta.url))

function payloadFor(i) {
  // ~100-byte JSON object, like the core read benchmarks
  return { id: i, name: `user ${i}`, email: `user${i}@example.com`, tags: ['a', 'b'], score: (i * 7919) % 1000 }
}

function wrkVersion() {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  if (r.error) return undefined
  return (r.stdout + r.stderr).split('\n')[0].trim()
}

function runWrk(url, seconds, connections) {
  return new Promise((resolve, reject) => {
    const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', LUA, url]
    const p = spawn('wrk', args, { env: { ...process.env, BENCH_ITEMS: String(ITEMS), BENCH_SCOPE: SCOPE }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 15) * 1000)
    p.on('close', (code) => {
      clearTimeout(killer)
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '))
      if (code !== 0 || line === undefined) return reject(new Error(`wrk failed (${code}): ${err || out}`))
      const j = JSON.parse(line.slice(9))
      resolve({
        rps: Math.round(j.requests / (j.duration_us / 1e6)),
        p50: j.p50, p99: j.p99,
        errors: j.connect + j.read + j.write + j.status + j.timeout,
        requests: j.requests,
      })
    })
  })
}

async function runAutocannon(url, seconds, connections) {
  const { default: autocannon } = await import('autocannon')
  let n = 0x2545f491
  const next = () => ((n = (n * 1103515245 + 12345) >>> 0) % ITEMS)
  const r = await autocannon({
    url, connections, duration: seconds, pipelining: 1,
    requests: [{ setupRequest: (req) => ({ ...req, path: `/get?scope=${SCOPE}&id=item:${String(next()).padStart(6, '0')}` }) }],
  })
  return {
    rps: Math.round(r.requests.total / (r.duration || seconds)),
    p50: Math.round(r.latency.p50 * 1000), p99: Math.round(r.latency.p99 * 1000),
    errors: r.errors + r.timeouts + r.non2xx,
    requests: r.requests.total,
  }
}

const suite = {
  id: 'http',
  title: 'HTTP: random GET /get over a 50 000-item scope',
  async run({ quick, progress }) {
    const seconds = quick ? 2 : 10
    const connections = 64
    const cores = availableParallelism()
    const wrk = wrkVersion()
    const notes = [
      `load average before the run: ${loadavg().map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min); figures from a busy machine are not comparable.`,
      `Node ${process.versions.node}; ${cores} cores; server = startServer (scopecache serve) in this process, load = ${wrk ?? 'autocannon (wrk not installed)'}.`,
      `wrk -t2 -c${connections} -d${seconds}s with a Lua script cycling through 20 000 pre-formatted requests per wrk thread, each a random id of ${ITEMS}; payloads ~100-byte JSON; the load generator shares the cores with the server.`,
      `ratio vs Go: req/s ÷ ${GO_RPS} (ScopeCache Go server, wrk -t2 -c64 on a machine like this; a quoted figure, not measured in this run).`,
    ]
    const skipped = []
    if (wrk === undefined) skipped.push({ what: 'wrk', why: 'not installed (run benchmarks/setup-http.sh); autocannon used instead, in-process, so figures are lower than wrk would show' })
    const load = wrk === undefined ? runAutocannon : runWrk

    const cases = [1]
    if (cores > 1 && reusePortSupported()) cases.push(cores)
    else if (cores > 1) skipped.push({ what: `${cores} listener threads`, why: `Node ${process.versions.node} has no listen({ reusePort }); the server serves from 1 thread there (run this suite under Node >= 22.12)` })

    // All targets up at once (idle ones cost nothing), then rounds that visit each in turn: a load
    // drift on this shared VM then hits every case alike, and the median of the rounds is reported.
    const targets = []
    try {
      for (const threads of cases) {
        progress(`http: starting server with ${threads} thread(s), ${ITEMS} items`)
        const server = await startServer({ port: 0, threads, logLevel: 'silent' })
        targets.push({ key: `${threads}thread${threads === 1 ? '' : 's'}`, label: `${server.threads} thread${server.threads === 1 ? '' : 's'}`, url: server.address, close: () => server.close(), server })
        for (let i = 0; i < ITEMS; i++) server.cache.append(SCOPE, payloadFor(i), { id: `item:${String(i).padStart(6, '0')}` })
        const probe = await fetch(`${server.address}/get?scope=${SCOPE}&id=item:000042`)
        if (probe.status !== 200) throw new Error(`probe GET answered ${probe.status}`)
        await probe.arrayBuffer()
      }
      // the handler alone on plain node:http, with its per-request span code and without it (no SDK
      // registered in either): what tracing costs a server whose app never turns it on
      for (const tracing of [true, false]) targets.push(await handlerTarget(tracing))
      targets.push(await bareTarget())
      // One store in shared memory served by `scopecache serve --shm` processes on one port: 1 and 2.
      const node = reusePortNode()
      if (node.bin === undefined) skipped.push({ what: 'serve --shm, 2 processes', why: node.why })
      else {
        progress(`http: serve --shm on Node ${node.version}, 1 and 2 processes, ${ITEMS} items`)
        targets.push(...(await shmTargets({ node, items: ITEMS, scope: SCOPE, payloadFor })))
        if (node.bin !== process.execPath) targets.push(await bareChildTarget(node, payloadFor(42)))
        notes.push(`serve --shm: \`scopecache serve --shm NAME --threads 1\` child processes on Node ${node.version} (listen({ reusePort }) needs Node >= 22.12), all on one port, serving one store in /dev/shm that this process filled; server CPU per request: the sum over the serve processes.${node.bin === process.execPath ? '' : ` Their baseline is a bare node:http child process on the same Node ${node.version} answering the same constant.`}`)
      }
      const rounds = 3
      notes.push(`${rounds} rounds, each visiting every case in turn (one 1 s warm-up load per case before the first); req/s: the median round; server CPU per request: utime + stime of the serving process from /proc/<pid>/stat (this process, pid ${process.pid}, for every in-process server; the child processes for the serve --shm cases and their baseline; wrk is its own process) before and after each load run, ÷ the requests that run served; × bare: the median of the per-round ratios.`)
      for (const t of targets) await load(t.url, 1, connections)
      // CPU per request needs the load generator out of this process: only with wrk.
      const cpuOf = (t) => (wrk === undefined ? null : t.cpuMicros ? t.cpuMicros() : procCpuMicros())
      const results = new Map(targets.map((t) => [t.key, []]))
      for (let round = 1; round <= rounds; round++) {
        for (const t of targets) {
          progress(`http: round ${round}/${rounds}: ${t.label}: ${seconds} s of load`)
          const c0 = cpuOf(t)
          const r = await load(t.url, seconds, connections)
          const c1 = cpuOf(t)
          results.get(t.key).push({ ...r, load1: loadavg()[0], cpuUs: c0 === null || c1 === null ? null : (c1 - c0) / r.requests })
        }
      }
      const rows = []
      const figures = {}
      for (const t of targets) {
        const bareRuns = results.get(t.baseline ?? 'bare')
        const inOrder = results.get(t.key)
        const runs = [...inOrder].sort((x, y) => x.rps - y.rps)
        const m = runs[Math.floor(runs.length / 2)]
        const hasCpu = inOrder.every((r) => r.cpuUs !== null)
        const cpuUs = hasCpu ? median(inOrder.map((r) => r.cpuUs)) : null
        const cpuVsBare = hasCpu ? median(inOrder.map((r, i) => r.cpuUs / bareRuns[i].cpuUs)) : null
        rows.push([t.label, m.rps, cpuUs === null ? '—' : +cpuUs.toFixed(2), cpuVsBare === null ? '—' : `${cpuVsBare.toFixed(2)}×`, m.p50, m.p99, m.errors, +(m.rps / GO_RPS).toFixed(2), inOrder.map((r) => `${r.rps}${r.cpuUs === null ? '' : ` (${r.cpuUs.toFixed(1)} µs)`}`).join(' / '), m.load1.toFixed(2)])
        figures[`http.rps.${t.key}`] = m.rps
        if (hasCpu) {
          figures[`http.cpuUsPerReq.${t.key}`] = +cpuUs.toFixed(3)
          if (!t.key.startsWith('bare')) figures[`http.cpuVsBare.${t.key}`] = +cpuVsBare.toFixed(3)
        }
        figures[`http.p50us.${t.key}`] = m.p50
        figures[`http.p99us.${t.key}`] = m.p99
        figures[`http.errors.${t.key}`] = runs.reduce((n, r) => n + r.errors, 0)
        figures[`http.ratio_vs_go.${t.key}`] = +(m.rps / GO_RPS).toFixed(3)
        if (t.server) figures[`http.serving_threads.${t.key}`] = t.server.threads
      }
      if (results.get('handler')?.every((r) => r.cpuUs !== null)) {
        const on = results.get('handler'), off = results.get('handlerNoTrace')
        figures['http.traceOverhead'] = +median(on.map((r, i) => r.cpuUs / off[i].cpuUs)).toFixed(3)
        notes.push(`span code with no OpenTelemetry SDK registered: server CPU per request ${figures['http.traceOverhead']}× the same handler with tracing: false (median of per-round ratios)`)
      }
      figures['http.ratio_vs_bare.1thread'] = +(figures['http.rps.1thread'] / figures['http.rps.bare']).toFixed(3)
      if (cases.length > 1) {
        const k = `${cores}threads`
        figures['http.scaling'] = +(figures[`http.rps.${k}`] / figures['http.rps.1thread']).toFixed(2)
        figures[`http.ratio_vs_bare.${k}`] = +(figures[`http.rps.${k}`] / figures['http.rps.bare']).toFixed(3)
        notes.push(`scaling ${cores} threads ÷ 1 thread: ${figures['http.scaling']}×`)
      }
      if (figures['http.rps.shm2proc'] !== undefined) {
        figures['http.shmScaling'] = +(figures['http.rps.shm2proc'] / figures['http.rps.shm1proc']).toFixed(2)
        notes.push(`serve --shm: 2 processes ÷ 1 process: ${figures['http.shmScaling']}× req/s`)
      }
    return {
        tables: [{ title: `HTTP GET /get, random id of ${ITEMS} (Node ${process.versions.node})`, columns: ['case', 'req/s', 'server CPU µs/req', 'CPU/req × bare', 'p50 µs', 'p99 µs', 'errors', '÷ Go 69k', 'req/s (CPU µs/req) of each round', 'load 1 min'], rows }],
        figures,
        notes,
        skipped,
      }
    } finally {
      for (const t of targets) await t.close()
    }
  },
}

/** createHandler over its own store on plain node:http in this thread, with or without span code. */
async function handlerTarget(tracing) {
  const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
  for (let i = 0; i < ITEMS; i++) cache.append(SCOPE, payloadFor(i), { id: `item:${String(i).padStart(6, '0')}` })
  const server = http.createServer(createHandler(cache, { tracing }))
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    key: tracing ? 'handler' : 'handlerNoTrace',
    label: `createHandler on node:http, span code ${tracing ? 'on (no SDK registered)' : 'off (tracing: false)'}`,
    url: `http://127.0.0.1:${server.address().port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      cache.close()
    },
  }
}

/**
 * Bare node:http in this (main) thread answering a constant ~100-byte body: the HTTP stack alone under
 * the same load generator, so the gap to it is what the store, the handler and the threads add.
 */
async function bareTarget() {
  const body = Buffer.from(JSON.stringify(payloadFor(42)))
  const bare = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    res.end(body)
  })
  await new Promise((r) => bare.listen(0, '127.0.0.1', r))
  return {
    key: 'bare',
    label: 'bare node:http, constant body (baseline)',
    url: `http://127.0.0.1:${bare.address().port}`,
    close: () => {
      bare.closeAllConnections()
      return new Promise((r) => bare.close(r))
    },
  }
}

export default suite

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await suite.run({ quick: process.argv.includes('--quick'), progress: (m) => process.stderr.write(m + '\n') })
  console.log(JSON.stringify(r, null, 2))
}
