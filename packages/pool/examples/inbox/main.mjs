// The inbox example: a small HTTP service whose request handlers run in a pool of worker
// threads that share one scopecache store, plus a drain worker that ships the write buffer.
//
//   main thread   owns the store; parses HTTP on 127.0.0.1 and dispatches each request to the
//                 handler pool (Node 20 cannot share one listening port between worker threads)
//   handler pool  createCachePool, 3 workers: reads thread/inbox views with `tail`, appends
//                 messages and events, straight in shared memory; serves a read-through profile
//                 view with `getOrLoad` (one load of the slow database for all workers at once)
//   drain pool    createCachePool, 1 worker with a timer (atomics: 'disabled'): tail + trim
//
// node packages/pool/examples/inbox/main.mjs            bounded demo run, then exits by itself
// node packages/pool/examples/inbox/main.mjs --serve    keeps serving until Ctrl-C
import { createServer } from 'node:http'
import { once } from 'node:events'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScopeCache } from '@scopecache/core'
import { HttpError, httpStatusOf } from '@scopecache/http'
import { createCachePool } from '@scopecache/pool'

const serve = process.argv.includes('--serve')
const port = Number(process.env.PORT ?? (serve ? 8787 : 0))
const outFile = join(tmpdir(), `scopecache-inbox-events-${process.pid}.jsonl`)

// 1. One store, owned by this thread.
const cache = ScopeCache.create({ maxStoreBytes: 64 << 20, scopeMaxItems: 10_000 })

// 2. Request handlers in a pool; piscina's defaults suit them (they run no timers of their own).
const handlers = createCachePool({ cache, filename: new URL('./handlers.mjs', import.meta.url), minThreads: 3, maxThreads: 3 })

// 3. The drain worker: it keeps a timer running between tasks, which needs these settings.
const drain = createCachePool({
  cache,
  filename: new URL('./drain.mjs', import.meta.url),
  minThreads: 1,
  maxThreads: 1,
  idleTimeout: Infinity,
  atomics: 'disabled',
  workerData: { outFile, drainMs: 50 },
})

for (const p of [handlers, drain]) p.on('error', (err) => console.error('pool worker failed outside a task:', err))

const ROUTES = [
  ['POST', /^\/threads\/([^/]+)\/messages$/, 'message', ['thread']],
  ['GET', /^\/threads\/([^/]+)$/, 'thread', ['thread']],
  ['GET', /^\/inbox\/([^/]+)$/, 'inbox', ['user']],
  ['GET', /^\/stats$/, 'stats', []],
  ['GET', /^\/users\/([^/]+)\/profile$/, 'profile', ['user']],
  ['POST', /^\/users\/([^/]+)\/rename$/, 'rename', ['user']],
]
const MAX_BODY = 16 << 10

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const match = ROUTES.map(([m, re, route, names]) => {
    const g = req.method === m ? re.exec(url.pathname) : null
    return g && { route, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(g[i + 1])])) }
  }).find(Boolean)
  try {
    const body = req.method === 'POST' ? await readJson(req) : undefined
    if (!match) return send(res, 404, { error: 'not_found' })
    const out = await handlers.run({ method: req.method, route: match.route, params: match.params, query: Object.fromEntries(url.searchParams), body })
    send(res, out.status, { ...out.body, handledBy: out.handledBy })
  } catch (err) {
    // A store error arrives from the pool as a ScopeCacheError with its stable `code`; the HTTP
    // package maps the code to a status (scope_full -> 507 ...), anything unknown to 500.
    send(res, httpStatusOf(err), { error: err.code ?? 'internal', message: err.message })
  }
})

