/**
 * The HTTP API as a fastify plugin: every path of the API is a fastify route whose handler
 * hijacks the reply and hands the raw request/response to the same HttpApi that serves node:http,
 * so both mount exactly the same behaviour (405s included: each route takes every method and the
 * API answers the wrong ones). Bodies are left unread by fastify — inside this plugin's
 * encapsulated context a catch-all content-type parser consumes nothing — because the API streams
 * and caps them itself. The plugin stays encapsulated on purpose (no `skip-override`): its
 * content-type parser must not leak to the application's other routes. Register it with a
 * `prefix` to mount the API under a path: `app.register(scopecachePlugin, { cache, prefix: '/cache' })`.
 */
import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import type { ScopeCache } from '@scopecache/core'
import { PATHS } from './endpoints.js'
import { HttpApi, type HandlerOptions } from './handler.js'

export interface ScopecachePluginOptions extends HandlerOptions {
  cache: ScopeCache
  /** Existing API object to serve (shares its metrics); else one is made from `cache` and the options. */
  api?: HttpApi
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']

function plugin(fastify: FastifyInstance, opts: ScopecachePluginOptions, done: (err?: Error) => void): void {
  const api = opts.api ?? new HttpApi(opts.cache, opts)
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_request, _payload, next) => next(null))
  for (const [path] of PATHS) {
    fastify.route({
      method: METHODS,
      url: path,
      exposeHeadRoute: false,
      handler(request, reply) {
        reply.hijack()
        const url = request.raw.url ?? ''
        const q = url.indexOf('?')
        api.serve(request.raw, reply.raw, path, q < 0 ? '' : url.slice(q + 1))
      },
    })
  }
  done()
}

Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: 'scopecache' })

export const scopecachePlugin: FastifyPluginCallback<ScopecachePluginOptions> = plugin
