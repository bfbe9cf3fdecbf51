#!/usr/bin/env bash
# Installs what the benchmark peers need and is not an npm package: redis-server (Debian's package).
# Idempotent; prints one line per peer. Exit code 0 even when a peer cannot be installed: the runner
# then skips that peer's rows with the reason printed here.
set -u
if command -v redis-server >/dev/null 2>&1; then
  echo "setup: redis-server present: $(redis-server --version | head -1)"
  exit 0
fi
if [ "$(id -u)" != "0" ] && ! command -v sudo >/dev/null 2>&1; then
  echo "setup: redis-server missing and not root (no sudo): install it with your package manager" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" != "0" ] && SUDO="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: redis-server missing and no apt-get: install redis-server yourself" >&2
  exit 0
fi
echo "setup: installing redis-server (apt-get)"
if DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq >/tmp/scopecache-bench-apt.log 2>&1 \
  && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >>/tmp/scopecache-bench-apt.log 2>&1; then
  # Debian's package starts a system instance on :6379; the benchmarks use their own private one.
  (command -v systemctl >/dev/null 2>&1 && $SUDO systemctl stop redis-server >/dev/null 2>&1) || true
  echo "setup: installed $(redis-server --version | head -1)"
else
  echo "setup: apt-get install redis-server failed (see /tmp/scopecache-bench-apt.log): $(tail -1 /tmp/scopecache-bench-apt.log)" >&2
fi
exit 0
