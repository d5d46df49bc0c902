#!/usr/bin/env bash
# Verifier numbers (issue 5 "Numbers", docs/verifier.md "Performance"):
#   1. in-process appraisals/s per core next to `openssl speed rsa2048` verify/s
#      (tests/bench/appraisal_bench.cc);
#   2. bulwark-verifier over HTTPS keep-alive + mTLS driven by many simulated agents
#      (tests/bench/verifier_load.cc): attestations/s, p50/p99, errors — on SQLite, then on
#      a private PostgreSQL;
#   3. the verifier's RSS with MEM_NODES (10,000) enrolled nodes that each attested once.
# Prints one JSON line per measurement. Everything it starts is stopped on exit.
#
# usage: scripts/bench-verifier.sh [BUILD_DIR]     (default: build-release)
# env:   NODES=64 CONCURRENCY=16 SECONDS=20 EVENTS=50 MEM_NODES=10000 THREADS=2 AK=ecc
#        SKIP_APPRAISAL=1 / SKIP_SQLITE=1 / SKIP_POSTGRES=1 / SKIP_MEMORY=1
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build-release}" && pwd)
# SECONDS is also bash's own clock (always set, 0 at start): only an exported one is the user's.
SECONDS_=$(printenv SECONDS || echo 20)
NODES=${NODES:-64} CONCURRENCY=${CONCURRENCY:-16} EVENTS=${EVENTS:-50}
MEM_NODES=${MEM_NODES:-10000} THREADS=${THREADS:-2} AK=${AK:-ecc}
VERIFIER=$BUILD/bin/bulwark-verifier LOAD=$BUILD/bench/verifier_load
for b in "$VERIFIER" "$LOAD"; do [ -x "$b" ] || { echo "missing $b (build it)" >&2; exit 2; }; done

W=$(mktemp -d /tmp/bulwark-bench-XXXXXX)
chmod 755 "$W"  # the PostgreSQL server runs as user postgres
VPID="" PGDATA="" PGBIN=""
cleanup() {
  [ -n "$VPID" ] && kill "$VPID" 2>/dev/null && wait "$VPID" 2>/dev/null || true
  [ -n "$PGDATA" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# TLS: a CA, the server certificate for 127.0.0.1 (agent CA and EAR key: created by the verifier).
(cd "$W" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
   -out ca.pem -subj /CN=bench-ca -days 2 2>/dev/null &&
 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
   -subj /CN=127.0.0.1 2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
 openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
   -extfile san.ext 2>/dev/null)

# start_verifier "DATABASE YAML" NAME: starts bulwark-verifier, sets VPID and PORT.
start_verifier() {
  local dir=$W/$2
  mkdir -p "$dir"
  cat >"$dir/verifier.yaml" <<EOF
listen: {address: 127.0.0.1, port: 0}
tls: {cert: $W/server.pem, key: $W/server.key}
agent_ca: {cert: $dir/agent-ca.pem, key: $dir/agent-ca.key}
enrollment: {ek_ca: [$W/ca.pem], auto_approve: true}
database: $1
verifier_key: $dir/ear.key
threads: $THREADS
limits: {max_body_bytes: 8388608}
EOF
  "$VERIFIER" --config "$dir/verifier.yaml" 2>"$dir/verifier.log" &
  VPID=$!
  PORT=""
  for _ in $(seq 200); do
    PORT=$(grep -o '"msg":"listening".*"port":[0-9]*' "$dir/verifier.log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$VPID" 2>/dev/null || { cat "$dir/verifier.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "verifier did not listen" >&2; exit 1
}

stop_verifier() { kill "$VPID"; wait "$VPID" 2>/dev/null || true; VPID=""; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$VPID/status"; }

# load NAME DB-FLAG DB-VALUE [extra flags]
load() {
  local name=$1 flag=$2 value=$3; shift 3
  "$LOAD" --url "https://127.0.0.1:$PORT" --cacert "$W/ca.pem" \
    --agent-ca-cert "$W/$name/agent-ca.pem" --agent-ca-key "$W/$name/agent-ca.key" \
    "$flag" "$value" --workdir "$W/$name/agents" --ak "$AK" "$@"
}

if [ -z "${SKIP_APPRAISAL:-}" ]; then
  "$BUILD/bench/appraisal_bench" --benchmark_format=json 2>"$W/appraisal.err" |
    python3 -c 'import json,sys; d=json.load(sys.stdin)
for b in d["benchmarks"]:
    print(json.dumps({"benchmark": b["name"], "us_per_appraisal": round(b["real_time"], 1),
      "appraisals_per_s": round(b.get("appraisals_per_s", 0), 1),
      "openssl_rsa2048_verify_per_s": round(b.get("openssl_rsa2048_verify_per_s", 0), 1),
      "x_openssl_verify": round(b.get("x_openssl_verify", 0), 4)}))'
fi

if [ -z "${SKIP_SQLITE:-}" ]; then
  start_verifier "{sqlite: $W/sqlite/verifier.db}" sqlite
  load sqlite --sqlite "$W/sqlite/verifier.db" --nodes "$NODES" --concurrency "$CONCURRENCY" \
    --seconds "$SECONDS_" --events "$EVENTS"
  stop_verifier
fi

if [ -z "${SKIP_POSTGRES:-}" ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$W/pg" && chown postgres "$W/pg"
  PGDATA=$W/pg/data
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U bulwark >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$W/pg/log" \
    -o "-k $W/pg -c listen_addresses= -c max_connections=200" start >/dev/null
  CONN="host=$W/pg user=bulwark dbname=postgres"
  start_verifier "{postgres: \"$CONN\"}" postgres
  load postgres --postgres "$CONN" --nodes "$NODES" --concurrency "$CONCURRENCY" \
    --seconds "$SECONDS_" --events "$EVENTS"
  stop_verifier
fi

if [ -z "${SKIP_MEMORY:-}" ]; then
  start_verifier "{sqlite: $W/memory/verifier.db}" memory
  before=$(rss_kib)
  load memory --sqlite "$W/memory/verifier.db" --nodes "$MEM_NODES" --concurrency "$CONCURRENCY" \
    --events "$EVENTS" --once >"$W/memory.json"
  after=$(rss_kib)
  python3 -c "import json,sys; d=json.load(open('$W/memory.json'))
print(json.dumps({'memory_nodes': $MEM_NODES, 'rss_idle_mib': round($before/1024, 1),
  'rss_after_mib': round($after/1024, 1), 'kib_per_node': round(($after-$before)/$MEM_NODES, 2),
  'attestations': d['attestations'], 'errors': d['errors']}))"
  stop_verifier
fi
