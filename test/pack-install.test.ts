/**
 * What users install is what we test. Every package is packed with pnpm (as `pnpm publish` would:
 * `workspace:*` becomes the version) and the tarballs are installed with npm into a fresh directory
 * outside the repository — third-party versions pinned to pnpm-lock.yaml's, `--prefer-offline`. There:
 *  - each tarball is checked: no `workspace:` dependency; every `exports`/`main`/`types`/`bin` target
 *    and every source a source map names is in it; the invariant checker is not;
 *  - a strict consumer (test/fixtures/consumer: strict, exactOptionalPropertyTypes,
 *    noUncheckedIndexedAccess, skipLibCheck off) type-checks with the repository's TypeScript, first
 *    without fastify installed (the main entries must not need it), then with it (`/fastify`);
 *  - every README block marked runnable runs, and prints what the README's output block says.
 * On a cold npm cache the install fetches ~30 packages (~10 s); the whole file takes 15–75 s warm on
 * two cores, depending on load (two tsc runs are most of it). SCOPECACHE_KEEP_PACK=1 keeps the directory.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lockedVersions, packAll, rootDevVersion, run, runOk, unpack } from './helpers/pack.js'
import { outputPattern, ROOT, runnableSnippets } from './helpers/readme.js'

interface Manifest {
  name: string
  version: string
  main?: string
  types?: string
  bin?: Record<string, string>
  exports?: Record<string, { types: string; default: string }>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}
interface Packed { file: string; root: string; files: string[]; manifest: Manifest }

const work = mkdtempSync(join(tmpdir(), 'scopecache-pack-'))
const app = join(work, 'app')
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
const FASTIFY = (JSON.parse(readFileSync(`${ROOT}packages/http/package.json`, 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.fastify!
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
/** Bound of one step (a tsc run, an npm install of fastify): ~5–20 s, more on a loaded machine. */
const STEP_MS = 90_000
/** Diagnostics in others' .d.ts files that skipLibCheck: false surfaces, not ours to fix. */
const UPSTREAM = [
  // piscina 5.3.2: `interface FilledOptions extends Options` narrows an optional `atomics` (exactOptionalPropertyTypes)
  /^node_modules\/piscina\/dist\/index\.d\.ts\(\d+,\d+\): error TS2430: Interface 'FilledOptions' incorrectly extends interface 'Options'/,
]
let packed: Packed[] = []

beforeAll(async () => {
  await packAll(join(work, 'tarballs'))
  packed = await Promise.all(readdirSync(join(work, 'tarballs')).filter((f) => f.endsWith('.tgz')).map(async (f) => {
    const file = join(work, 'tarballs', f)
    const files = await unpack(file, join(work, 'unpacked', f))
    const root = join(work, 'unpacked', f, 'package')
    return { file, root, files, manifest: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest }
  }))
  cpSync(join(ROOT, 'test/fixtures/consumer'), app, { recursive: true })
  const dependencies: Record<string, string> = { '@types/node': rootDevVersion('@types/node') }
  for (const p of packed) dependencies[p.manifest.name] = `file:${p.file}`
  const overrides = Object.fromEntries(Object.entries(lockedVersions()).filter(([n]) => !(n in dependencies) && n !== 'fastify'))
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies, overrides }, null, 2))
  await runOk('npm', ['install', ...NPM_FLAGS], app, 110_000) // a cold cache fetches ~30 packages
}, 180_000) // pack ≤ 60 s + install ≤ 110 s

afterAll(() => {
  if (process.env.SCOPECACHE_KEEP_PACK === undefined) rmSync(work, { recursive: true, force: true })
  else console.log(`pack-install: left ${work}`)
})

/** Adds fastify (the version the repository tests with) to the consumer, once. */
async function installFastify(): Promise<void> {
  if (!existsSync(join(app, 'node_modules/fastify'))) await runOk('npm', ['install', ...NPM_FLAGS, `fastify@${FASTIFY}`], app, STEP_MS - 5_000)
}

/** tsc on a consumer config; the diagnostics that are not known upstream ones. */
async function typeErrors(config: string): Promise<string[]> {
  const r = await run(process.execPath, [TSC, '-p', config], app, STEP_MS - 5_000)
  const errors = r.stdout.split('\n').filter((l) => / error TS\d+:/.test(l) && !UPSTREAM.some((u) => u.test(l)))
  if (r.status !== 0 && errors.length === 0 && !/ error TS\d+:/.test(r.stdout)) errors.push(`tsc exited ${r.status}: ${r.stdout}${r.stderr}`)
  return errors
}

