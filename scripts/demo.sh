#!/usr/bin/env bash
# End-to-end demo on this machine (`make demo` runs `./scripts/demo.sh build`):
#   1. a private swtpm with EK certificates from a private swtpm_localca CA
#   2. bulwark-verifier: TLS certificate from openssl, SQLite, EK CA = that swtpm CA,
#      auto-approved enrollment
#   3. bulwark-agent enroll              (EK cert, AK credential activation, mTLS cert)
#   4. bulwark-agent attest --once       (measured, quoted, appraised: no reference values
#                                         yet, so "measurement-unknown")
#   5. bulwarkctl policy learn + approve (the operator accepts this node's measurements)
#   6. bulwark-agent attest --once       -> affirming
#   7. GET /v1/nodes/NAME saved to a file whose path is printed
# Everything started here is stopped on exit; the script fails if any step fails.
set -euo pipefail

BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)/bin
NODE=demo-node
TOKEN="demo-admin-$RANDOM$RANDOM"
OUT_DIR=$(cd "$BUILD" && pwd)/demo
mkdir -p "$OUT_DIR"

for b in bulwark-verifier bulwark-agent bulwarkctl; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b missing: run 'make build' first" >&2; exit 1; }
done
for t in swtpm swtpm_setup swtpm_localca openssl python3; do
  command -v "$t" >/dev/null || { echo "demo: $t not installed: run 'make deps'" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/bulwark-demo.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "demo: FAILED (exit $rc); logs:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

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
    sleep 0.1
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
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat > "$WORK/verifier.yaml" <<EOF
listen: {address: 127.0.0.1, port: 0}
tls: {cert: $WORK/server.pem, key: $WORK/server.key}
agent_ca: {cert: $WORK/agent-ca.pem, key: $WORK/agent-ca.key, validity: 1d}
tokens: [{name: demo-admin, role: admin, sha256: $TOKEN_SHA}]
database: {sqlite: $WORK/verifier.db}
verifier_key: $WORK/ear-key.pem
freshness_ttl: 10m
enrollment:
  ek_ca: [$WORK/ca/swtpm-localca-rootca-cert.pem]
  ek_intermediates: [$WORK/ca/issuercert.pem]
  auto_approve: true
appraisal: {pcr_bank: sha256}
EOF
"$BIN/bulwark-verifier" --config "$WORK/verifier.yaml" > "$WORK/verifier.log" 2>&1 &
PIDS+=($!)
wait_for 20 grep -q '"msg":"listening"' "$WORK/verifier.log" || { echo "verifier did not start" >&2; exit 1; }
VPORT=$(grep -o '"msg":"listening".*' "$WORK/verifier.log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2)
URL="https://127.0.0.1:$VPORT"
echo "verifier at $URL"

# The agent measures the host OS (os-release, cmdline, kernel, modules) and one
# configuration file; runtime discovery is narrowed to keep the demo independent of
# whatever daemons this machine runs.
echo "log_level = info" > "$WORK/demo-app.conf"
cat > "$WORK/agent.yaml" <<EOF
node: $NODE
state_dir: $WORK/agent-state
tpm: {tcti: "$TCTI"}
verifier: {url: "$URL", ca_file: $WORK/tls-ca.pem, firmware_log: "", ima_log: ""}
measure:
  log: $WORK/agent-state/measure.log
  include: [$WORK/demo-app.conf]
  runtime_binaries: [no-such-runtime]
  docker_socket: ""
  oci_state_roots: []
  containerd_task_roots: []
  systemd: false
EOF
AGENT=("$BIN/bulwark-agent" --config "$WORK/agent.yaml")
CTL=("$BIN/bulwarkctl" --verifier "$URL" --cacert "$WORK/tls-ca.pem")
export BULWARK_TOKEN="$TOKEN"

step "3. bulwark-agent enroll"
"${AGENT[@]}" enroll

step "4. bulwark-agent attest --once (nothing approved yet: expect a non-affirming verdict)"
set +e
"${AGENT[@]}" attest --once
rc=$?
set -e
[ $rc -eq 3 ] || { echo "demo: expected exit 3 (appraised, not affirming), got $rc" >&2; exit 1; }

step "5. operator: bulwarkctl policy learn $NODE && bulwarkctl policy approve --node $NODE"
"${CTL[@]}" policy learn "$NODE"
"${CTL[@]}" policy approve --node "$NODE"

step "6. bulwark-agent attest --once"
"${AGENT[@]}" attest --once

step "7. the verifier's view of $NODE"
REPORT="$OUT_DIR/$NODE.json"
"${CTL[@]}" node "$NODE" --json > "$REPORT"
"${CTL[@]}" node "$NODE"
printf '\ndemo: OK — %s is trusted; node report (GET /v1/nodes/%s): %s\n' "$NODE" "$NODE" "$REPORT"
