// Bundles the CLI with esbuild into dist/scopecache.mjs plus the listener-thread entry
// dist/server-worker.mjs: esbuild does not follow `new Worker(new URL(...))` (evanw/esbuild#312), so the
// worker is its own entry point, taken from @scopecache/http's built dist, and the CLI passes its URL
// (resolved next to the bundle at runtime) to startServer.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true }) // no stale chunks
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))

await build({
  entryPoints: {
    scopecache: 'src/main.ts',
    'server-worker': '../http/dist/server-worker.js',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  splitting: true, // the command and the worker share one chunk of common code (store, handler, pino)
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  define: { SCOPECACHE_VERSION: JSON.stringify(version) },
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  logLevel: 'warning',
})
// The shebang goes on the command only (a worker file does not need one).
const bin = new URL('./dist/scopecache.mjs', import.meta.url)
writeFileSync(bin, '#!/usr/bin/env node\n' + readFileSync(bin, 'utf8'))
chmodSync(bin, 0o755)
