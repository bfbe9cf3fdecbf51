// The HTTP write path from request body to store, in process (no socket): the body parsed and its
// fields checked as the handler does (json-body.ts + write-fields.ts), then the store write — for
// /upsert (replacing an item) and for a /warm body of 1000 items — against JSON.parse of the body +
// JSON.stringify of the payload + Map.set in the same rounds (a server on a plain Map would do that).
// Interleaved rounds (lib/rounds.mjs); each ratio is the median of the per-round ratios.
import { Buffer } from 'node:buffer'
import { ScopeCache, rawJson } from '@scopecache/core'
import { parseBody } from '../../packages/http/dist/json-body.js'
import { SPEC, writeFields } from '../../packages/http/dist/write-fields.js'
import { bulkItems } from '../../packages/http/dist/bulk.js'
import { fmtNs, median, round } from '../lib/measure.mjs'
import { roundRatio, timeRounds } from '../lib/rounds.mjs'
import { runIfMain } from '../lib/standalone.mjs'

const ITEMS = 4096 // bodies cycled by the upserts; ids of the upsert scope
const WARM = 1000 // items of one /warm body
const BATCH = 100 // upserts per timed batch (a warm batch is one body)

const payloadFor = (i) => ({ user: `u${i % 97}`, text: `message number ${i} with some text`, tags: ['a', 'bb', 'ccc'], n: i, ok: i % 2 === 0 })

const suite = {
  id: 'http-writes',
  title: 'HTTP writes, body to store, in process',
  async run({ quick, progress }) {
    const rounds = quick ? 7 : 21, sliceMs = quick ? 40 : 150
    const upserts = Array.from({ length: ITEMS }, (_, i) => Buffer.from(JSON.stringify({ scope: 'u', id: `item:${i}`, payload: payloadFor(i) })))
    const warmBody = Buffer.from(JSON.stringify({ items: Array.from({ length: WARM }, (_, i) => ({ scope: `w${i % 4}`, id: `w:${i}`, payload: payloadFor(i) })) }))
    const cache = ScopeCache.create({ maxStoreBytes: 64 << 20 })
    const map = new Map()
    let k = 0
    const upsert = (handoff) => () => {
      for (let j = 0; j < BATCH; j++) {
        const f = writeFields(parseBody(upserts[k]), '/upsert', SPEC.upsert)
        cache.upsert(f.scope, f.ref.id, handoff(f.payload))
        k = (k + 1) & (ITEMS - 1)
      }
    }
    // The hand-off before this change, for comparison in the same run: the payload decoded to a string, which the store scans and encodes again.
    const asString = (p) => (typeof p.json === 'string' ? p : rawJson(Buffer.from(p.json.buffer, p.json.byteOffset, p.json.length).toString('utf8')))
    const tasks = [
      { key: 'upsert', fn: upsert((p) => p) },
      { key: 'upsertString', fn: upsert(asString) },
      { key: 'mapUpsert', fn: () => {
        for (let j = 0; j < BATCH; j++) {
          const o = JSON.parse(upserts[k].toString('utf8'))
          map.set(o.id, JSON.stringify(o.payload))
          k = (k + 1) & (ITEMS - 1)
        }
      } },
      { key: 'warm', fn: () => cache.warm(bulkItems(parseBody(warmBody), '/warm', 1 << 20)) },
      { key: 'warmString', fn: () => cache.warm(bulkItems(parseBody(warmBody), '/warm', 1 << 20).map((it) => ({ ...it, payload: asString(it.payload) }))) },
      { key: 'mapWarm', fn: () => {
        const m = new Map()
        for (const it of JSON.parse(warmBody.toString('utf8')).items) m.set(it.id, JSON.stringify(it.payload))
      } },
    ]
    for (let i = 0; i < ITEMS; i++) cache.upsert('u', `item:${i}`, payloadFor(i))
    try {
      const ns = timeRounds(tasks, { rounds, sliceMs, batch: 1, progress })
      const perItem = { upsert: BATCH, upsertString: BATCH, mapUpsert: BATCH, warm: WARM, warmString: WARM, mapWarm: WARM }
      for (const t of tasks) ns[t.key] = ns[t.key].map((x) => x / perItem[t.key])
      const figures = { 'httpWrites.rounds': rounds }
      const names = {
        upsert: '/upsert body → store (payload handed on as body bytes)', upsertString: '/upsert, payload handed on as a string (the previous hand-off)', mapUpsert: 'JSON.parse(body) + JSON.stringify(payload) + Map.set',
        warm: '/warm body of 1000 items → store, per item', warmString: '/warm, payloads handed on as strings, per item', mapWarm: 'JSON.parse(body) + stringify + Map.set per item',
      }
      const base = { upsert: 'mapUpsert', upsertString: 'mapUpsert', mapUpsert: 'mapUpsert', warm: 'mapWarm', warmString: 'mapWarm', mapWarm: 'mapWarm' }
      const rows = tasks.map((t) => {
        const r = roundRatio(ns[t.key], ns[base[t.key]])
        figures[`httpWrites.${t.key}.ns`] = round(median(ns[t.key]), 1)
        if (t.key !== base[t.key]) figures[`httpWrites.${t.key}.vsMap`] = round(r.median, 3)
        return [names[t.key], fmtNs(median(ns[t.key])), `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`]
      })
      return {
        tables: [{ title: 'HTTP write path in process, ~120-byte JSON payloads', columns: ['case', 'ns/item (median of rounds)', '× its Map baseline (median of per-round ratios)', 'per-round range'], rows }],
        figures,
        notes: [
          `${rounds} interleaved rounds, each task timed for ${sliceMs} ms a round; an upsert batch is ${BATCH} bodies, a warm batch one body of ${WARM} items; ns/item = median batch ÷ items.`,
          'Bodies are Buffers built before timing, as readBody hands them on; the handler\'s routing, query parsing and answer are not included. upsert replaces one of ' + ITEMS + ' items; warm replaces 4 scopes of 250.',
        ],
        skipped: [],
      }
    } finally {
      cache.close()
    }
  },
}

export default suite
await runIfMain(import.meta, suite)
