// A reader or writer of suites/processes.mjs, run either as a worker thread (attached by handle) or
// as a child process (ScopeCache.open by name) — the same code, so the only difference measured is
// thread vs process. Told `{ op, ms }` over its channel, it runs that op for `ms` in batches of 1000
// and answers the number of operations done; `{ op: 'exit' }` closes and ends it.
//   read   getRaw by id over the 512-item hot set, fresh key strings (as read-ratios does)
//   write  upsert of a 100-byte payload to an id of its own, in scope `args.scope`
import { parentPort, workerData } from 'node:worker_threads'
import { ScopeCache } from '@scopecache/core'
import { prefixedSet, KEY_PREFIX as P, MASK } from '../lib/data.mjs'

const args = workerData ?? JSON.parse(process.argv[2])
const cache = args.handle !== undefined ? ScopeCache.attach(args.handle) : ScopeCache.open({ name: args.name })
const { stream, payloads } = prefixedSet(args.n)
const send = (m) => (parentPort ? parentPort.postMessage(m) : process.send(m))
const BATCH = 1000
let pos = (args.k * 7919) & MASK
let sink = 0

function read() {
  let p = pos, x = 0
  for (let i = 0; i < BATCH; i++) { x += cache.getRaw('hot', { id: P + stream[p] }).length; p = (p + 1) & MASK }
  pos = p; sink += x
}

const mine = `w${args.k}`
function write() {
  for (let i = 0; i < BATCH; i++) cache.upsert(args.scope, mine, payloads[i & 511])
}

function run({ op, ms }) {
  const fn = op === 'read' ? read : write
  const end = performance.now() + ms
  let ops = 0
  do { fn(); ops += BATCH } while (performance.now() < end)
  return ops
}

const onMessage = (m) => {
  if (m.op === 'exit') {
    cache.close()
    if (parentPort) parentPort.close()
    else process.disconnect()
    return
  }
  send({ ops: run(m), sink: sink & 1 })
}
if (parentPort) parentPort.on('message', onMessage)
else process.on('message', onMessage)
send({ ready: true })
