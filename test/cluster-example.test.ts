/**
 * The cluster example (packages/http/examples/cluster, `pnpm example:cluster`) runs its bounded demo
 * and exits by itself: worker processes of a node:cluster app serve one store in shared memory, one
 * is SIGKILLed mid-traffic and replaced, and every acknowledged write is in the store at the end.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('examples/cluster', () => {
  it('runs the demo: 3 worker processes share one store, one is killed and replaced, nothing lost, store unlinked', async () => {
    const main = fileURLToPath(new URL('../packages/http/examples/cluster/main.mjs', import.meta.url))
    const run = `test-${process.pid}`
    const child = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCOPECACHE_EXAMPLE_RUN: run } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 70_000)
    const [code] = await once(child, 'exit')
    clearTimeout(timer)
    expect(code, out).toBe(0)
    expect(out).toMatch(/3 workers \(\d+, \d+, \d+\) on http:\/\/127\.0\.0\.1:\d+/)
    expect(out).toMatch(/worker \d+ killed \(SIGKILL\); forking its replacement/)
    expect(out).toMatch(/replacement \d+ serving; \d+ visits acknowledged/)
    for (const page of ['home', 'docs', 'blog', 'shop']) expect(out).toMatch(new RegExp(`${page}: (\\d+) acknowledged, \\d+ in the store\\n`))
    expect(out).toMatch(/processes that served: \d+; .* [1-9]\d* dead thread\(s\) reaped/)
    expect(out).toMatch(/\nnothing lost\n/)
    expect(existsSync(`/dev/shm/scopecache-example-cluster-${run}`)).toBe(false)
  }, 80_000)
})
