import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Worker-thread tests spawn real threads; keep files in separate forks so a
    // misbehaving worker cannot wedge the whole run, and bound every test.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
