#!/usr/bin/env bash
# End-to-end demo on this machine (`make demo` runs `./scripts/demo.sh build`):
#   1. a private swtpm with EK certificates from a private swtpm_localca CA
#   2. bulwark-verifier: TLS from openssl, SQLite, EK CA = that swtpm CA, auto-approved
#      enrollment, an admin and a scheduler token
#   3. a private dockerd (vfs, no bridge) whose default runtime is a copy of runc the
#      agent measures, two containers from a `docker import`ed busybox image:
#      "web" (hardened) and "debug-shell" (privileged-equivalent: every capability,
#      seccomp unconfined)
#   4. bulwark-agent enroll (EK cert, AK credential activation, mTLS client cert)
#   5. bulwark-agent attest --once (no reference values yet: not affirming)
#   6. bulwarkctl policy learn + approve (the operator accepts this node's measurements)
#   7. bulwark-agent run (daemon); verdict, per-container findings, the kube-scheduler
#      extender's answer and the report pages: debug-shell makes the node untrusted
#   8. the operator removes debug-shell: trusted, the extender accepts the node
#   9. tamper with the measured runtime binary: refused by the extender within seconds
#      (time printed); restore it: still refused (the modified binary is in this boot's
#      measurement log); the operator re-approves the node: trusted again
# Everything started here is stopped on exit; the script fails if any step fails.
#
# Options (environment): DEMO_TAMPER_ROUNDS=N repeats step 9 N times and prints the
# median tamper-to-refusal time (scripts/bench-tamper.sh); DEMO_KEEP=1 keeps the work dir.
set -euo pipefail

BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)/bin
SRC=$(cd "$(dirname "$0")/.." && pwd)
NODE=demo-node
TOKEN="demo-admin-$RANDOM$RANDOM$RANDOM"
SCHED_TOKEN="demo-scheduler-$RANDOM$RANDOM$RANDOM"
OUT_DIR=$(cd "$BUILD" && pwd)/demo
ROUNDS=${DEMO_TAMPER_ROUNDS:-1}
mkdir -p "$OUT_DIR"

for b in bulwark-verifier bulwark-agent bulwarkctl; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b missing: run 'make build' first" >&2; exit 1; }
done
for t in swtpm swtpm_setup swtpm_localca openssl python3 curl dockerd docker runc busybox; do
  command -v "$t" >/dev/null || { echo "demo: $t not installed: run 'make deps'" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root (dockerd, ptrace of containers)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bulwark-demo.XXXXXX)