describe('packed packages', () => {
  it('are whole: versions instead of workspace:, every entry point and map source inside, no internals', () => {
    expect(packed.map((p) => p.manifest.name).sort()).toEqual(['@scopecache/core', '@scopecache/http', '@scopecache/pool', '@scopecache/redis', '@scopecache/shm', 'scopecache'])
    for (const { manifest: m, files, root } of packed) {
      const deps = { ...m.dependencies, ...m.peerDependencies, ...m.optionalDependencies }
      for (const [dep, spec] of Object.entries(deps)) expect(spec, `${m.name} → ${dep}`).not.toMatch(/^workspace:/)
      const targets = [m.main, m.types, ...Object.values(m.bin ?? {}), ...Object.values(m.exports ?? {}).flatMap((e) => [e.types, e.default])]
      for (const t of targets) if (t !== undefined) expect(files, `${m.name}: ${t}`).toContain(normalize(t))
      for (const map of files.filter((f) => f.endsWith('.map'))) {
        const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] }
        for (const src of sources) expect(files, `${m.name}: ${map} names ${src}`).toContain(normalize(join(dirname(map), src)))
      }
      expect(files.filter((f) => f.includes('internals')), m.name).toEqual([])
    }
    const core = packed.find((p) => p.manifest.name === '@scopecache/core')!
    const cacheTypes = readFileSync(join(core.root, 'dist/cache.d.ts'), 'utf8')
    expect(cacheTypes, 'ScopeCache keeps [INTERNALS]() out of its published type').not.toMatch(/^\s*(\[INTERNALS\]|export \{ INTERNALS|import \{[^}]*INTERNALS)/m)
  })

  it('main entries type-check in a strict consumer without fastify installed, and internals are not exported', async () => {
    expect(existsSync(join(app, 'node_modules/fastify'))).toBe(false)
    expect(await typeErrors('tsconfig.json')).toEqual([])
    const probe = `import('@scopecache/http').then(() => import('@scopecache/core/internals')).catch((e) => console.log(e.code))`
    expect((await runOk(process.execPath, ['--input-type=module', '-e', probe], app, 20_000)).trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED')
  }, STEP_MS)

  it('@scopecache/shm carries a prebuilt binary for every supported Node (ABI 115, 127, 137, 147) and no build/; ScopeCache.open works from the tarballs', async () => {
    const shm = packed.find((p) => p.manifest.name === '@scopecache/shm')!
    expect(shm.files.filter((f) => f.startsWith('prebuilds/')).sort()).toEqual([115, 127, 137, 147].map((abi) => `prebuilds/linux-x64/node.abi${abi}.node`))
    expect(shm.files.filter((f) => f.startsWith('build/'))).toEqual([])
    expect(existsSync(join(app, 'node_modules/@scopecache/shm/build')), 'the install step built nothing').toBe(false)
    const name = `pack-${process.pid}`
    const probe = `import { ScopeCache } from '@scopecache/core'
      const c = ScopeCache.open({ name: '${name}', maxStoreBytes: 1 << 20 }); c.append('s', 1); const d = ScopeCache.open({ name: '${name}' })
      console.log(d.tail('s').items.length, ScopeCache.unlink('${name}')); c.close(); d.close()`
    expect((await runOk(process.execPath, ['--input-type=module', '-e', probe], app, 20_000)).trim()).toBe('1 true')
  })

  it('the scopecache command runs from its tarball, which has no dependencies (the bundle holds them; @scopecache/shm is optional)', async () => {
    const cli = packed.find((p) => p.manifest.name === 'scopecache')!.manifest
    expect(cli.dependencies ?? {}).toEqual({})
    expect(Object.keys(cli.optionalDependencies ?? {})).toEqual(['@scopecache/shm'])
    expect((await runOk(join(app, 'node_modules/.bin/scopecache'), ['--version'], app, 20_000)).trim()).toContain(cli.version)
  })

  it('with fastify installed, @scopecache/http/fastify type-checks too', async () => {
    await installFastify()
    expect(await typeErrors('tsconfig.fastify.json')).toEqual([])
  }, 2 * STEP_MS)
})

describe('README snippets marked runnable, run against the installed packages', () => {
  beforeAll(installFastify, STEP_MS)
  for (const s of runnableSnippets()) {
    if (s.file !== undefined) continue
    it(`${s.readme}:${s.line}`, async () => {
      const dir = join(app, 'readme', s.readme.replace(/\W+/g, '-'))
      mkdirSync(dir, { recursive: true })
      for (const f of runnableSnippets()) if (f.readme === s.readme && f.file !== undefined) writeFileSync(join(dir, f.file), f.body)
      writeFileSync(join(dir, `snippet-${s.line}.mjs`), s.body)
      const r = await run(process.execPath, [`snippet-${s.line}.mjs`], dir, 30_000)
      expect(r.status, r.stdout + r.stderr).toBe(0)
      if (s.output !== undefined) expect(r.stdout).toMatch(outputPattern(s.output))
    }, 40_000)
  }
})

const normalize = (p: string): string => join(p).replace(/^\.\//, '')
