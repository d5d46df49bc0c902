#!/usr/bin/env bash
# Minimal demo (issue 2 level): a private swtpm with EK certificates from a private
# swtpm_localca, an AK enrolled by credential activation, a quote over a fresh nonce,
# verified by Bulwark's verifier core (`bulwarkctl quote verify`). tpm2-tools plays
# the TPM-side tool; `make demo` uses scripts/demo.sh (full agent + verifier flow)
# whenever it is present.
set -euo pipefail
BUILD=${1:-build}
CTL="$(cd "$BUILD" && pwd)/bin/bulwarkctl"
WORK=$(mktemp -d /tmp/bulwark-demo-XXXXXX)
SWTPM_PID=""
cleanup() {
  [ -n "$SWTPM_PID" ] && kill "$SWTPM_PID" 2>/dev/null && wait "$SWTPM_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }

step "Manufacturing a private swtpm (EK certificates from a private CA) in $WORK"
mkdir -p "$WORK/ca" "$WORK/state"
cat > "$WORK/localca.conf" <<CONF
statedir = $WORK/ca
signingkey = $WORK/ca/signkey.pem
issuercert = $WORK/ca/issuercert.pem
certserial = $WORK/ca/certserial
CONF
printf -- '--platform-manufacturer Bulwark\n--platform-version 2.1\n--platform-model swtpm\n' > "$WORK/localca.options"
cat > "$WORK/setup.conf" <<CONF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $WORK/localca.conf
create_certs_tool_options = $WORK/localca.options
CONF
swtpm_setup --tpm2 --tpmstate "$WORK/state" --create-ek-cert --config "$WORK/setup.conf" \
  --pcr-banks sha1,sha256 --logfile "$WORK/setup.log"
PORT=$(python3 -c 'import socket,random
while True:
    p=random.randrange(20000,60000,2); ok=True
    for q in (p,p+1):
        s=socket.socket()
        try: s.bind(("127.0.0.1",q))
        except OSError: ok=False
        s.close()
    if ok: print(p); break')
swtpm socket --tpm2 --tpmstate dir="$WORK/state" --server type=tcp,port=$PORT,bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((PORT+1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
  --log file="$WORK/swtpm.log" &
SWTPM_PID=$!
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$PORT"
for _ in $(seq 100); do tpm2_getcap properties-fixed >/dev/null 2>&1 && break; sleep 0.1; done
cd "$WORK"

step "Reading the EK certificate from NV 0x01c00002 and checking its chain"
tpm2_nvread 0x01c00002 -o ek.der 2>/dev/null
openssl x509 -inform der -in ek.der -out ek.pem
openssl verify -CAfile ca/swtpm-localca-rootca-cert.pem -untrusted ca/issuercert.pem ek.pem

step "Creating EK and a restricted signing AK (RSA-2048, RSASSA-SHA256)"
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
tpm2_flushcontext -t
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name >/dev/null
tpm2_flushcontext -t; tpm2_flushcontext -s

step "Credential activation: the AK is proven to live in the TPM holding this EK"
head -c 32 /dev/urandom > secret.bin
TSS2_LOG=all+none tpm2_makecredential --tcti none -u ek.pub -s secret.bin -n "$(xxd -p -c 256 ak.name)" -o cred.bin >/dev/null
tpm2_startauthsession --policy-session -S session.ctx
tpm2_policysecret -S session.ctx -c e >/dev/null
tpm2_activatecredential -c ak.ctx -C ek.ctx -i cred.bin -o activated.bin -P session:session.ctx >/dev/null
tpm2_flushcontext session.ctx
tpm2_flushcontext -t; tpm2_flushcontext -s
cmp -s secret.bin activated.bin && echo "activated: secret recovered by the TPM"

step "Extending PCR 15, then quoting PCRs 0-7,15 over a fresh 32-byte nonce"
echo "bulwark demo" > measured.txt
tpm2_pcrextend 15:sha256="$(sha256sum measured.txt | cut -d' ' -f1)"
NONCE=$(head -c 32 /dev/urandom | xxd -p -c 64)
tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,15 -q "$NONCE" -m quote.msg -s quote.sig \
  -o quote.pcrs -g sha256 >/dev/null

step "Verifying the quote with Bulwark's verifier core"
"$CTL" quote verify --ak-pub ak.pub --message quote.msg --signature quote.sig \
  --pcrs quote.pcrs --nonce "$NONCE" --pcr-list sha256:0,1,2,3,4,5,6,7,15

step "The same quote with a different nonce (a replay) must be refused"
if "$CTL" quote verify --ak-pub ak.pub --message quote.msg --signature quote.sig \
    --pcrs quote.pcrs --nonce "$(head -c 32 /dev/urandom | xxd -p -c 64)"; then
  echo "demo: replayed quote was accepted — this is a bug" >&2
  exit 1
fi
echo
echo "verdict: quote VERIFIED (fresh nonce), replay REFUSED"
