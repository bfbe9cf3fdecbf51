/**
 * Payloads on the way in. A payload is stored as the exact JSON bytes it arrived as and
 * never re-serialised: JS values are stringified once; `rawJson(text | bytes)` passes JSON
 * through byte-exact after validation (syntax, depth ≤ 10 000, well-formed UTF-8).
 * Everything here runs before any lock is taken, so a bad payload throws with nothing held.
 */
import { Buffer } from 'node:buffer'
import { invalid } from './errors.js'
import { jsonBytesProblem, jsonDepthExceeds, jsonTextProblem, MAX_JSON_DEPTH, trimJson } from './json.js'
import { MESSAGES } from './limits.js'

/** JSON text (or its UTF-8 bytes) to store verbatim. Create it with `rawJson`. */
export class RawJson {
  constructor(readonly json: string | Uint8Array) {}
}

/** Marks JSON text or bytes to be stored byte-exact instead of stringified. */
export const rawJson = (json: string | Uint8Array): RawJson => new RawJson(json)

/**
 * JSON bytes the caller has already scanned with `jsonValueEnd(…, utf8: true)` or checked as
 * UTF-8 on its own: exactly one value, no whitespace around it, not `null`. The store takes them
 * without scanning them again. Not part of the public API (`rawJson` always validates): only the
 * `@scopecache/core/scanner` entry hands it out, for the HTTP body parser, whose scan of the
 * request body has already checked the payload.
 */
class ScannedJson extends RawJson {
  declare readonly json: Uint8Array
}

/** For the HTTP package (the `@scopecache/core/scanner` entry), not the documented API; see ScannedJson. */
export const scannedJson = (bytes: Uint8Array): RawJson => new ScannedJson(bytes)

/** A validated payload, ready to copy into an item block. */
export interface Prepared {
  /** The JSON text, when the payload came as a string or JS value. */
  text: string | null
  /** The bytes, when the payload came as bytes: [start, end) of `bytes`. */
  bytes: Uint8Array | null
  start: number
  end: number
  byteLength: number
  ascii: boolean
  isString: boolean
}

const { payloadRequired: REQUIRED, payloadNotJson: NOT_JSON } = MESSAGES

export function preparePayload(value: unknown): Prepared {
  if (value instanceof RawJson) {
    if (value instanceof ScannedJson) return fromScanned(value.json)
    return value.json instanceof Uint8Array ? fromBytes(value.json) : fromText(value.json)
  }
  if (value === undefined || value === null) throw invalid(REQUIRED)
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    // cycles, BigInt, or a structure too deep for the stack
    throw invalid(NOT_JSON)
  }
  if (text === undefined) throw invalid(NOT_JSON) // functions, symbols
  if (text === 'null') throw invalid(REQUIRED) // NaN, Infinity
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw invalid(MESSAGES.payloadTooDeep)
  return textPrepared(text)
}

function fromText(raw: string): Prepared {
  return textPrepared(checkedText(raw))
}

/**
 * The payload's validated, trimmed JSON text when it is `rawJson(text)`, else null (use
 * preparePayload). For bulk writes, which keep per-item fields in arrays: no object per item.
 */
export function rawJsonText(value: unknown): string | null {
  if (!(value instanceof RawJson) || value instanceof ScannedJson || typeof value.json !== 'string') return null
  return checkedText(value.json)
}

function checkedText(raw: string): string {
  if (typeof raw !== 'string') throw invalid(NOT_JSON)
  const problem = jsonTextProblem(raw)
  if (problem !== null) throw invalid(problem)
  const n = raw.length
  let text = raw
  if (isWs(raw.charCodeAt(0)) || isWs(raw.charCodeAt(n - 1))) {
    const [a, b] = trimJson(raw)
    text = raw.slice(a, b)
  }
  if (text === 'null') throw invalid(REQUIRED)
  return text
}

function textPrepared(text: string): Prepared {
  const byteLength = Buffer.byteLength(text, 'utf8')
  return { text, bytes: null, start: 0, end: 0, byteLength, ascii: byteLength === text.length, isString: text.charCodeAt(0) === 34 }
}

function fromBytes(src: Uint8Array): Prepared {
  // Bytes in shared memory can change under us between this check and the copy into the item:
  // validate (and later store) a private copy, never the shared bytes themselves.
  const u8 = src.buffer instanceof ArrayBuffer ? src : new Uint8Array(src)
  let start = 0
  let end = u8.length
  const problem = jsonBytesProblem(u8, start, end)
  if (problem !== null) throw invalid(problem)
  while (start < end && isWs(u8[start])) start++
  while (end > start && isWs(u8[end - 1])) end--
  return bytesPrepared(u8, start, end)
}

/** Scanned bytes (ScannedJson): already one trimmed value, valid UTF-8; not scanned again. */
function fromScanned(src: Uint8Array): Prepared {
  const u8 = src.buffer instanceof ArrayBuffer ? src : new Uint8Array(src) // as in fromBytes
  return bytesPrepared(u8, 0, u8.length)
}

function bytesPrepared(u8: Uint8Array, start: number, end: number): Prepared {
  if (end - start === 4 && u8[start] === 110 && u8[start + 1] === 117 && u8[start + 2] === 108 && u8[start + 3] === 108) throw invalid(REQUIRED)
  let ascii = true
  for (let i = start; i < end; i++) if (u8[i] > 127) { ascii = false; break }
  return { text: null, bytes: u8, start, end, byteLength: end - start, ascii, isString: u8[start] === 34 }
}

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13
