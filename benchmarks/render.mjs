// Re-renders RESULTS.md and the charts from a results file: node benchmarks/render.mjs results/<file>.json
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { renderResults } from './lib/report.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const file = process.argv[2]
if (!file) { console.error('usage: node benchmarks/render.mjs benchmarks/results/<file>.json'); process.exit(2) }
const path = [resolve(file), join(here, file)].find((p) => { try { readFileSync(p); return true } catch { return false } })
if (!path) { console.error(`no such results file: ${file}`); process.exit(2) }
const { meta, suites } = JSON.parse(readFileSync(path, 'utf8'))
renderResults({ meta, suites }, { mdPath: join(here, 'RESULTS.md'), chartDir: join(here, 'charts') })
console.error(`rendered ${join(here, 'RESULTS.md')} from ${path}`)
