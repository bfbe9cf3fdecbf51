// The cluster example: a node:cluster HTTP app whose worker processes all read and write ONE
// scopecache store in shared memory (ScopeCache.open, @scopecache/shm), on one port.
//
//   primary   opens the store (creating it), forks 3 workers, sends them traffic, SIGKILLs one
//             in the middle of it, forks its replacement, and at the end checks that every
//             acknowledged write is in the store — read back through the workers and directly
//   workers   each open the store by name and serve, straight from shared memory:
//               POST /visit?page=P   counterAdd('visits', P, 1) and append to scope 'log'
//               GET  /page?page=P    the page's visit count and the last 5 log entries
//
// node packages/http/examples/cluster/main.mjs    bounded demo run (~5 s), then exits by itself
import cluster from 'node:cluster'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { ScopeCache } from '@scopecache/core'

const NAME = `example-cluster-${process.env.SCOPECACHE_EXAMPLE_RUN ?? (cluster.isPrimary ? process.pid : process.env.STORE_OWNER)}`
const WORKERS = 3
const PAGES = ['home', 'docs', 'blog', 'shop']

if (cluster.isPrimary) await primary()
else worker()

function worker() {
  const cache = ScopeCache.open({ name: NAME })
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const page = url.searchParams.get('page') ?? 'home'
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...body, pid: process.pid }))
    }
    try {
      if (req.method === 'POST' && url.pathname === '/visit') {
        const visits = cache.counterAdd('visits', page, 1)
        cache.append('log', { page, pid: process.pid })
        return reply(200, { page, visits })
      }
      if (req.method === 'GET' && url.pathname === '/page') {
        const visits = cache.get('visits', { id: page })?.payload ?? 0
        return reply(200, { page, visits, recent: cache.tail('log', { limit: 5 }).items.map((i) => i.payload) })
      }
      reply(404, { error: 'not found' })
    } catch (e) {
      reply(e?.code === 'lock_timeout' ? 503 : 500, { error: e?.code ?? String(e) })
    }
  })
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('listening'))
  process.on('disconnect', () => {
    server.close()
    cache.close()
  })
}

async function primary() {
  ScopeCache.unlink(NAME) // a fresh store for the demo (a real app keeps it: that is the warm restart)
  const cache = ScopeCache.open({ name: NAME, maxStoreBytes: 16 << 20 })
  const port = await freePort()
  const env = { PORT: String(port), STORE_OWNER: String(process.pid) }
  const fork = async () => {
    const w = cluster.fork(env)
    await Promise.race([once(w, 'message'), timeout(20_000, 'a worker did not start')])
    return w
  }
  const stop = setTimeout(() => {
    console.error('cluster example: did not finish in 60 s')
    process.exit(1)
  }, 60_000)
  try {
    const workers = await Promise.all(Array.from({ length: WORKERS }, fork))
    console.log(`primary ${process.pid}: store ${NAME} in /dev/shm, ${WORKERS} workers (${workers.map((w) => w.process.pid).join(', ')}) on http://127.0.0.1:${port}`)

    const acked = Object.fromEntries(PAGES.map((p) => [p, 0]))
    const servedBy = new Set()
    let failed = 0
    const traffic = async (n) => {
      await Promise.all(Array.from({ length: n }, async (_, i) => {
        const page = PAGES[i % PAGES.length]
        try {
          const r = await fetch(`http://127.0.0.1:${port}/visit?page=${page}`, { method: 'POST', signal: AbortSignal.timeout(5_000) })
          const body = await r.json()
          if (r.status === 200) {
            acked[page]++
            servedBy.add(body.pid)
          } else failed++
        } catch {
          failed++ // the connection died with the killed worker: not acknowledged
        }
      }))
    }

    await traffic(200)
    const victim = workers[1]
    const during = traffic(200)
    await sleep(5)
    victim.process.kill('SIGKILL') // mid-traffic, maybe mid-write: the survivors reap what it held
    const [, code, signal] = await once(cluster, 'exit')
    console.log(`worker ${victim.process.pid} killed (${signal ?? code}); forking its replacement`)
    const replacement = await fork()
    await during
    await traffic(200)
    console.log(`replacement ${replacement.process.pid} serving; ${Object.values(acked).reduce((a, b) => a + b, 0)} visits acknowledged, ${failed} requests lost with the killed worker (never acknowledged)`)

    // Every acknowledged visit is there: read through the workers, and straight from the store.
    let ok = true
    for (const page of PAGES) {
      const r = await (await fetch(`http://127.0.0.1:${port}/page?page=${page}`)).json()
      const stored = cache.get('visits', { id: page })?.payload ?? 0
      // a request whose worker was killed after its write but before its reply counts in the store only
      const whole = stored >= acked[page] && r.visits === stored
      ok &&= whole
      console.log(`  ${page}: ${acked[page]} acknowledged, ${stored} in the store${whole ? '' : '  <-- LOST WRITES'}`)
    }
    console.log(`processes that served: ${servedBy.size}; store: ${cache.stats().items} items, ${cache.recoveryStats().deadThreadsReaped} dead thread(s) reaped`)
    console.log(ok ? 'nothing lost' : 'LOST WRITES')
    for (const w of Object.values(cluster.workers ?? {})) w?.disconnect()
    await Promise.race([Promise.all(Object.values(cluster.workers ?? {}).map((w) => once(w, 'exit'))), sleep(5_000)])
    process.exitCode = ok ? 0 : 1
  } finally {
    clearTimeout(stop)
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL')
    cache.close()
    ScopeCache.unlink(NAME)
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

function timeout(ms, what) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(what)), ms).unref())
}

async function freePort() {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}
