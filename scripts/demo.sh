#!/usr/bin/env bash
# One command for the demo: installs Chromium if missing, builds leakhound, replays the bundled demo
# hospital's journeys offline and writes the reports to leakhound-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-chromium.sh
cargo run --quiet -- demo "$@"
