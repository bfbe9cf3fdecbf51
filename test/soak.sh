#!/usr/bin/env bash
# Soak run (not part of CI, minutes): the thread stress suite with more threads and ~20x the
# operations, then the dead-thread suite with 20x the random kills. Usage: test/soak.sh [scale] [seed]
#   scale  operation multiplier (default 20; SCOPECACHE_SOAK=1 means 20)
#   seed   replay a run's printed seed (SCOPECACHE_SEED)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p packages/core/tsconfig.build.json # the workers run the built core
export SCOPECACHE_SOAK="${1:-1}"
if [ -n "${2:-}" ]; then export SCOPECACHE_SEED="$2"; fi
scale=$([ "$SCOPECACHE_SOAK" = 1 ] && echo 20 || echo "$SCOPECACHE_SOAK")
npx vitest run test/threads.test.ts
SCOPECACHE_KILLS=$((120 * scale)) npx vitest run test/recovery.test.ts --testTimeout=3600000
