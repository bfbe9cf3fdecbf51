/**
 * Binding a listener: TCP (with SO_REUSEPORT where Node offers it, so every listener thread accepts
 * on the same port and the kernel spreads connections) or a Unix socket (mode 0660, one listener:
 * Linux has no SO_REUSEPORT for AF_UNIX). A stale socket file is removed before binding; a live
 * one (something answers on it) or any other kind of file at the path is refused, never deleted.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import type { Server } from 'node:http'

/** `listen({ reusePort })` landed in Node 23.1 and 22.12; older versions ignore the option silently. */
export function reusePortSupported(version: string = process.versions.node, platform: string = process.platform): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const nodeHasIt = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
  return nodeHasIt && ['linux', 'freebsd', 'dragonfly', 'sunos', 'aix'].includes(platform)
}

/** Loopback: 127.0.0.0/8, ::1, `localhost` (and IPv4-mapped 127.x). Anything else is remote. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return net.isIPv4(v4) && v4.startsWith('127.')
}

export class ListenError extends Error {
  override readonly name = 'ListenError'
  constructor(readonly code: string, message: string) {
    super(message)
  }
}

function listen(server: Server, options: net.ListenOptions & { reusePort?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      reject(new ListenError(err.code ?? 'unknown', err.message))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options)
  })
}

/** Resolves with the bound port (the real one for port 0). */
export async function listenTcp(server: Server, host: string, port: number, reusePort: boolean): Promise<number> {
  await listen(server, reusePort ? { host, port, reusePort: true } : { host, port })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new ListenError('unknown', 'the server has no TCP address')
  return addr.port
}

export async function listenUnix(server: Server, path: string, mode: number): Promise<void> {
  await listen(server, { path })
  chmodSync(path, mode)
}

/** Makes `path` free for a new socket: removes a dead socket file, refuses a live socket or another file. */
export async function clearStaleSocket(path: string): Promise<void> {
  let st
  try {
    st = lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (!st.isSocket()) throw new ListenError('EEXIST', `${path} exists and is not a socket; refusing to replace it`)
  if (await socketAnswers(path)) throw new ListenError('EADDRINUSE', `another server is listening on ${path}`)
  unlinkSync(path)
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ path })
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

/** Removes the socket file at `path` if there is one (at shutdown; Node normally unlinks it already). */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch {
    // already gone
  }
}

export function formatAddress(target: { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string }): string {
  if (target.kind === 'unix') return `unix:${target.path}`
  const host = net.isIPv6(target.host) ? `[${target.host}]` : target.host
  return `http://${host}:${target.port}`
}