PIDS=()
DOCKERD_PID=
cleanup() {
  local rc=$?
  set +e  # cleanup must run to the end whatever fails in it
  if [ -n "$DOCKERD_PID" ]; then
    /usr/bin/docker -H "unix://$WORK/docker/docker.sock" rm -f web debug-shell >/dev/null 2>&1 || true
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "demo: FAILED (exit $rc); logs:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  # dockerd may leave mounts (vfs layers, shm, netns) under its roots.
  { grep -o " $WORK[^ ]*" /proc/self/mounts 2>/dev/null || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [ "${DEMO_KEEP:-0}" = 1 ]; then echo "demo: work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
now_ms() { date +%s%3N; }

# Two consecutive free loopback ports (swtpm: server + control channel).
free_port_pair() {
  python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000, 2)
    try:
        socks = []
        for port in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", port)); socks.append(s)
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
EOF
}

wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

step "1. private swtpm with EK certificates"
mkdir -p "$WORK/ca" "$WORK/tpm"
cat > "$WORK/localca.conf" <<EOF
statedir = $WORK/ca
signingkey = $WORK/ca/signkey.pem
issuercert = $WORK/ca/issuercert.pem
certserial = $WORK/ca/certserial
EOF
printf -- '--platform-manufacturer Bulwark\n--platform-version 2.1\n--platform-model swtpm\n' \
  > "$WORK/localca.options"
cat > "$WORK/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $WORK/localca.conf
create_certs_tool_options = $WORK/localca.options
EOF
swtpm_setup --tpm2 --tpmstate "$WORK/tpm" --create-ek-cert --config "$WORK/swtpm_setup.conf" \
  --pcr-banks sha256 --logfile "$WORK/swtpm_setup.log" >/dev/null
PORT=$(free_port_pair)
swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
  --server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
  --flags not-need-init,startup-clear --log file="$WORK/swtpm.log" &
PIDS+=($!)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
TCTI="swtpm:host=127.0.0.1,port=$PORT"
echo "swtpm on 127.0.0.1:$PORT; EK CA: $WORK/ca/swtpm-localca-rootca-cert.pem"

step "2. bulwark-verifier (TLS 1.3, SQLite, swtpm's CA as EK CA, auto-approve)"
(
  cd "$WORK"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls-ca.key \
    -out tls-ca.pem -subj /CN=bulwark-demo-ca -days 2
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
    -out server.csr -subj /CN=127.0.0.1
  printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
  openssl x509 -req -in server.csr -CA tls-ca.pem -CAkey tls-ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile san.ext
) > "$WORK/openssl.log" 2>&1
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cat > "$WORK/verifier.yaml" <<EOF
listen: {address: 127.0.0.1, port: 0}
tls: {cert: $WORK/server.pem, key: $WORK/server.key}
agent_ca: {cert: $WORK/agent-ca.pem, key: $WORK/agent-ca.key, validity: 1d}
tokens:
  - {name: demo-admin, role: admin, sha256: $(sha "$TOKEN")}
  - {name: demo-scheduler, role: scheduler, sha256: $(sha "$SCHED_TOKEN")}
database: {sqlite: $WORK/verifier.db}
verifier_key: $WORK/ear-key.pem
freshness_ttl: 2m
enrollment:
  ek_ca: [$WORK/ca/swtpm-localca-rootca-cert.pem]
  ek_intermediates: [$WORK/ca/issuercert.pem]
  auto_approve: true
appraisal: {pcr_bank: sha256}
isolation_profiles:
  default: {fail_severity: high}
EOF
"$BIN/bulwark-verifier" --config "$WORK/verifier.yaml" > "$WORK/verifier.log" 2>&1 &
PIDS+=($!)
wait_for 20 grep -q '"msg":"listening"' "$WORK/verifier.log" || { echo "verifier did not start" >&2; exit 1; }
VPORT=$(grep -o '"msg":"listening".*' "$WORK/verifier.log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2)
URL="https://127.0.0.1:$VPORT"
echo "verifier at $URL"

step "3. private dockerd; runtime = a measured copy of runc; containers web (hardened) and debug-shell (privileged-equivalent)"
D="$WORK/docker"
mkdir -p "$D/runtime" "$D/rootfs/bin"
cp "$(command -v runc)" "$D/runtime/runc"
cp "$D/runtime/runc" "$WORK/runc.orig"
dockerd --data-root="$D/data" --exec-root="$D/exec" --pidfile="$D/dockerd.pid" \
  --host="unix://$D/docker.sock" --storage-driver=vfs --bridge=none --iptables=false \
  --ip6tables=false --ip-masq=false --userland-proxy=false --log-level=warn \
  --add-runtime "bulwark-demo=$D/runtime/runc" --default-runtime bulwark-demo \
  > "$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
PIDS+=($DOCKERD_PID)
DOCKER=(/usr/bin/docker -H "unix://$D/docker.sock")
wait_for 60 "${DOCKER[@]}" version || { echo "dockerd did not start" >&2; exit 1; }
cp "$(command -v busybox)" "$D/rootfs/bin/busybox"
for a in sh sleep cat; do ln -s busybox "$D/rootfs/bin/$a"; done
tar -C "$D/rootfs" -cf "$D/busybox.tar" .
"${DOCKER[@]}" import "$D/busybox.tar" demo/busybox:1 >/dev/null
IMAGE_ID=$("${DOCKER[@]}" image inspect --format '{{.Id}}' demo/busybox:1)
"${DOCKER[@]}" run -d --name web --network none --read-only --cap-drop ALL \
  --security-opt no-new-privileges --memory 64m --pids-limit 64 --user 1000:1000 --cgroupns private \
  demo/busybox:1 sleep 100000 >/dev/null
"${DOCKER[@]}" run -d --name debug-shell --network none --cap-add ALL --cap-drop SYS_RESOURCE \
  --security-opt seccomp=unconfined demo/busybox:1 sleep 100000 >/dev/null
"${DOCKER[@]}" ps --format '  {{.Names}}\t{{.Image}}\t{{.Status}}'

# The agent measures the host OS, the runtime binaries it finds running (dockerd,
# containerd, shims) and the copy of runc dockerd uses; it inspects both containers.
cat > "$WORK/agent.yaml" <<EOF
node: $NODE
state_dir: $WORK/agent-state
tpm: {tcti: "$TCTI"}
verifier: {url: "$URL", ca_file: $WORK/tls-ca.pem, firmware_log: "", ima_log: "", interval: 30s}
measure:
  log: $WORK/agent-state/measure.log
  include: [$D/runtime/runc]
  docker_socket: $D/docker.sock
  oci_state_roots: [$D/exec/runtime-bulwark-demo]
  containerd_task_roots: [$D/exec/containerd/daemon/io.containerd.runtime.v2.task]
  systemd: false
inspect:
  enabled: true
  profile: baseline
  profiles_dir: $SRC/profiles
EOF
AGENT=("$BIN/bulwark-agent" --config "$WORK/agent.yaml")
CTL=("$BIN/bulwarkctl" --verifier "$URL" --cacert "$WORK/tls-ca.pem")
export BULWARK_TOKEN="$TOKEN"
api() {  # api TOKEN METHOD PATH [BODY]
  curl -sS --cacert "$WORK/tls-ca.pem" -H "Authorization: Bearer $1" -X "$2" \
    ${4:+-H 'Content-Type: application/json' --data "$4"} "$URL$3"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
EXTENDER_ARGS='{"Pod":{"metadata":{"name":"nginx","namespace":"default"}},"NodeNames":["'$NODE'","ghost-node"]}'
extender() { api "$SCHED_TOKEN" POST /v1/k8s/filter "$EXTENDER_ARGS"; }
node_state() { api "$SCHED_TOKEN" GET "/v1/nodes/$NODE" | json 'd["state"]'; }
accepted() { extender | json '"'$NODE'" in (d.get("NodeNames") or [])' | grep -qx True; }
last_id() { api "$SCHED_TOKEN" GET "/v1/nodes/$NODE" | json '(d["last_appraisal"] or {}).get("id")'; }
appraised_since() { [ "$(last_id)" != "$1" ]; }
refused() { extender | json '"'$NODE'" in (d.get("FailedNodes") or {})' | grep -qx True; }
show_extender() {
  echo "kube-scheduler extender, POST /v1/k8s/filter for [$NODE, ghost-node]:"
  extender | python3 -m json.tool | sed 's/^/  /'
}

step "4. bulwark-agent enroll"
"${AGENT[@]}" enroll

step "5. bulwark-agent attest --once (nothing approved yet: expect a non-affirming verdict)"
set +e
"${AGENT[@]}" attest --once > "$WORK/attest1.out" 2>&1
rc=$?
set -e
tail -n 3 "$WORK/attest1.out"
[ $rc -eq 3 ] || { cat "$WORK/attest1.out"; echo "demo: expected exit 3 (appraised, not affirming), got $rc" >&2; exit 1; }

step "6. operator: learn + approve $NODE's measurements; allow the demo image by digest"
"${CTL[@]}" policy learn "$NODE"
"${CTL[@]}" policy approve --node "$NODE"
"${CTL[@]}" policy image allow-digest "$IMAGE_ID"

BEFORE=$(last_id)
step "7. bulwark-agent run (daemon): attests on every change and every 30 s"
"${AGENT[@]}" run > "$WORK/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=($AGENT_PID)
wait_for 30 appraised_since "$BEFORE" || { echo "no appraisal from the daemon" >&2; exit 1; }
sleep 1
# `bulwarkctl node` exits 1 for a node that is not trusted: expected here.
{ "${CTL[@]}" node "$NODE" || true; } | grep -v '^    debug-shell capability:' | sed 's/^/  /'
echo "state: $(node_state)  (debug-shell violates the 'default' isolation profile)"
show_extender
REPORT_HTML="$OUT_DIR/$NODE.html"
api "$TOKEN" GET "/reports/nodes/$NODE" > "$OUT_DIR/$NODE-untrusted.html"
echo "compliance report while debug-shell runs: $OUT_DIR/$NODE-untrusted.html"

step "8. operator removes debug-shell; the agent's container watch attests at once"
t0=$(now_ms)
"${DOCKER[@]}" rm -f debug-shell >/dev/null
wait_for 30 accepted || { echo "node not accepted after removing debug-shell" >&2; exit 1; }
echo "trusted again after $(( $(now_ms) - t0 )) ms; state: $(node_state)"
show_extender

step "9. tamper with the measured runtime binary $D/runtime/runc"
TIMES=()
for round in $(seq 1 "$ROUNDS"); do
  dt=$(python3 "$SRC/scripts/tamper_probe.py" "$D/runtime/runc" "$URL" "$WORK/tls-ca.pem" \
    "$SCHED_TOKEN" "$NODE" "round-$round") || { echo "node not refused after tampering" >&2; exit 1; }
  TIMES+=($dt)
  echo "round $round: refused by the extender $dt ms after the write"
  [ "$round" -gt 1 ] || show_extender
  # Restoring the file does not erase what PCR 15 recorded this boot: the node
  # stays refused until an operator, having investigated, re-approves it.
  BEFORE=$(last_id)
  cp "$WORK/runc.orig" "$D/runtime/runc"
  wait_for 30 appraised_since "$BEFORE" || { echo "no appraisal after restoring runc" >&2; exit 1; }
  refused || { echo "node accepted right after restore: the tampered digest was forgiven" >&2; exit 1; }
  if [ "$round" = 1 ]; then
    echo "restored: still refused, the modified runc is in this boot's measurement log:"
    api "$SCHED_TOKEN" GET "/v1/nodes/$NODE" | json '"\n".join("  " + r["code"] + ": " + r["detail"] for r in d["reasons"])'
    echo "operator investigates, then: bulwarkctl approve $NODE"
  fi
  t0=$(now_ms)
  "${CTL[@]}" approve "$NODE" | sed 's/^/  /'
  wait_for 30 accepted || { echo "node not accepted after re-approval" >&2; exit 1; }
  echo "round $round: re-approved, accepted again after $(( $(now_ms) - t0 )) ms"
done
MEDIAN=$(printf '%s\n' "${TIMES[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}')
echo "tamper-to-refusal over $ROUNDS round(s): median $MEDIAN ms (all: ${TIMES[*]})"

"${CTL[@]}" node "$NODE" --json > "$OUT_DIR/$NODE.json"
api "$TOKEN" GET "/reports/nodes/$NODE" > "$REPORT_HTML"
api "$TOKEN" GET /reports > "$OUT_DIR/fleet.html"
printf '\ndemo: OK — %s trusted; node report: %s (served at %s/reports/nodes/%s), fleet: %s, JSON: %s\n' \
  "$NODE" "$REPORT_HTML" "$URL" "$NODE" "$OUT_DIR/fleet.html" "$OUT_DIR/$NODE.json"
