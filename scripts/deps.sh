#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Idempotent: packages already present are skipped without touching apt.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-tidy clang-format
  # libraries
  libssl-dev libtss2-dev libseccomp-dev libsystemd-dev
  protobuf-compiler libprotobuf-dev libboost-dev libboost-system-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libsqlite3-dev libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libarchive-dev rpm  # package reference values (libarchive reads .deb/.rpm; rpmbuild makes test .rpms)
  # TPM: emulator with local CA, and tpm2-tools as an independent peer
  swtpm swtpm-tools tpm2-tools
  # test peers
  openssl dbus xxd curl python3-jwt python3-cryptography
  # PostgreSQL server for the store suite (tests/support/postgres.h runs a private one)
  postgresql
  # real container runtimes for the measurement/isolation suites (tests/support/dockerd.h)
  docker.io runc busybox-static
  # Slurm suite (tests/support/slurm.h runs a private munged + slurmctld + slurmd)
  slurmctld slurmd slurm-client munge
  # headless browser that renders the compliance report pages (tests/integration/report_chromium_test.cc)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
