/**
 * The inbox example (packages/pool/examples/inbox) runs its bounded demo and exits by itself,
 * with reads served by other workers than the writers, every event drained exactly once, and a
 * read-through view loaded once for many concurrent requests and refreshed after a rename.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('examples/inbox', () => {
  it('runs the demo: shared reads across workers, exact drain, clean exit', async () => {
    const main = fileURLToPath(new URL('../packages/pool/examples/inbox/main.mjs', import.meta.url))
    const child = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const [code] = await once(child, 'exit')
    clearTimeout(timer)
    expect(code, out).toBe(0)
    expect(out).toMatch(/POST {2}120 messages, status 201, handled by worker threads \d+, \d+/)
    const cross = Number(/(\d+) of them were written by a different worker/.exec(out)?.[1])
    expect(cross, out).toBeGreaterThan(0)
    expect(out).toMatch(/a bad message -> 400 invalid_input/)
    // read-through: one database load for 12 concurrent requests, and a rename invalidates the view
    expect(out).toMatch(/GET {3}\/users\/ada\/profile × 12 at once, handled by worker threads [\d, ]+: 1 database load\(s\), every answer "ADA"/)
    expect(out).toMatch(/POST {2}\/users\/ada\/rename, then GET: "Ada L\." \(database loads now 2\)/)
    expect(out).toMatch(/every posted message shipped exactly once: true/)
    expect(out).toMatch(/closed: pools drained and detached/)
  })
})
