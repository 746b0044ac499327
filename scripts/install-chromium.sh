#!/usr/bin/env bash
# Installs Debian's/Ubuntu's Chromium package if no Chromium is found. Never downloads a browser
# build of its own: the OS package is the only source.
set -euo pipefail
for p in "${LEAKHOUND_CHROMIUM:-}" /usr/lib/chromium/chromium /usr/lib/chromium-browser/chromium-browser /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n "$p" && -x "$p" ]]; then
    echo "chromium: $p"
    exit 0
  fi
done
echo "Chromium not found; installing the OS package (apt-get install chromium)..."
SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null \
  || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium-browser >/dev/null
