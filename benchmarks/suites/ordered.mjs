// Ordered reads over a scope of 50 000 items of 100-byte JSON: tail(100) (the newest window) and
// head(afterSeq, 100) (a cursor page after a random seq), beside the nearest peer equivalents:
// a JS Array slice (lower bound), lmdb-js getRange over seq-ordered keys, and Redis LRANGE /
// XREVRANGE / XRANGE awaited. Every case returns 100 JSON texts (or parsed items where stated).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScopeCache } from '@scopecache/core'
import { dataset, MASK } from '../lib/data.mjs'
import { timeSync, timeAsync, fmtNs, round } from '../lib/measure.mjs'
import { startRedis } from '../lib/redis.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const PAGE = 100
const BATCH = 100 // pages per iteration
const ASYNC_BATCH = 20
const seqKey = (seq) => String(seq).padStart(8, '0')

const suite = {
  id: 'ordered',
  title: 'Ordered reads: tail(100) and head(after, 100)',
  async run({ quick, progress }) {
    const data = dataset()
    const { ids, texts, payloads, stream, n } = data
    const skipped = []
    progress('filling 50 000 items')
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    for (let i = 0; i < n; i++) cache.append('bench', payloads[i], { id: ids[i] })
    const array = texts.slice()
    let lmdb = null, lmdbPath = null
    try {
      lmdbPath = mkdtempSync(join(tmpdir(), 'scopecache-bench-lmdb-'))
      lmdb = (await import('lmdb')).open({ path: lmdbPath, encoding: 'string' })
      lmdb.transactionSync(() => { for (let i = 0; i < n; i++) lmdb.putSync(seqKey(i + 1), texts[i]) })
    } catch (e) {
      skipped.push({ what: 'lmdb-js', why: `could not open a database: ${e.message}` })
    }
    // Check every case returns the same 100 texts before timing.
    const after = 12_345
    const want = texts.slice(after, after + PAGE).join()
    const wantTail = texts.slice(n - PAGE).join()
    if (cache.head('bench', { afterSeq: after, limit: PAGE, raw: true }).items.map((i) => i.payload).join() !== want) throw new Error('head page wrong')
    if (cache.tail('bench', { limit: PAGE, raw: true }).items.map((i) => i.payload).join() !== wantTail) throw new Error('tail page wrong')
    if (lmdb && [...lmdb.getRange({ start: seqKey(after + 1), limit: PAGE })].map((e) => e.value).join() !== want) throw new Error('lmdb range wrong')

    let pos = 0, sink = 0
    const reset = { beforeAll: () => { pos = 0 } }
    const startOf = (k) => k % (n - PAGE) // a random cursor position with a full page after it
    const tasks = [
      { key: 'scopecache.tail.raw', name: 'scopecache tail(100), raw JSON text', fn: () => { let m = 0; for (let i = 0; i < BATCH; i++) m += cache.tail('bench', { limit: PAGE, raw: true }).items.length; sink += m } },
      { key: 'scopecache.tail', name: 'scopecache tail(100), payloads parsed', fn: () => { let m = 0; for (let i = 0; i < BATCH; i++) m += cache.tail('bench', { limit: PAGE }).items.length; sink += m } },
      { key: 'scopecache.head.raw', name: 'scopecache head(random after, 100), raw', fn: () => {
        let p = pos, m = 0
        for (let i = 0; i < BATCH; i++) { m += cache.head('bench', { afterSeq: startOf(stream[p]), limit: PAGE, raw: true }).items.length; p = (p + 1) & MASK }
        pos = p; sink += m
      } },
      { key: 'array.slice', name: 'JS Array slice(100) of texts (lower bound)', fn: () => {
        let p = pos, m = 0
        for (let i = 0; i < BATCH; i++) { const s = startOf(stream[p]); m += array.slice(s, s + PAGE).length; p = (p + 1) & MASK }
        pos = p; sink += m
      } },
    ]
    if (lmdb) tasks.push({ key: 'lmdb.range', name: 'lmdb-js getRange(start, limit 100), values', fn: () => {
      let p = pos, m = 0
      for (let i = 0; i < BATCH; i++) {
        const vals = []
        for (const e of lmdb.getRange({ start: seqKey(startOf(stream[p]) + 1), limit: PAGE })) vals.push(e.value)
        m += vals.length; p = (p + 1) & MASK
      }
      pos = p; sink += m
    } })
    for (const t of tasks) t.opts = reset
    let rows
    try {
      rows = timeSync(tasks, { quick, batch: BATCH, progress, prewarm: quick ? 5 : 20 }).map((r, i) => ({ ...r, key: tasks[i].key }))
      if (sink <= 0) throw new Error('nothing read')
      rows.push(...await redisRows(data, quick, progress, skipped, startOf))
    } finally {
      cache.close()
      await lmdb?.close()
      if (lmdbPath) rmSync(lmdbPath, { recursive: true, force: true })
    }
    const base = { tail: rows.find((r) => r.key === 'scopecache.tail.raw').ns, head: rows.find((r) => r.key === 'scopecache.head.raw').ns }
    const figures = {}
    const table = rows.map((r) => {
      const b = r.key.includes('tail') || r.key.includes('lrange') || r.key.includes('xrevrange') ? base.tail : base.head
      figures[`ordered.${r.key}.ns`] = round(r.ns, 1)
      figures[`ordered.${r.key}.ratio`] = round(r.ns / b, 3)
      return [r.name, fmtNs(r.ns), fmtNs(r.mean), `±${r.rme.toFixed(1)}%`, fmtNs(r.ns / PAGE), `${(r.ns / b).toFixed(2)}×`]
    })
    return {
      tables: [{ title: 'One page of 100 items per call (main thread)', columns: ['case', 'median /page', 'mean /page', '± (mean)', 'per item', '× scopecache (tail or head)'], rows: table }],
      figures,
      notes: [
        `Sync rows: tinybench runSync, ${BATCH} pages per iteration, every task pre-warmed. head starts after a random seq with a full page after it; tail reads the newest 100.`,
        'lmdb-js keys are zero-padded seqs so its key order is the scope order; Redis holds the same texts in a list (LRANGE -100 -1 for the tail) and in a stream with ids <seq>-0 (XREVRANGE + - COUNT 100; XRANGE (<after>-0 + COUNT 100 for the cursor page).',
        `Redis rows: awaited one at a time (${ASYNC_BATCH} per iteration), private redis-server on loopback. The ratio column divides by scopecache tail raw (tail-like rows) or head raw (cursor rows).`,
      ],
      skipped,
    }
  },
}

