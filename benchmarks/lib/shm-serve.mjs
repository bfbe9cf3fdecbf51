// `scopecache serve --shm NAME` in child processes, for the HTTP benchmark: N serve processes on one
// port (listen({ reusePort }), Node >= 22.12) all serving one store in shared memory. Their CPU time is
// the sum of utime + stime over the processes (each process's /proc/<pid>/stat covers its threads).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { reusePortSupported } from '@scopecache/http/server'
import { procCpuMicros } from './proc-cpu.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('../../packages/cli/dist/scopecache.mjs', import.meta.url))

/**
 * A Node binary that has listen({ reusePort }): this one if it has, else the newest of the test
 * matrix's (tools/node-matrix-install.sh, which `pnpm build` runs for the addon's prebuilds), or
 * undefined with the reason.
 */
export function reusePortNode() {
  if (reusePortSupported()) return { bin: process.execPath, version: process.versions.node }
  for (const major of ['26', '24', '22']) {
    let bin
    try {
      bin = execFileSync('bash', ['tools/node-matrix-install.sh', major], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      continue
    }
    const v = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' })
    if (v.status === 0) return { bin, version: v.stdout.trim() }
  }
  return { why: 'no Node >= 22.12 found (tools/node-matrix-install.sh could not install one)' }
}

async function freePort() {
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

/** `processes` serve processes of the store `name` on one free port; resolves once each listens. */
export async function startShmServers({ node, name, processes }) {
  const port = await freePort()
  const children = []
  const stop = () => Promise.all(children.map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve()
    const hard = setTimeout(() => c.kill('SIGKILL'), 5_000)
    c.once('exit', () => { clearTimeout(hard); resolve() })
    c.kill('SIGTERM')
  })))
  try {
    for (let i = 0; i < processes; i++) {
      const c = spawn(node.bin, [CLI, 'serve', '--shm', name, '--port', String(port), '--threads', '1', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] })
      children.push(c)
      await untilListening(c)
    }
  } catch (e) {
    await stop()
    throw e
  }
  return {
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () => {
      let sum = 0
      for (const c of children) {
        const us = procCpuMicros(c.pid)
        if (us === null) return null
        sum += us
      }
      return sum
    },
    close: stop,
  }
}

/** Waits (bounded, 15 s) for the process's "listening" log line: with reusePort the port answers as soon as the first one listens. */
function untilListening(child) {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => done(new Error('scopecache serve --shm did not listen within 15 s')), 15_000)
    const onData = (d) => {
      out += d
      if (out.includes('"msg":"listening"')) done()
    }
    const onExit = (code, sig) => done(new Error(`scopecache serve --shm exited ${code ?? sig} before listening`))
    function done(err) {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      child.stdout.resume() // keep draining its log so it never blocks on a full pipe
      if (err) reject(err)
      else resolve()
    }
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

/**
 * The HTTP benchmark's serve --shm cases: one store in /dev/shm, filled here with `items` items, served
 * by 1 and by 2 serve processes (each its own port). Closing the last one unlinks the store.
 */
export async function shmTargets({ node, items, scope, payloadFor }) {
  const { ScopeCache } = await import('@scopecache/core')
  const name = `bench-http-${process.pid}`
  ScopeCache.unlink(name)
  const cache = ScopeCache.open({ name, maxStoreBytes: 64 << 20 })
  let open = 0
  const release = () => {
    if (--open > 0) return
    cache.close()
    ScopeCache.unlink(name)
  }
  const targets = []
  try {
    for (let i = 0; i < items; i++) cache.append(scope, payloadFor(i), { id: `item:${String(i).padStart(6, '0')}` })
    const baseline = node.bin === process.execPath ? 'bare' : 'bareChild'
    for (const processes of [1, 2]) {
      const s = await startShmServers({ node, name, processes })
      open++
      targets.push({
        key: `shm${processes}proc`,
        label: `serve --shm, ${processes} process${processes === 1 ? '' : 'es'} (Node ${node.version})`,
        url: s.url,
        cpuMicros: s.cpuMicros,
        baseline,
        close: async () => { await s.close(); release() },
      })
    }
    const probe = await fetch(`${targets[1].url}/get?scope=${scope}&id=item:000042`)
    if (probe.status !== 200) throw new Error(`probe GET on serve --shm answered ${probe.status}`)
    await probe.arrayBuffer()
    return targets
  } catch (e) {
    if (targets.length === 0) {
      open = 1
      release()
    }
    for (const t of targets) await t.close()
    throw e
  }
}

/** A bare node:http child process on `node` answering `payload` (the shm cases' baseline on their own Node). */
export async function bareChildTarget(node, payload) {
  const port = await freePort()
  const src = `const b=Buffer.from(${JSON.stringify(JSON.stringify(payload))});require('node:http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/octet-stream','content-length':b.length});s.end(b)}).listen(${port},'127.0.0.1',()=>console.log('"msg":"listening"'))`
  const c = spawn(node.bin, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] })
  await untilListening(c)
  return {
    key: 'bareChild',
    label: `bare node:http child process, constant body (Node ${node.version}; baseline of serve --shm)`,
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () => procCpuMicros(c.pid),
    close: () => new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve()
      c.once('exit', resolve)
      c.kill('SIGKILL')
    }),
  }
}
