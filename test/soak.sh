#!/usr/bin/env bash
# Soak run of the thread stress suite (not part of CI): the same tests as test/threads.test.ts with
# more threads and ~20x the operations (minutes). Usage: test/soak.sh [scale] [seed]
#   scale  operation multiplier (default 20; SCOPECACHE_SOAK=1 means 20)
#   seed   replay a run's printed seed (SCOPECACHE_SEED)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p packages/core/tsconfig.build.json # the workers run the built core
export SCOPECACHE_SOAK="${1:-1}"
if [ -n "${2:-}" ]; then export SCOPECACHE_SEED="$2"; fi
exec npx vitest run test/threads.test.ts
