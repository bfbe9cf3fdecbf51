/**
 * A server that is a node of a coherent group (`serve --redis`, @scopecache/redis): its writes go
 * through the group's gate — published to Redis, then applied here — and so answer asynchronously;
 * reads stay on the shared store. The fields are read and checked exactly as the plain endpoints
 * read them (write-fields.ts); the answers are the same bodies. What the group cannot order per
 * scope (counters, bulk swaps, flush, a prefix drop) is refused with 400 on such a node.
 */
import type { ItemMeta, ItemRef, RawJson, TrimOptions } from '@scopecache/core'
import { ifVersion } from './beyond.js'
import type { Ctx } from './endpoints.js'
import { badField, badRequest } from './errors.js'
import { queryScope } from './fields.js'
import { getInt, getString, getUint, type JsonObject } from './json-body.js'
import { parseQuery } from './query.js'
import { metaJson } from './wire.js'
import { SPEC, writeFields } from './write-fields.js'

/** What a coherent node offers the server (a `CoherentCache`, or a listener thread's proxy to it). */
export interface WriteGate {
  append(scope: string, payload: RawJson, opts: { id?: string; ifVersion?: number }): Promise<ItemMeta>
  upsert(scope: string, id: string, payload: RawJson, opts: { ifVersion?: number }): Promise<{ created: boolean; item: ItemMeta }>
  update(scope: string, ref: ItemRef, payload: RawJson, opts: { ifVersion?: number }): Promise<0 | 1>
  delete(scope: string, ref: ItemRef, opts: { ifVersion?: number }): Promise<0 | 1>
  invalidate(scope: string, ref?: ItemRef): Promise<number>
  trim(scope: string, opts: TrimOptions): Promise<number>
  dropScope(scope: string): Promise<{ found: boolean; items: number }>
  version(scope: string): Promise<number>
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const GATED = new Set(['/append', '/upsert', '/update', '/delete', '/trim', '/drop_scope', '/invalidate', '/version', '/counter_add', '/warm', '/rebuild', '/flush'])

/** Whether endpoint `name` goes through the gate on a coherent node. */
export const gated = (name: string): boolean => GATED.has(name)

const reach = (ref: { id: string } | { seq: number }): ItemRef => ('seq' in ref && ref.seq > MAX_SAFE ? { seq: MAX_SAFE } : ref)

const notHere = (path: string): Error => badRequest(`the '${path}' endpoint is not available on a node of a coherent group (serve --redis): the group orders writes per scope`)

export async function runGated(name: string, gate: WriteGate, ctx: Ctx, path: string, url: string, qs: number, b: JsonObject | null): Promise<string> {
  const body = b as JsonObject
  switch (name) {
    case '/append': {
      const { scope, ref, payload } = writeFields(body, path, SPEC.append)
      const meta = await gate.append(scope, payload as RawJson, { id: ref === undefined ? undefined : (ref as { id: string }).id, ifVersion: ifVersion(body) })
      ctx.tally.write()
      return '{"ok":true,"created":true,"item":' + metaJson(meta) + '}\n'
    }
    case '/upsert': {
      const { scope, ref, payload } = writeFields(body, path, SPEC.upsert)
      const r = await gate.upsert(scope, (ref as { id: string }).id, payload as RawJson, { ifVersion: ifVersion(body) })
      ctx.tally.write()
      return '{"ok":true,"created":' + r.created + ',"item":' + metaJson(r.item) + '}\n'
    }
    case '/update': {
      const { scope, ref, payload } = writeFields(body, path, SPEC.update)
      const n = await gate.update(scope, reach(ref as ItemRef as { id: string }), payload as RawJson, { ifVersion: ifVersion(body) })
      if (n > 0) ctx.tally.write()
      return '{"ok":true,"created":false,"count":' + n + '}\n'
    }
    case '/delete': {
      const { scope, ref } = writeFields(body, path, SPEC.delete)
      const n = await gate.delete(scope, reach(ref as { id: string }), { ifVersion: ifVersion(body) })
      if (n > 0) ctx.tally.write()
      return '{"ok":true,"hit":' + (n > 0) + ',"count":' + n + '}\n'
    }
    case '/trim': {
      const maxSeq = getUint(body, 'max_seq')
      const keep = getInt(body, 'keep')
      const { scope } = writeFields(body, path, SPEC.scopeOnly)
      if ((maxSeq === undefined) === (keep === undefined)) throw badField(`exactly one of 'max_seq' or 'keep' must be provided for the '${path}' endpoint`)
      if (maxSeq !== undefined && maxSeq <= 0) throw badField(`the 'max_seq' field is required and must be a positive integer for the '${path}' endpoint`)
      if (keep !== undefined && keep < 0) throw badField(`the 'keep' field must be a non-negative integer for the '${path}' endpoint`)
      const n = await gate.trim(scope, maxSeq !== undefined ? { maxSeq: Math.min(maxSeq, MAX_SAFE) } : { keep: Math.min(keep as number, MAX_SAFE) })
      if (n > 0) ctx.tally.write()
      return '{"ok":true,"hit":' + (n > 0) + ',"count":' + n + '}\n'
    }
    case '/drop_scope': {
      if (getString(body, 'prefix') !== undefined) throw notHere(`${path} (prefix)`)
      const r = await gate.dropScope(writeFields(body, path, SPEC.scopeOnly).scope)
      if (r.found) ctx.tally.write()
      return '{"ok":true,"hit":' + r.found + ',"count":' + r.items + ',"scopes":' + (r.found ? 1 : 0) + '}\n'
    }
    case '/invalidate': {
      const whole = !body.members.has('id') && !body.members.has('seq')
      const { scope, ref } = writeFields(body, path, whole ? SPEC.scopeOnly : SPEC.delete)
      const count = await gate.invalidate(scope, ref === undefined ? undefined : reach(ref as { id: string }))
      ctx.tally.write()
      return '{"ok":true,"count":' + count + ',"version":' + (await gate.version(scope)) + '}\n'
    }
    case '/version':
      return '{"ok":true,"version":' + (await gate.version(queryScope(parseQuery(url.slice(qs)), path))) + '}\n'
    default:
      throw notHere(path)
  }
}
