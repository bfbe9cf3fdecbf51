/**
 * A bulk body costs heap for what the batch keeps, not per element it sends (issue 10): /warm
 * and /rebuild bodies of millions of `{}` elements against the real `scopecache serve`, several in
 * a row, are each answered 400 at the first element, with the server's RSS bounded and the server
 * alive after. (At 0922bbe every element became a JS object first: one 24 MiB body took the
 * server past 2 GiB RSS for ~40 s; the full-size figures are in the report.)
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { afterEach, expect, it } from 'vitest'
import { killAll, runCli } from './fixtures/cli-harness.js'

afterEach(killAll)

const MIB = 1024 * 1024
const BODY_MIB = 24
// ~75 bytes of heap per 3-byte element before the fix: 8 M elements is over 1.5 GiB; after, the
// server holds the body (and its chunks while they are joined) and little else.
const RSS_BOUND_MIB = 640

/** `{"items":[{},{},…]}` of about `mib` MiB. */
function emptyItems(mib: number): Buffer {
  const n = Math.floor((mib * MIB - 12) / 3)
  return Buffer.concat([Buffer.from('{"items":['), Buffer.alloc(n * 3 - 1, '{},'), Buffer.from(']}')])
}

const rssMib = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

function post(base: string, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method: 'POST', agent: false, headers: { 'content-length': body.length }, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

it.runIf(process.platform === 'linux')(`/warm and /rebuild with ${BODY_MIB} MiB bodies of {} elements, 4 in a row: 400 each, RSS under ${RSS_BOUND_MIB} MiB, server alive`, async () => {
  const cli = runCli(['serve', '--port', '0', '--threads', '1'])
  const { address } = await cli.listening(20_000)
  const pid = cli.proc.pid!
  let peak = rssMib(pid)
  let over = false
  // sampled while the requests run; past the bound the server is killed so the test ends at once
  const sampler = setInterval(() => {
    if (cli.proc.exitCode !== null || cli.proc.signalCode !== null) return
    peak = Math.max(peak, rssMib(pid))
    if (peak > RSS_BOUND_MIB && !over) {
      over = true
      cli.proc.kill('SIGKILL')
    }
  }, 20)
  try {
    const body = emptyItems(BODY_MIB)
    for (const path of ['/warm', '/warm', '/rebuild', '/warm']) {
      const r = await post(address, path, body).catch((e: Error) => ({ status: 0, body: `${e.message} (RSS peak ${peak.toFixed(0)} MiB)` }))
      expect(over, `RSS peak ${peak.toFixed(0)} MiB during ${path}`).toBe(false)
      expect(r.status, r.body).toBe(400)
      expect(JSON.parse(r.body)).toEqual({ ok: false, error: `scopecache: invalid input: the 'scope' field is required for the '${path}' endpoint` })
    }
    console.log(`http-warm-memory: server RSS peak ${peak.toFixed(0)} MiB over 4 bodies of ${body.length} bytes`)
    const stats = await post(address, '/flush', Buffer.alloc(0))
    expect(stats.status).toBe(200)
    expect(cli.proc.exitCode).toBe(null)
    expect(peak).toBeLessThan(RSS_BOUND_MIB)
  } finally {
    clearInterval(sampler)
  }
}, 180_000)