async function readJson(req) {
  let size = 0
  const chunks = []
  for await (const c of req) {
    size += c.length
    if (size > MAX_BODY) throw new HttpError('body_too_large', 'body too large')
    chunks.push(c)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError('invalid_input', 'body is not JSON')
  }
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

server.listen(port, '127.0.0.1')
await once(server, 'listening')
const base = `http://127.0.0.1:${server.address().port}`
console.log(`inbox example listening on ${base}`)

if (serve) {
  console.log(`try: curl -s -XPOST ${base}/threads/t1/messages -H 'content-type: application/json' -d '{"from":"ada","to":"bob","text":"hi"}'`)
  console.log(`     curl -s ${base}/inbox/bob ; curl -s ${base}/threads/t1 ; curl -s ${base}/stats`)
  process.once('SIGINT', () => void shutdown())
} else {
  await demo()
  await shutdown()
}

async function demo() {
  const users = ['ada', 'bob', 'cyd', 'dee']
  const call = async (method, path, body) => {
    const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) })
    return { status: r.status, ...(await r.json()) }
  }
  // 120 messages in 6 threads, 12 in flight at a time: writes land on every handler worker.
  const posts = []
  for (let i = 0; i < 120; i += 12) {
    posts.push(...(await Promise.all(Array.from({ length: 12 }, (_, k) => {
      const n = i + k
      const from = users[n % 4]
      const to = users[(n + 1 + (n % 3)) % 4] // never the sender
      return call('POST', `/threads/t${n % 6}/messages`, { from, to, text: `message ${n} from ${from} to ${to}` })
    }))))
  }
  // Read every view back, all at once so the reads spread over the workers too. Each stored item
  // says which worker wrote it (`by`); count the ones read by a different worker.
  const paths = [...Array.from({ length: 6 }, (_, t) => `/threads/t${t}?limit=100`), ...users.map((u) => `/inbox/${u}?limit=100`)]
  const views = await Promise.all(paths.map((p) => call('GET', p)))
  const readers = new Set(views.map((v) => v.handledBy))
  const seen = views.reduce((n, v) => n + v.items.length, 0)
  const crossWorker = views.reduce((n, v) => n + v.items.filter((it) => it.by !== v.handledBy).length, 0)
  const bob = await call('GET', '/inbox/bob?limit=3')
  const bad = await call('POST', '/threads/t0/messages', { from: 'ada', text: 42 })
  const stats = await call('GET', '/stats')
  // Read-through: 12 requests for one profile at once, spread over the workers; then a rename
  // invalidates the view and the next read loads the new name.
  const cards = await Promise.all(Array.from({ length: 12 }, () => call('GET', '/users/ada/profile')))
  const loads = () => cache.get('db', { id: 'profileLoads' })?.payload ?? 0
  const loadsBefore = loads()
  await call('POST', '/users/ada/rename', { name: 'Ada L.' })
  const renamed = await call('GET', '/users/ada/profile')

  const writers = new Set(posts.map((p) => p.handledBy))
  console.log(`\nPOST  ${posts.length} messages, status ${[...new Set(posts.map((p) => p.status))]}, handled by worker threads ${[...writers].sort().join(', ')}`)
  console.log(`GET   ${seen} items from 6 thread views and 4 inboxes, read by worker threads ${[...readers].sort().join(', ')}`)
  console.log(`      ${crossWorker} of them were written by a different worker than the one that read them`)
  console.log(`GET   /inbox/bob?limit=3 (handled by ${bob.handledBy}):`)
  for (const it of bob.items) console.log(`      #${it.seq} ${it.thread} from ${it.from}: "${it.preview}"`)
  console.log(`POST  a bad message -> ${bad.status} ${bad.error}`)
  console.log(`GET   /users/ada/profile × 12 at once, handled by worker threads ${[...new Set(cards.map((c) => c.handledBy))].sort().join(', ')}: ${loadsBefore} database load(s), every answer "${[...new Set(cards.map((c) => c.name))].join('", "')}"`)
  console.log(`POST  /users/ada/rename, then GET: "${renamed.name}" (database loads now ${loads()})`)
  console.log(`GET   /stats (asked of the owner over the control channel by worker ${stats.handledBy}): ${stats.store.items} items in ${stats.store.scopes} scopes, ${stats.pool.attachedWorkers} attached workers, ${stats.pool.completed} tasks completed`)

  // Let the drain worker's timer ship the buffer, then one last drain as a task.
  const final = await drain.run(null, { name: 'drainNow' })
  const lines = readFileSync(outFile, 'utf8').trim().split('\n')
  const shippedSeqs = new Set(lines.map((l) => JSON.parse(l)).map((e) => `${e.thread}#${e.seq}`))
  console.log(`DRAIN ${final.shipped} events shipped in ${final.batches} batches to ${outFile}; buffer now ${cache.tail('events').items.length}`)
  console.log(`      every posted message shipped exactly once: ${lines.length === posts.length && shippedSeqs.size === posts.length && posts.every((p) => shippedSeqs.has(`${p.thread}#${p.seq}`))}`)
}

async function shutdown() {
  server.closeAllConnections()
  server.close()
  await Promise.all([handlers.close(), drain.close()])
  rmSync(outFile, { force: true })
  console.log(`closed: pools drained and detached; the store is still ours (${cache.stats().items} items)`)
}
