/**
 * Request bodies, read with a hard cap while they stream in: a declared Content-Length over the
 * cap is refused before a byte is read, and a body that grows past it is refused at cap + 1 with
 * the chunks so far dropped (the rest is discarded as it arrives, never buffered, until the
 * connection closes: `lingerAfterAnswer`). `done` runs only when the whole declared body has arrived, so a client
 * that disconnects early gets nothing written. Text is decoded with a fatal UTF-8 decoder
 * (Node's default decoding would silently replace bad bytes with U+FFFD) that keeps a BOM, so a
 * BOM is then a JSON syntax error rather than silently dropped.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { HttpError, MSG } from './errors.js'

const EMPTY = new Uint8Array(0)
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const noop = (): void => {}

export const bodyTooLarge = (cap: number): HttpError => new HttpError('body_too_large', MSG.bodyTooLarge(cap))

/**
 * Collects the body of `req` up to `cap` bytes. Exactly one of `done` / `fail` is called, or
 * neither if the request is aborted before its body is complete. With `keep` false the body is
 * counted and dropped as it arrives (`done` gets an empty one): a body the endpoint ignores.
 */
export function readBody(
  req: IncomingMessage,
  cap: number,
  done: (body: Uint8Array) => void,
  fail: (e: HttpError) => void,
  keep = true,
): void {
  req.on('error', noop) // a reset connection: no body, no answer
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > cap) {
    req.resume() // discard what is already in flight; the answer closes the connection
    fail(bodyTooLarge(cap))
    return
  }
  let chunks: Buffer[] = []
  let size = 0
  let over = false
  req.on('data', (chunk: Buffer) => {
    if (over) return
    size += chunk.length
    if (size > cap) {
      over = true
      chunks = []
      fail(bodyTooLarge(cap))
      return
    }
    if (keep) chunks.push(chunk)
  })
  req.on('end', () => {
    if (over) return
    done(!keep || size === 0 ? EMPTY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
  })
}

/** The body as text; invalid UTF-8 anywhere is a 400. */
export function decodeBody(bytes: Uint8Array): string {
  if (bytes.length === 0) return ''
  try {
    return decoder.decode(bytes)
  } catch {
    throw new HttpError('invalid_input', MSG.badUtf8Body)
  }
}

/**
 * Closes a refused request's connection only once its body has stopped arriving. node:http destroys
 * the socket as soon as a `Connection: close` answer is written; a close with unread bytes, or bytes
 * still coming, resets the connection, and the reset can discard the answer before the client reads
 * it (EPIPE/ECONNRESET instead of the 413, seen over TCP and Unix sockets). So, as Go's server does
 * (RFC 9112 §9.6), the answer is followed by a half-close (FIN) and the rest of the body is read and
 * discarded until it ends or the client closes, for at most `ms` and `bytes` (Limits.lingerMs,
 * lingerBytes); then the socket is destroyed. Call before the answer is written; a body already complete needs nothing.
 */
export function lingerAfterAnswer(req: IncomingMessage, ms: number, bytes: number): void {
  const socket = req.socket as Socket | null
  if (req.complete || socket === null || socket.destroyed) return
  let timer: NodeJS.Timeout | undefined
  let seen = 0
  const cleanup = (): void => {
    clearTimeout(timer)
    req.off('data', count)
    req.off('end', drained)
  }
  const cut = (): void => {
    cleanup()
    socket.destroy()
  }
  // the whole body is in: nothing left to reset on, close once the answer has left
  const drained = (): void => {
    cleanup()
    if (socket.writableFinished) socket.destroy()
    else socket.once('finish', () => socket.destroy())
  }
  const count = (chunk: Buffer): void => {
    seen += chunk.length
    if (seen > bytes) cut()
  }
  req.on('data', count) // req flows (readBody resumed it): the parser keeps feeding it after the answer
  req.once('end', drained)
  socket.once('close', cleanup)
  // node:http's resOnFinish calls socket.destroySoon() once the `Connection: close` answer is written;
  // this own property shadows net.Socket's for this socket only
  socket.destroySoon = function lingeringClose(this: Socket): void {
    if (this.writable) this.end() // FIN: the answer is complete, reading goes on
    if (req.complete) return drained()
    timer = setTimeout(cut, ms)
    timer.unref()
  }
}
