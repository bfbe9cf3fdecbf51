// Issue 10 measurement: POSTs N bodies of about MiB MiB to /warm of a fresh `scopecache serve`, one after another,
// sampling the server's RSS (/proc/<pid>/status) every 20 ms; kills it past KILL_AT MiB. Linux only.
// usage: [ITEM=valid] [STORE=<max-store-mb>] node tools/warm-memory.mjs <scopecache.mjs> [MiB=100] [N=10] [KILL_AT=3072]
//   ITEM=valid sends {"scope":"sNN","payload":1} items over 40 scopes instead of {}
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
const [cli, mib = '100', count = '10', killAt = '3072'] = process.argv.slice(2)
// ITEM=valid: {"scope":"sNN","payload":1} items over 40 scopes; default {}
const valid = process.env.ITEM === 'valid'
const el = (k) => valid ? `{"scope":"s${k % 40}","payload":1}` : '{}'
const body = Buffer.alloc(Number(mib) * 1048576 + 64)
body.write('{"items":[', 0)
let o = 10, n = 0
for (;;) { const e = el(n); if (o + e.length + 3 > Number(mib) * 1048576) break; if (n > 0) body.write(',', o++); o += body.write(e, o); n++ }
body.write(']}', o); o += 2
const payload = body.subarray(0, o)
const proc = spawn(process.execPath, [cli, 'serve', '--port', '0', '--max-store-mb', process.env.STORE ?? '100'], { stdio: ['ignore', 'pipe', 'inherit'] })
const addr = await new Promise((res) => proc.stdout.on('data', (d) => { const m = /listening on (\S+)/.exec(String(d)); if (m) res(m[1]) }))
const [host, port] = addr.replace(/^http:\/\//, '').split(':')
const status = () => { try { return readFileSync(`/proc/${proc.pid}/status`, 'utf8') } catch { return '' } }
const kb = (k) => Number(new RegExp(k + ':\\s+(\\d+)').exec(status())?.[1] ?? 0)
let peak = 0, killed = false
const t = setInterval(() => { const r = kb('VmRSS'); if (r > peak) peak = r; if (r / 1024 > Number(killAt)) { killed = true; proc.kill('SIGKILL') } }, 20)
console.log(`body ${payload.length} bytes (${n} elements); server pid ${proc.pid} at ${addr}; idle RSS ${kb('VmRSS') >> 10} MiB`)
const post = () => new Promise((resolve) => {
  const t0 = Date.now()
  const req = http.request({ host, port: Number(port), method: 'POST', path: '/warm', headers: { 'content-length': payload.length } }, (res) => {
    let text = ''; res.on('data', (d) => (text += d)); res.on('end', () => resolve(`${res.statusCode} ${text.trim().slice(0, 120)} (${Date.now() - t0} ms)`))
  })
  req.on('error', (e) => resolve(`error ${e.code ?? e.message} (${Date.now() - t0} ms)`))
  req.end(payload)
})
for (let i = 1; i <= Number(count); i++) {
  const a = await post()
  console.log(`#${i}: ${a}; RSS now ${kb('VmRSS') >> 10} MiB, peak so far ${peak >> 10} MiB, VmHWM ${kb('VmHWM') >> 10} MiB`)
  if (killed || proc.exitCode !== null) break
}
const alive = proc.exitCode === null && !killed
const stats = await new Promise((resolve) => http.get({ host, port: Number(port), path: '/stats' }, (res) => { let t = ''; res.on('data', (d) => (t += d)); res.on('end', () => resolve(`${res.statusCode} ${t.trim()}`)) }).on('error', (e) => resolve('error ' + e.code)))
console.log(`peak sampled RSS ${peak >> 10} MiB; VmHWM ${kb('VmHWM') >> 10} MiB; killed at ${killAt} MiB: ${killed}; alive: ${alive}; /stats: ${stats}`)
clearInterval(t)
proc.kill('SIGTERM')