async function redisRows(data, quick, progress, skipped, startOf) {
  const redis = await startRedis()
  if (redis.skip) { skipped.push({ what: 'Redis (LRANGE / XREVRANGE / XRANGE)', why: redis.skip }); return [] }
  const { texts, stream, n } = data
  const c = redis.client
  try {
    progress('filling Redis list and stream')
    for (let i = 0; i < n; i += 1000) {
      const p = c.pipeline()
      for (let j = i; j < Math.min(i + 1000, n); j++) { p.rpush('list', texts[j]); p.xadd('stream', `${j + 1}-0`, 'p', texts[j]) }
      await p.exec()
    }
    const page = await c.xrange('stream', '(12345-0', '+', 'COUNT', 100)
    if (page.map((e) => e[1][1]).join() !== texts.slice(12_345, 12_445).join()) throw new Error('redis XRANGE page wrong')
    let pos = 0
    const tasks = [
      { key: 'redis.lrange', name: 'Redis LRANGE list -100 -1, awaited', fn: async () => { for (let i = 0; i < ASYNC_BATCH; i++) if ((await c.lrange('list', -100, -1)).length !== 100) throw new Error('lrange') } },
      { key: 'redis.xrevrange', name: 'Redis XREVRANGE + - COUNT 100, awaited', fn: async () => { for (let i = 0; i < ASYNC_BATCH; i++) if ((await c.xrevrange('stream', '+', '-', 'COUNT', 100)).length !== 100) throw new Error('xrevrange') } },
      { key: 'redis.xrange', name: 'Redis XRANGE (after + COUNT 100, awaited', fn: async () => {
        for (let i = 0; i < ASYNC_BATCH; i++) { if ((await c.xrange('stream', `(${startOf(stream[pos])}-0`, '+', 'COUNT', 100)).length !== 100) throw new Error('xrange'); pos = (pos + 1) & MASK }
      } },
    ]
    return (await timeAsync(tasks, { quick, batch: ASYNC_BATCH, progress, prewarm: 1 })).map((r, i) => ({ ...r, key: tasks[i].key }))
  } finally {
    await redis.stop()
  }
}

export default suite
await runIfMain(import.meta, suite)
