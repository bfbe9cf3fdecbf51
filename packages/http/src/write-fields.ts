/**
 * The fields of a write, read and checked in the reference's order (validation.go at v0.8.32), in
 * one place: `writeFields` for every single-item write, `itemProblem` for each item of a bulk
 * write (bulk.ts). A client that branches on the message sees the reference's first error:
 *
 *  1. every field the endpoint reads has its JSON type, else "the request body must contain
 *     valid JSON" (Go's decode, before any rule);
 *  2. scope: required, then its shape (length, whitespace, control characters, UTF-8);
 *  3. the address: id optional (`/append`), required (`/upsert`, `/counter_add`), or exactly one of
 *     id and seq (`/update`, `/delete`); then the id's shape;
 *  4. payload: required (absent or `null`), a valid JSON value, valid UTF-8;
 *  5. seq (`/append`, `/upsert`), then ts: managed by the cache;
 *  6. in the core: the item's size, then the scope's capacity, then a duplicate id.
 *
 * Invalid UTF-8 in scope or id is refused (a documented departure; the reference's decoder turns it into
 * U+FFFD and stores that): the shape rules run on the text as decoded with U+FFFD, as the
 * reference's do, and only a name that passes them all gets "must be valid UTF-8".
 */
import { keyProblem, MESSAGES, type KeyField, type RawJson } from '@scopecache/core'
import { badField } from './errors.js'
import { getInt, getString, getUint, Kind, payloadJson, spanUtf8, type JsonObject, type Span } from './json-body.js'

/** How a write addresses its item. */
export type Address = 'optional' | 'required' | 'either' | 'none'

export interface WriteSpec {
  address: Address
  payload: boolean
  /** seq and ts are the cache's (`/append`, `/upsert`); ts only (`/update`) */
  managed: 'seq+ts' | 'ts' | 'none'
}

/** What each single-item write reads (the reference's request structs: Item, deleteRequest, deleteUpToRequest, deleteScopeRequest). */
export const SPEC = {
  append: { address: 'optional', payload: true, managed: 'seq+ts' },
  upsert: { address: 'required', payload: true, managed: 'seq+ts' },
  update: { address: 'either', payload: true, managed: 'ts' },
  delete: { address: 'either', payload: false, managed: 'none' },
  counter: { address: 'required', payload: false, managed: 'none' },
  scopeOnly: { address: 'none', payload: false, managed: 'none' },
} as const satisfies Record<string, WriteSpec>

export interface WriteFields {
  scope: string
  /** the id (absent: undefined), or the seq that addresses the item (`either`; above 2^53−1 addresses none) */
  ref: { id: string } | { seq: number } | undefined
  payload: RawJson | undefined
}

export const requiredMessage = (field: string, path: string): string => `the '${field}' field is required for the '${path}' endpoint`
export const managedMessage = (field: 'seq' | 'ts', path: string): string =>
  `the '${field}' field is managed by the cache and must not be provided to the '${path}' endpoint`

/** The bytes a rule looks at: the body's, and whether all of them are UTF-8. */
type Source = Pick<JsonObject, 'bytes' | 'utf8'>

/** The broken shape rule of a non-empty key read from a body at [start, end), or null. */
export function bodyKeyProblem(o: Source, text: string, start: number, end: number, field: KeyField): string | null {
  return keyProblem(text, field) ?? (spanUtf8(o, start, end) ? null : MESSAGES.badUtf8(field))
}

/** The broken payload rule of a payload member (kind 0: absent), or null. */
export function payloadProblem(o: Source, kind: Kind | 0, start: number, end: number): string | null {
  if (kind === 0 || kind === Kind.Null) return MESSAGES.payloadRequired
  if (kind === Kind.Bad) return MESSAGES.payloadNotJson
  return spanUtf8(o, start, end) ? null : MESSAGES.payloadBadUtf8
}

/**
 * One bulk item's rules after its scope's (3 to 5 above, the address optional): its id (kind 0:
 * absent) and payload (kind 0: absent) spans, its seq and ts. Null when it passes.
 */
export function itemProblem(
  o: Source, path: string, id: string | undefined, idStart: number, idEnd: number,
  payloadKind: Kind | 0, payloadStart: number, payloadEnd: number, seq: number, ts: number,
): string | null {
  if (id !== undefined && id !== '') {
    const p = bodyKeyProblem(o, id, idStart, idEnd, 'id')
    if (p !== null) return p
  }
  return payloadProblem(o, payloadKind, payloadStart, payloadEnd) ??
    (seq !== 0 ? managedMessage('seq', path) : ts !== 0 ? managedMessage('ts', path) : null)
}

const member = (b: JsonObject, name: string): Span | undefined => b.members.get(name)

/**
 * The scope, address and payload of a single-item write to `path`, checked in the reference's
 * order (1 to 5 above). Fields an endpoint reads beyond these (`max_seq`, `keep`, `by`) are read
 * by the caller before this is called, so that their types are checked first too.
 */
export function writeFields(b: JsonObject, path: string, spec: WriteSpec): WriteFields {
  // 1. types
  const scope = getString(b, 'scope')
  const id = spec.address === 'none' ? undefined : getString(b, 'id')
  const seq = spec.address === 'either' || spec.managed === 'seq+ts' ? getUint(b, 'seq') ?? 0 : 0
  const ts = spec.managed === 'none' ? 0 : getInt(b, 'ts') ?? 0
  // 2. scope
  if (scope === undefined || scope === '') throw badField(requiredMessage('scope', path))
  const sv = member(b, 'scope') as Span
  const sp = bodyKeyProblem(b, scope, sv.start, sv.end, 'scope')
  if (sp !== null) throw badField(sp)
  // 3. address
  const hasId = id !== undefined && id !== ''
  let ref: WriteFields['ref']
  if (spec.address === 'either') {
    if (hasId === (seq !== 0)) throw badField(`exactly one of 'id' or 'seq' must be provided for the '${path}' endpoint`)
    ref = hasId ? { id } : { seq }
  } else {
    if (spec.address === 'required' && !hasId) throw badField(requiredMessage('id', path))
    ref = hasId ? { id } : undefined
  }
  if (hasId) {
    const iv = member(b, 'id') as Span
    const ip = bodyKeyProblem(b, id, iv.start, iv.end, 'id')
    if (ip !== null) throw badField(ip)
  }
  // 4. payload
  let payload: RawJson | undefined
  if (spec.payload) {
    const pv = member(b, 'payload')
    const pp = payloadProblem(b, pv?.kind ?? 0, pv?.start ?? 0, pv?.end ?? 0)
    if (pp !== null) throw badField(pp)
    const { start, end } = pv as Span
    payload = payloadJson(b.bytes, start, end)
  }
  // 5. managed fields
  if (spec.managed === 'seq+ts' && seq !== 0) throw badField(managedMessage('seq', path))
  if (ts !== 0) throw badField(managedMessage('ts', path))
  return { scope, ref, payload }
}
