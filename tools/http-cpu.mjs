// CPU per request of the HTTP handler vs a bare node:http server answering a constant, without the
// kernel or a load generator: both run real node:http servers (the hardened one of `scopecache
// serve`, with its x-scopecache-thread listener, and a plain one) fed pipelined `GET /get` requests
// through an in-memory socket, in alternating rounds. Quieter than wrk on a shared machine, and what
// `node --cpu-prof tools/http-cpu.mjs scopecache` profiles. Needs a build.
//   node tools/http-cpu.mjs [rounds=7] [requestsPerRound=100000] [only=both|scopecache|bare|ab] [path=/get]
// `ab` adds a third server built from another copy of the package (BASE_DIST, default
// packages/http/dist/base: compile the old src there) to compare a change with its base in one run.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { Duplex } from 'node:stream'
import { ScopeCache } from '../packages/core/dist/index.js'
import { createMetricsBuffer } from '../packages/http/dist/metrics.js'
import { createRequestListener } from '../packages/http/dist/server-handler.js'
import { createHardenedServer, DEFAULT_HTTP_LIMITS } from '../packages/http/dist/server-http.js'

// WRK=seconds: load each server through loopback TCP with wrk -t2 -c64 (benchmarks/suites/http-wrk.lua)
// instead of the in-memory socket; requestsPerRound is then ignored.
const WRK = Number(process.env.WRK ?? 0)
const ROUNDS = Number(process.argv[2] ?? 7)
const PER_ROUND = Number(process.argv[3] ?? 100_000)
const ONLY = process.argv[4] ?? 'both'
const PATH = process.argv[5] ?? '/get'
const ITEMS = 50_000
const BATCH = 32 // pipelined requests in flight per socket
const SOCKETS = 8

const payloadFor = (i) => ({ id: i, name: `user ${i}`, email: `user${i}@example.com`, tags: ['a', 'b'], score: (i * 7919) % 1000 })
const idOf = (i) => `item:${String(i).padStart(6, '0')}`

const cache = ScopeCache.create({ maxStoreBytes: 64 * 1024 * 1024 })
for (let i = 0; i < ITEMS; i++) cache.append('bench', payloadFor(i), { id: idOf(i) })

const silent = { error() {}, debug() {}, info() {}, warn() {}, trace() {}, fatal() {}, child() { return silent } }
const BASE_DIST = process.env.BASE_DIST ?? new URL('../packages/http/dist/base/', import.meta.url).href
const ours = createHardenedServer(createRequestListener(cache, { threadIndex: 1, metricsBuffer: createMetricsBuffer(), logger: silent }), DEFAULT_HTTP_LIMITS, silent)
const body = Buffer.from(JSON.stringify(payloadFor(42)))
const bare = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
  res.end(body)
})

// 4096 random requests, pre-formatted as wrk does
let seed = 0x2545f491
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % ITEMS)
const REQS = Array.from({ length: 4096 }, () => Buffer.from(`GET ${PATH}?scope=bench&id=${idOf(rnd())} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n`))

class FakeSocket extends Duplex {
  constructor(onResponses) {
    super()
    this.onResponses = onResponses
    this.remoteAddress = '127.0.0.1'
    this.remotePort = 40000
    this.writable = true
  }
  _read() {}
  _write(chunk, _enc, cb) {
    this.count(chunk)
    cb()
  }
  _writev(chunks, cb) {
    for (const c of chunks) this.count(c.chunk)
    cb()
  }
  count(chunk) {
    // responses start with "HTTP/1.1 "; a chunk holds head (+ body) of one response
    const s = typeof chunk === 'string' ? chunk : chunk.latin1Slice(0, 9)
    if (s.startsWith('HTTP/1.1 ')) this.onResponses(1)
  }
  setTimeout() { return this }
  setNoDelay() { return this }
  setKeepAlive() { return this }
  destroySoon() { this.destroy() }
}

let k = 0
function runRound(server, n) {
  return new Promise((resolve) => {
    let sent = 0
    let done = 0
    const socks = []
    const feed = (s) => {
      const m = Math.min(BATCH, n - sent)
      if (m <= 0) return
      sent += m
      s.pending = m
      const parts = []
      for (let i = 0; i < m; i++) parts.push(REQS[k++ & 4095])
      s.push(Buffer.concat(parts))
    }
    for (let j = 0; j < SOCKETS; j++) {
      const s = new FakeSocket((c) => {
        done += c
        if (--s.pending === 0) {
          if (done >= n) return resolve()
          setImmediate(() => feed(s))
        }
      })
      socks.push(s)
      server.emit('connection', s)
      feed(s)
    }
  }).finally(() => {})
}

