#!/bin/sh
# Tamper-to-refusal (issue 6): the demo's full stack (swtpm, verifier on SQLite, a
# private dockerd, `bulwark-agent run` with default settings, i.e. 500 ms debounce).
# A measured runtime binary is modified and the time until the kube-scheduler
# extender lists the node in FailedNodes is taken; it is restored between rounds. Prints every round and the median.
#   usage: scripts/bench-tamper.sh [BUILD_DIR] [ROUNDS]   (default: build, 15)
set -eu
build=${1:-build}
DEMO_TAMPER_ROUNDS=${2:-15} exec "$(dirname "$0")/demo.sh" "$build"
