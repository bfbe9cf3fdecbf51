// The package's install step, on purpose almost nothing: with a binding.gyp and no install script,
// npm and pnpm would run `node-gyp rebuild` on install (downloading headers, needing a compiler) and
// leave a build/Release binary that node-gyp-build prefers over the prebuilds — for one Node ABI
// only. The binaries ship prebuilt (prebuilds/); where none fits, requiring the package says so.
import { existsSync } from 'node:fs'

const abi = process.versions.modules
const prebuilt = new URL(`../prebuilds/${process.platform}-${process.arch}/node.abi${abi}.node`, import.meta.url)
// In the repository (scripts/prebuild.mjs is there, not in the package) `pnpm build` makes them.
if (!existsSync(prebuilt) && !existsSync(new URL('./prebuild.mjs', import.meta.url))) {
  console.warn(`@scopecache/shm: no prebuilt binary for Node ${process.version} (ABI ${abi}) on ${process.platform}-${process.arch}; build one with \`npx node-gyp rebuild\` in this package's directory to use ScopeCache.open`)
}
