#!/usr/bin/env bash
# Runs the test suite under Node 22, 24 and 26 as well (we support 20, 22, 24 and 26). The runtimes come
# from npm's `node@22` / `node@24` / `node@26` packages (a platform binary inside a registry package) and are
# cached under node_modules/.cache/node-matrix (tools/node-matrix-install.sh; `pnpm build` installs them
# already: @scopecache/shm builds its prebuilt addon against each one's headers). Assumes `pnpm test` has built the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 22 24 26; do
  bin="$(bash tools/node-matrix-install.sh "$v")"
  echo "== Node $("$bin" --version)"
  PATH="$(dirname "$bin"):$PATH" node node_modules/vitest/vitest.mjs run
done
