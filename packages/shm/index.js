'use strict'
/**
 * @scopecache/shm: the native part of a store shared by processes (see README.md). Loads the binary
 * built for this Node's ABI (prebuilds/linux-x64/node.abi<ABI>.node, or a local build/Release one)
 * and says clearly which package is missing what when there is none.
 */
let binding
try {
  binding = require('node-gyp-build')(__dirname)
} catch (e) {
  const err = new Error(
    `@scopecache/shm: no native binary for Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}: ` +
      'the package ships prebuilt binaries for linux-x64 (glibc) on Node 20, 22, 24 and 26; elsewhere build one with ' +
      '`npx node-gyp rebuild` in its directory (needs python3, make and a C++ compiler). ' +
      `(${e && e.message ? e.message.split('\n')[0] : String(e)})`,
  )
  err.code = 'SCOPECACHE_SHM_UNAVAILABLE'
  throw err
}

module.exports = {
  create: binding.create,
  open: binding.open,
  unlink: binding.unlink,
  futexWait: binding.futexWait,
  futexWake: binding.futexWake,
  startTime: binding.startTime,
  alive: binding.alive,
  pid: binding.pid,
  uid: binding.uid,
  /** Where the store files live. */
  dir: '/dev/shm',
}
