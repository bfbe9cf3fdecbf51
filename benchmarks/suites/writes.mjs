// Writes: append, upsert (replace), counterAdd and a 95/5 read/write mix on 50 000 items of
// 100-byte JSON, beside the nearest peer operations (Map.set, lru-cache set, lmdb-js putSync; Redis
// SET / INCR / XADD awaited). The writer is the store's owner thread; payloads are objects, so the
// figures include JSON.stringify, as an application writing objects pays it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LRUCache } from 'lru-cache'
import { ScopeCache } from '@scopecache/core'
import { dataset, MASK } from '../lib/data.mjs'
import { timeSync, timeAsync, BATCH, fmtNs, round } from '../lib/measure.mjs'
import { startRedis } from '../lib/redis.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const ASYNC_BATCH = 50
const COUNTERS = 10_000

const suite = {
  id: 'writes',
  title: 'Writes: append, upsert, counterAdd, and a 95/5 read/write mix',
  async run({ quick, progress }) {
    const data = dataset()
    const { ids, texts, payloads, stream } = data
    const skipped = []
    progress('filling 50 000 items')
    const cache = ScopeCache.create({ maxStoreBytes: 128 << 20 })
    for (let i = 0; i < data.n; i++) cache.append('bench', payloads[i], { id: ids[i] })
    const map = new Map(ids.map((id, i) => [id, texts[i]]))
    const lru = new LRUCache({ max: data.n })
    for (let i = 0; i < data.n; i++) lru.set(ids[i], texts[i])
    let lmdb = null, lmdbPath = null
    try {
      lmdbPath = mkdtempSync(join(tmpdir(), 'scopecache-bench-lmdb-'))
      lmdb = (await import('lmdb')).open({ path: lmdbPath, encoding: 'string', noSync: true })
      lmdb.transactionSync(() => { for (let i = 0; i < data.n; i++) lmdb.putSync(ids[i], texts[i]) })
    } catch (e) {
      skipped.push({ what: 'lmdb-js', why: `could not open a database: ${e.message}` })
    }

    let pos = 0, seqNo = 0, sink = 0
    const reset = { beforeAll: () => { pos = 0 } }
    // Untimed after each iteration: keep the append scopes at 50 000 items (scopeMaxItems is 100 000).
    const trimAfter = (scope) => ({ ...reset, afterEach: () => { if (cache.trim(scope, { keep: 50_000 }) < 0) throw new Error('trim') } })
    const tasks = [
      { key: 'scopecache.append.id', name: 'scopecache append (with id)', opts: trimAfter('append-id'), fn: () => {
        for (let i = 0; i < BATCH; i++) { cache.append('append-id', payloads[i], { id: `a:${seqNo++}` }) }
      } },
      { key: 'scopecache.append', name: 'scopecache append (no id)', opts: trimAfter('append'), fn: () => {
        for (let i = 0; i < BATCH; i++) cache.append('append', payloads[i])
      } },
      { key: 'scopecache.upsert', name: 'scopecache upsert (replace, random id)', opts: reset, fn: () => {
        let p = pos
        for (let i = 0; i < BATCH; i++) { const k = stream[p]; cache.upsert('bench', ids[k], payloads[k]); p = (p + 1) & MASK }
        pos = p
      } },
      { key: 'scopecache.counterAdd', name: `scopecache counterAdd (random over ${COUNTERS.toLocaleString('en')} counters)`, opts: reset, fn: () => {
        let p = pos, n = 0
        for (let i = 0; i < BATCH; i++) { n += cache.counterAdd('counters', ids[stream[p] % COUNTERS], 1); p = (p + 1) & MASK }
        pos = p; sink += n
      } },
      { key: 'scopecache.mix95', name: 'scopecache 95 % getRaw / 5 % upsert', opts: reset, fn: () => {
        let p = pos, n = 0
        for (let i = 0; i < BATCH; i++) {
          const k = stream[p]
          if (i % 20 === 19) cache.upsert('bench', ids[k], payloads[k])
          else n += cache.getRaw('bench', { id: ids[k] }).length
          p = (p + 1) & MASK
        }
        pos = p; sink += n
      } },
      { key: 'map.set', name: 'Map.set (replace; stores the JSON text)', opts: reset, fn: () => {
        let p = pos
        for (let i = 0; i < BATCH; i++) { const k = stream[p]; map.set(ids[k], JSON.stringify(payloads[k])); p = (p + 1) & MASK }
        pos = p
      } },
      { key: 'lru.set', name: 'lru-cache set (replace; JSON text)', opts: reset, fn: () => {
        let p = pos
        for (let i = 0; i < BATCH; i++) { const k = stream[p]; lru.set(ids[k], JSON.stringify(payloads[k])); p = (p + 1) & MASK }
        pos = p
      } },
      { key: 'map.mix95', name: 'Map 95 % get / 5 % set', opts: reset, fn: () => {
        let p = pos, n = 0
        for (let i = 0; i < BATCH; i++) {
          const k = stream[p]
          if (i % 20 === 19) map.set(ids[k], JSON.stringify(payloads[k]))
          else n += map.get(ids[k]).length
          p = (p + 1) & MASK
        }
        pos = p; sink += n
      } },
    ]
    if (lmdb) tasks.push({ key: 'lmdb.putSync', name: 'lmdb-js putSync (replace; noSync, one transaction per put)', opts: reset, fn: () => {
      let p = pos
      for (let i = 0; i < BATCH; i++) { const k = stream[p]; lmdb.putSync(ids[k], JSON.stringify(payloads[k])); p = (p + 1) & MASK }
      pos = p
    } })
    let rows
    try {
      rows = timeSync(tasks, { quick, progress, prewarm: quick ? 5 : 20 }).map((r, i) => ({ ...r, key: tasks[i].key }))
      // Everything written must read back: upserts kept each item's own payload.
      for (const i of [0, 777, data.n - 1]) if (cache.getRaw('bench', { id: ids[i] }) !== texts[i]) throw new Error(`upserted item ${ids[i]} reads back wrong`)
      if (sink <= 0) throw new Error('nothing read')
      rows.push(...await redisRows(data, quick, progress, skipped))
    } finally {
      cache.close()
      await lmdb?.close()
      if (lmdbPath) rmSync(lmdbPath, { recursive: true, force: true })
    }
    const figures = {}
    const table = rows.map((r) => {
      figures[`writes.${r.key}.ns`] = round(r.ns, 1)
      return [r.name, fmtNs(r.ns), fmtNs(r.mean), `±${r.rme.toFixed(1)}%`, `${Math.round(1e9 / r.ns).toLocaleString('en')}/s`]
    })
    return {
      tables: [{ title: 'Single-thread writes (owner thread)', columns: ['case', 'median /op', 'mean /op', '± (mean)', 'ops/s'], rows: table }],
      figures,
      notes: [
        'tinybench runSync, each iteration 1000 operations, ns/op = median iteration time / 1000 (mean beside it), every task pre-warmed. Payloads are the same 100-byte JSON objects; scopecache and the peers both pay JSON.stringify.',
        'append rows: the scope is trimmed back to 50 000 items after each iteration, outside the timed part. upsert/Map.set/lru-cache set/lmdb putSync replace existing keys at random. The mix does 19 getRaw then 1 upsert in each group of 20.',
        `Redis rows: awaited one at a time (${ASYNC_BATCH} per iteration) against a private redis-server on loopback.`,
      ],
      skipped,
    }
  },
}

