#!/bin/sh
# Installs real tracker client libraries from npm and bundles each into dist/<name>.js (an IIFE that
# sets a global), for the real-tracker tests served by tests/fixtures/npm-site/. Nothing installed
# or built here is committed (see .gitignore): nobody on the project wrote this code.
#
# Usage: tests/npm/setup.sh [--bundle-only]
# Needs node >= 18 and npm, and the npm registry (only when node_modules is missing).
set -eu
cd "$(dirname "$0")"

if [ "${1:-}" != "--bundle-only" ]; then
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
    else
        npm install --no-audit --no-fund --loglevel=error
    fi
fi

mkdir -p dist
for name in posthog mixpanel segment; do
    ./node_modules/.bin/esbuild "entries/$name.js" --bundle --format=iife --platform=browser \
        --target=es2019 --log-level=warning --outfile="dist/$name.js"
done
ls -l dist
