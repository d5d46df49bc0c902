#!/bin/sh
# Regenerates the quote fixtures in this directory with tpm2-tools against a
# running TPM (swtpm). Usage:
#   TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=P ./generate.sh [OUTDIR]
# See README.md for how the swtpm used for the committed fixtures was made.
set -eu
out=${1:-$(dirname "$0")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Fixed qualifying data (what the verifier's nonce binding yields; any 32 bytes).
nonce=5c0a3ad07d8e7f5a4b2f1e6c9d3b8a71e2f4c6a8b0d2e4f60718293a4b5c6d7e
echo "$nonce" > "$out/nonce.hex"

# Non-trivial PCR contents: extend PCRs 0-2 in both banks.
for i in 0 1 2; do
  echo "bulwark fixture pcr $i" > ev$i
  tpm2_pcrevent "$i" ev$i > /dev/null
done

# A restricted signing key only signs with its own scheme, so tpm2_quote gets it
# explicitly (its default is rsassa for any RSA key).
# name  ek-alg  ak-alg  ak-hash  ak-scheme  pcr-list
make_quote() {
  name=$1 ekalg=$2 akalg=$3 akhash=$4 scheme=$5 list=$6
  tpm2_createek -c ek.ctx -G "$ekalg" -u "$out/$name.ek.pub" > /dev/null
  flush
  tpm2_createak -C ek.ctx -c ak.ctx -G "$akalg" -g "$akhash" -s "$scheme" \
    -u "$out/$name.ak.pub" -n ak.name > /dev/null
  flush
  tpm2_readpublic -c ak.ctx -f pem -o "$out/$name.ak.pem" > /dev/null
  tpm2_quote -c ak.ctx -l "$list" -q "$nonce" \
    -m "$out/$name.msg" -s "$out/$name.sig" -o "$out/$name.pcrs" -g "$akhash" --scheme "$scheme" > /dev/null
  flush
}

# swtpm holds only three transient objects: flush after every tool that loads one.
flush() { tpm2_flushcontext -t; tpm2_flushcontext -s; }

flush
make_quote rsa      rsa rsa sha256 rsassa sha256:0,1,2
make_quote rsapss   rsa rsa sha256 rsapss sha256:0,1,2
make_quote ecc      ecc ecc sha256 ecdsa  sha256:0,1,2
make_quote ecc_multibank ecc ecc sha256 ecdsa sha1:0,1+sha256:0,1,2,7
make_quote rsa_sha1 rsa rsa sha1   rsassa sha256:0,1,2