async function redisRows(data, quick, progress, skipped) {
  const redis = await startRedis()
  if (redis.skip) { skipped.push({ what: 'Redis (SET / INCR / XADD)', why: redis.skip }); return [] }
  const { ids, payloads, stream } = data
  try {
    let pos = 0, n = 0
    const tasks = [
      { key: 'redis.set', name: 'Redis SET via ioredis, awaited', fn: async () => { for (let i = 0; i < ASYNC_BATCH; i++) { const k = stream[pos]; await redis.client.set(ids[k], JSON.stringify(payloads[k])); pos = (pos + 1) & MASK } } },
      { key: 'redis.incr', name: 'Redis INCR via ioredis, awaited', fn: async () => { for (let i = 0; i < ASYNC_BATCH; i++) { await redis.client.incr(`c:${stream[pos] % COUNTERS}`); pos = (pos + 1) & MASK } } },
      { key: 'redis.xadd', name: 'Redis XADD (MAXLEN ~ 50000) via ioredis, awaited', fn: async () => { for (let i = 0; i < ASYNC_BATCH; i++) { await redis.client.xadd('stream', 'MAXLEN', '~', '50000', '*', 'id', `a:${n++}`, 'p', JSON.stringify(payloads[i])) } } },
    ]
    return (await timeAsync(tasks, { quick, batch: ASYNC_BATCH, progress })).map((r, i) => ({ ...r, key: tasks[i].key }))
  } finally {
    await redis.stop()
  }
}

export default suite
await runIfMain(import.meta, suite)