const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function measureWrk(server) {
  if (!server.listening) await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const lua = new URL('../benchmarks/suites/http-wrk.lua', import.meta.url).pathname
  const c0 = cpu()
  const out = await new Promise((resolve, reject) => {
    const p = spawn('wrk', ['-t2', '-c64', `-d${WRK}s`, '-s', lua, `http://127.0.0.1:${server.address().port}`], { env: { ...process.env, BENCH_ITEMS: String(ITEMS), BENCH_SCOPE: 'bench' } })
    let o = ''
    p.stdout.on('data', (d) => (o += d))
    p.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`wrk exited ${code}`))))
  })
  const c1 = cpu()
  const j = JSON.parse(out.split('\n').find((l) => l.startsWith('WRK_JSON ')).slice(9))
  if (j.status + j.connect + j.read + j.write + j.timeout > 0) throw new Error('wrk saw errors: ' + JSON.stringify(j))
  return (c1 - c0) / j.requests
}

async function measure(server, n) {
  if (WRK > 0) return measureWrk(server)
  const c0 = cpu()
  await runRound(server, n)
  return (cpu() - c0) / n
}

// bareh: the bare handler on the hardened server of `scopecache serve` (what the hardening costs)
const bareh = createHardenedServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
  res.end(body)
}, DEFAULT_HTTP_LIMITS, silent)
// experiments: the bare server answering like the handler does (string body, its header list), and
// the same plus the store read of the requested id
const text = body.toString()
const head = ['x-scopecache-thread', '1', 'content-type', 'application/octet-stream', 'content-length', 0]
const bares = createHardenedServer((req, res) => {
  head[5] = Buffer.byteLength(text)
  res.writeHead(200, head)
  res.end(text)
}, DEFAULT_HTTP_LIMITS, silent)
const barec = createHardenedServer((req, res) => {
  const t = cache.getRaw('bench', { id: req.url.slice(req.url.indexOf('&id=') + 4) })
  head[5] = Buffer.byteLength(t)
  res.writeHead(200, head)
  res.end(t)
}, DEFAULT_HTTP_LIMITS, silent)
const barecb = createHardenedServer((req, res) => {
  const b = cache.getBytes('bench', { id: req.url.slice(req.url.indexOf('&id=') + 4) })
  head[5] = b.length
  res.writeHead(200, head)
  res.end(b)
}, DEFAULT_HTTP_LIMITS, silent)
const NAMED = { barecb: () => barecb, bare: () => bare, bareh: () => bareh, bares: () => bares, barec: () => barec, scopecache: () => ours, base: baseServer }
const names = ONLY === 'both' ? ['bare', 'scopecache'] : ONLY === 'ab' ? ['bare', 'base', 'scopecache'] : ONLY.split(',')
const targets = []
for (const n of names) targets.push([n, await NAMED[n]()])

async function baseServer() {
  const m = await import(new URL('metrics.js', BASE_DIST).href)
  const l = await import(new URL('server-handler.js', BASE_DIST).href)
  const h = await import(new URL('server-http.js', BASE_DIST).href)
  return h.createHardenedServer(l.createRequestListener(cache, { threadIndex: 1, metricsBuffer: m.createMetricsBuffer(), logger: silent }), h.DEFAULT_HTTP_LIMITS, silent)
}
// warm-up (JIT)
for (const [, s] of targets) await measure(s, 30_000)
if (WRK > 0) console.log(`wrk -t2 -c64 -d${WRK}s per server and round`)
const res = Object.fromEntries(targets.map(([name]) => [name, []]))
const ratios = []
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, s] of targets) res[name].push(await measure(s, PER_ROUND))
    if (res.scopecache && res.bare) ratios.push(res.scopecache[r] / res.bare[r])
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
for (const [name] of targets) console.log(`${name.padEnd(10)} median ${median(res[name]).toFixed(3)} µs/req  rounds: ${res[name].map((x) => x.toFixed(2)).join(' ')}`)
if (ratios.length > 0) {
  console.log(`ratio      median ${median(ratios).toFixed(3)}×  delta median ${median(res.scopecache.map((x, i) => x - res.bare[i])).toFixed(3)} µs`)
}
for (const n of names.filter((n) => n !== 'bare' && n !== 'scopecache' && res.bare)) {
  console.log(`${n} ratio median ${median(res[n].map((x, i) => x / res.bare[i])).toFixed(3)}×  delta median ${median(res[n].map((x, i) => x - res.bare[i])).toFixed(3)} µs`)
}
for (const [, s] of targets) s.closeAllConnections?.()
cache.close()
process.exit(0)
