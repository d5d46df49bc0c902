#!/bin/sh
# Runs every Google Benchmark binary of a build and, for scale, OpenSSL's own
# signature verification speed on this machine.
#   usage: scripts/bench.sh [BUILD_DIR]        (make bench: build-release)
# Environment: BENCH_MIN_TIME (seconds per benchmark, default 1),
#              OPENSSL_SECONDS (default 3), BENCH_FILTER (benchmark regex).
set -eu
build=${1:-build-release}
min_time=${BENCH_MIN_TIME:-1}
ssl_seconds=${OPENSSL_SECONDS:-3}
filter=${BENCH_FILTER:-.}
src=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -d "$build/bench" ]; then
  echo "bench.sh: no $build/bench (build with: make bench, or cmake --preset release -B $build)" >&2
  exit 2
fi

echo "== machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
found=0
for bin in "$build"/bench/*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  found=1
  echo
  echo "== $(basename "$bin")"
  BULWARK_SOURCE_DIR="$src" "$bin" --benchmark_min_time="$min_time" \
    --benchmark_filter="$filter" || status=1
done
if [ "$found" = 0 ]; then
  echo "bench.sh: no benchmark binaries in $build/bench" >&2
  exit 2
fi

echo
echo "== openssl speed -seconds $ssl_seconds rsa2048 ecdsap256 (one core, reference for verify/s)"
openssl speed -seconds "$ssl_seconds" rsa2048 ecdsap256 2>/dev/null |
  awk '/^rsa 2048 bits/ {printf "openssl rsa2048   verify/s: %s\n", $NF}
       /\(nistp256\)/   {printf "openssl ecdsap256 verify/s: %s\n", $NF}'
exit $status
