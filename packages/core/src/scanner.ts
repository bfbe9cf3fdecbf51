/**
 * `@scopecache/core/scanner`: the JSON byte scanner, for the HTTP package's request-body parser,
 * and `scannedJson`, which hands a payload that scan has checked to the store as bytes without a
 * second scan. Not part of the documented API: its names may change with the HTTP package.
 */
export { JSON_SYNTAX, JSON_TOO_DEEP, jsonStringEnd, jsonValueEnd, jsonWs, MAX_JSON_DEPTH } from './json-bytes.js'
export { scannedJson } from './payload.js'
