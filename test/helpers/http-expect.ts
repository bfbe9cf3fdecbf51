/**
 * Assertions on HTTP answers shared by the black-box suites (http-conformance, http-wire-parity):
 * the JSON error shape, and a POST on a raw connection for bodies the server refuses or ignores
 * before reading them.
 */
import type http from 'node:http'
import { expect } from 'vitest'
import { json, type Target } from './http-target.js'

export const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * POSTs a body the server will refuse before reading it all, on a raw connection: the server answers
 * and closes at once, possibly while the client is still writing, and an http.request would then
 * fail with EPIPE before it read the answer (seen over a Unix socket).
 */
export async function rawPost(target: Target, path: string, body: string): Promise<{ status: number; bodyText: string; headers: http.IncomingHttpHeaders }> {
  const answer = await target.raw(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  const end = answer.indexOf('\r\n\r\n')
  const [statusLine, ...lines] = answer.slice(0, end).split('\r\n')
  const headers: http.IncomingHttpHeaders = {}
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
  return { status: end < 0 ? 0 : Number(statusLine.split(' ')[1]), bodyText: end < 0 ? '' : answer.slice(end + 4), headers }
}

export async function expectError(r: { status: number; bodyText: string; headers: http.IncomingHttpHeaders }, status: number, message?: string | RegExp): Promise<any> {
  expect(r.status, r.bodyText).toBe(status)
  expect(r.headers['content-type']).toBe(JSON_TYPE)
  expect(r.bodyText.endsWith('}\n')).toBe(true)
  const body = json(r)
  expect(Object.keys(body).slice(0, 2)).toEqual(['ok', 'error'])
  expect(body.ok).toBe(false)
  if (typeof message === 'string') expect(body.error).toBe(message)
  else if (message) expect(body.error).toMatch(message)
  return body
}
