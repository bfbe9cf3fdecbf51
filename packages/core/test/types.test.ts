/**
 * The public types, checked by the compiler: test/types/payloads.ts holds what must compile and
 * what must not (`@ts-expect-error`), under a strict consumer's settings, against the built
 * `.d.ts` (`@scopecache/core` resolves to dist/). tsc exits non-zero on any regression: a line
 * that stops compiling, or an expected error that no longer happens.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url))

it('payload, read, scope-view and lifecycle types hold (tsc on test/types/payloads.ts)', () => {
  const r = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 })
  expect(r.stdout + r.stderr).toBe('')
  expect(r.status).toBe(0)
}, 120_000)
