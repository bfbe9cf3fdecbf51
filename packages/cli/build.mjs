// Bundles the CLI into one ESM file (dist/scopecache.mjs) with esbuild. Worker entry points are
// listed separately (esbuild does not follow `new Worker(new URL(...))`: evanw/esbuild#312).
import { build } from 'esbuild'

await build({
  entryPoints: { scopecache: 'src/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  logLevel: 'warning',
})
