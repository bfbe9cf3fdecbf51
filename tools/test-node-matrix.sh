#!/usr/bin/env bash
# Runs the test suite under Node 22, 24 and 26 as well (we support 20, 22, 24 and 26). The runtimes come
# from npm's `node@22` / `node@24` / `node@26` packages (a platform binary inside a registry package) and are
# cached under node_modules/.cache/node-matrix. Assumes `pnpm test` has built the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 22 24 26; do
  dir="node_modules/.cache/node-matrix/$v"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && echo '{"private":true}' > package.json && npm install --no-audit --no-fund --silent "node@$v" >/dev/null)
  fi
  echo "== Node $("$dir/node_modules/.bin/node" --version)"
  PATH="$PWD/$dir/node_modules/.bin:$PATH" node node_modules/vitest/vitest.mjs run
done
