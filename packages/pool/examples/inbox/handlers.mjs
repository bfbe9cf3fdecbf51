// Request handlers of the inbox example. They run in the workers of a cache pool: every worker
// reads and writes the one store the main thread created, directly in shared memory.
//
//   thread:<id>   the messages of a conversation, oldest first (tail = the latest N)
//   inbox:<user>  one entry per message addressed to <user> (tail = the inbox view)
//   events        the write buffer: one event per write, drained in batches by drain.mjs
//   profile:<user> a read-through view: getOrLoad fills it from the (slow, pretend) user database,
//                 one load for every worker that asks at once; renaming invalidates it, and it
//                 expires a minute after its load (a change the app does not hear about is seen then)
import { threadId } from 'node:worker_threads'
import { ownerControl, workerCache } from '@scopecache/pool/worker'

const cache = workerCache() // attached once, when this worker started

const SCOPE_KEY = /^[A-Za-z0-9_-]{1,64}$/

/** One request, already parsed by the main thread: { method, route, params, query, body }. */
/** A store error (scope_full when the write buffer is full, ...) is thrown on to the main thread. */
export default async function handle(req) {
  return { handledBy: threadId, ...(await route(req)) }
}

async function route({ method, route, params, query, body }) {
  if (method === 'POST' && route === 'message') return postChatMessage(params.thread, body)
  if (method === 'GET' && route === 'thread') return view(`thread:${params.thread}`, query)
  if (method === 'GET' && route === 'inbox') return view(`inbox:${params.user}`, query)
  if (method === 'GET' && route === 'stats') return { status: 200, body: await ownerControl().stats() }
  if (method === 'GET' && route === 'profile') return profile(params.user)
  if (method === 'POST' && route === 'rename') return rename(params.user, body)
  return { status: 404, body: { error: 'not_found' } }
}

function postChatMessage(thread, body) {
  const { from, to, text } = body ?? {}
  if (!SCOPE_KEY.test(thread ?? '') || !SCOPE_KEY.test(from ?? '') || !SCOPE_KEY.test(to ?? '') || typeof text !== 'string' || text.length > 2000) {
    return { status: 400, body: { error: 'invalid_input', message: 'need thread, from, to (1-64 of A-Z a-z 0-9 _ -) and text (<= 2000 chars)' } }
  }
  const msg = cache.append(`thread:${thread}`, { from, to, text, by: threadId })
  cache.append(`inbox:${to}`, { thread, seq: msg.seq, from, preview: text.slice(0, 40), by: threadId })
  // The write buffer: cheap to append here, shipped in batches by the drain worker.
  cache.append('events', { type: 'message', thread, seq: msg.seq, from, to, ts: msg.ts })
  return { status: 201, body: { thread, seq: msg.seq } }
}

function view(scope, query) {
  const limit = Math.min(Math.max(Number.parseInt(query.limit ?? '20', 10) || 20, 1), 100)
  const { items, truncated } = cache.tail(scope, { limit })
  return { status: 200, body: { scope, items: items.map(({ seq, payload }) => ({ seq, ...payload })), older: truncated } }
}

// The pretend user database: slow, and shared by the workers only through the store.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function loadProfile(user) {
  cache.counterAdd('db', 'profileLoads', 1) // how often the database was really asked
  await sleep(30)
  const renamed = cache.get('db', { id: `name:${user}` })?.payload
  return { user, name: renamed ?? user.toUpperCase(), loadedBy: threadId }
}

const PROFILE_TTL_MS = 60_000

async function profile(user) {
  if (!SCOPE_KEY.test(user ?? '')) return { status: 400, body: { error: 'invalid_input', message: 'bad user' } }
  // A hit reads shared memory; a miss runs loadProfile in exactly one worker while the others wait
  // and read what it stored. The store is fenced: a rename during the load is never overwritten.
  // ttlMs: the card is loaded again a minute later even if no rename says it changed.
  const item = await cache.getOrLoad(`profile:${user}`, { id: 'card' }, () => loadProfile(user), { leaseMs: 2000, ttlMs: PROFILE_TTL_MS })
  return { status: 200, body: { ...item.payload, stored: item.seq > 0 } }
}

function rename(user, body) {
  if (!SCOPE_KEY.test(user ?? '') || typeof body?.name !== 'string' || body.name.length > 64) {
    return { status: 400, body: { error: 'invalid_input', message: 'need a user and a name (<= 64 chars)' } }
  }
  cache.upsert('db', `name:${user}`, body.name) // the "database" write
  cache.invalidate(`profile:${user}`, { id: 'card' }) // then the view: deleted, and its version moved
  return { status: 200, body: { user, name: body.name } }
}
