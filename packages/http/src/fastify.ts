/**
 * `@scopecache/http/fastify`: the HTTP API as a fastify plugin. A subpath of its own, so the main
 * entry type-checks and loads without fastify installed (fastify is an optional peer dependency).
 *
 * Two layers, because a plugin cannot both decorate the app and keep a content-type parser to itself:
 *  - the outer plugin is wrapped with fastify-plugin (name '@scopecache/http', fastify 5): it decorates
 *    the instance it is registered on with `scopecache` (the store) and, when it created the store
 *    itself (no `cache` given), closes it in `onClose`;
 *  - the inner plugin stays encapsulated and holds the routes: every path of the API is a route whose
 *    handler hijacks the reply and hands the raw request/response to the same HttpApi that serves
 *    node:http, so both mount exactly the same behaviour (405s included). Bodies are left unread by
 *    fastify — a catch-all content-type parser there consumes nothing — because the API streams and
 *    caps them itself; the application's other routes keep fastify's parsers.
 * `prefix` is passed on to the inner plugin (fastify ignores it on a fastify-plugin-wrapped one):
 * `app.register(scopecachePlugin, { cache, prefix: '/cache' })`.
 */
import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { ScopeCache, type ScopeCacheOptions } from '@scopecache/core'
import { PATHS } from './endpoints.js'
import { HttpApi, type HandlerOptions } from './handler.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The store `@scopecache/http/fastify` serves. */
    scopecache: ScopeCache
  }
}

export interface ScopecachePluginOptions extends HandlerOptions {
  /** The store to serve; it stays yours (the plugin never closes it). */
  cache?: ScopeCache
  /** Without `cache` (or `api`): the plugin creates a store with these options and closes it on `onClose`. */
  store?: ScopeCacheOptions
  /** Existing API object to serve (shares its metrics and its store); else one is made from the options. */
  api?: HttpApi
  /** Mount the API under this path. */
  prefix?: string
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']

function routes(fastify: FastifyInstance, { api }: { api: HttpApi }, done: (err?: Error) => void): void {
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

function scopecache(fastify: FastifyInstance, opts: ScopecachePluginOptions, done: (err?: Error) => void): void {
  const { cache: given, store, api: givenApi, prefix, ...handler } = opts
  const cache = givenApi?.cache ?? given ?? ScopeCache.create(store)
  if (!fastify.hasDecorator('scopecache')) fastify.decorate('scopecache', cache)
  else if (fastify.scopecache !== cache) {
    done(new Error('scopecache: this fastify instance already serves another store; register the plugin for it inside its own encapsulated context'))
    return
  }
  if (givenApi === undefined && given === undefined) fastify.addHook('onClose', (_instance, next) => { cache.close(); next() })
  const api = givenApi ?? new HttpApi(cache, handler)
  fastify.register(routes, prefix === undefined ? { api } : { api, prefix })
  done()
}

export const scopecachePlugin: FastifyPluginCallback<ScopecachePluginOptions> = fp(scopecache, {
  name: '@scopecache/http',
  fastify: '5.x',
})
export default scopecachePlugin
