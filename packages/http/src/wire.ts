/**
 * Envelope text on the wire: compact JSON with fields in the reference's fixed order, built by
 * string concatenation around payload text that is spliced in verbatim (never parsed and
 * re-stringified). Keys are quoted raw when they need no escaping (the common case, checked in
 * one charCodeAt pass) and go through JSON.stringify otherwise; the reference's extra `<>&`
 * escaping is not copied (any valid JSON escaping is fine: a documented departure).
 */
import type { ItemMeta, ScopeInfo } from '@scopecache/core'

const MIB = 1048576

/** A JSON string literal for a scope, id or message. */
export function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2028 || c === 0x2029) return JSON.stringify(s)
  }
  return '"' + s + '"'
}

const PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000']
let lastInt = -1
let lastText = ''

/**
 * The decimal text of a non-negative safe integer, as String(n). Timestamps (~1.8e15 µs) are not
 * small integers and V8 converts them through its slow double-to-string path (250–300 ns each, measured on Node 20);
 * two small halves convert fast, and the items of one write batch share their ts (memo of one).
 */
export function intText(n: number): string {
  if (n < 0x40000000) return '' + n
  if (n === lastInt) return lastText
  const hi = Math.floor(n / 1e8)
  const lo = '' + (n - hi * 1e8)
  lastInt = n
  return (lastText = hi + PAD[8 - lo.length] + lo)
}

/** Bytes as MiB with exactly four decimals, never in exponent form. */
export const mb = (bytes: number): string => (bytes / MIB).toFixed(4)

/** `{"scope":…,"id":…,"seq":…,"ts":…}`, the write acknowledgements' item (no payload). */
export const metaJson = (m: ItemMeta): string =>
  '{"scope":' + quote(m.scope) + ',"id":' + (m.id === null ? 'null' : quote(m.id)) + ',"seq":' + m.seq + ',"ts":' + intText(m.ts) + '}'

/** A full item with its payload text spliced in. */
export const itemJson = (scope: string, id: string | null, seq: number, ts: number, payload: string, expiresTs: number | null = null): string =>
  itemJsonQuoted(quote(scope), id, seq, ts, payload, expiresTs)

/** The same with the scope already quoted (a page quotes its scope once). */
export const itemJsonQuoted = (quotedScope: string, id: string | null, seq: number, ts: number, payload: string, expiresTs: number | null = null): string =>
  '{"scope":' + quotedScope + ',"id":' + (id === null ? 'null' : quote(id)) + ',"seq":' + seq + ',"ts":' + intText(ts) +
  (expiresTs === null ? '' : ',"expires_ts":' + intText(expiresTs)) + ',"payload":' + payload + '}'

export const scopeRowJson = (r: ScopeInfo): string =>
  '{"scope":' + quote(r.scope) + ',"item_count":' + r.itemCount + ',"last_seq":' + r.lastSeq + ',"approx_scope_mb":' +
  mb(r.bytes) + ',"created_ts":' + r.createdTs + ',"last_write_ts":' + r.lastWriteTs + ',"last_access_ts":' +
  r.lastAccessTs + ',"read_count_total":' + r.readCountTotal + (r.itemTtlMs === null ? '' : ',"item_ttl_ms":' + r.itemTtlMs) +
  (r.maxItems === null ? '' : ',"max_items":' + r.maxItems + ',"when_full":"' + r.whenFull + '"') + '}' // only when set: ScopeCache's rows otherwise

/** The plain error envelope (without the trailing newline). */
export const errorJson = (message: string): string => '{"ok":false,"error":' + quote(message) + '}'

/** The reference's response-size estimate: (body built so far + 30) bytes in MiB. */
export const approxResponseMb = (bodyBytes: number): string => mb(bodyBytes + 30)
