#!/usr/bin/env bash
# Installs wrk (the HTTP load generator of benchmarks/suites/http.mjs) when it is missing.
# Debian/Ubuntu only (package `wrk`); elsewhere install it by hand. Without wrk the suite falls back
# to autocannon (a Node load generator, noted in its output), which saturates sooner than wrk.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  echo "setup: wrk present: $(wrk --version 2>&1 | head -1)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: wrk missing and no apt-get here: install wrk yourself (https://github.com/wg/wrk)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq wrk
echo "setup: installed $(wrk --version 2>&1 | head -1)"
