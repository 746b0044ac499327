#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for a bounded time each, starting from the committed
# seed corpora in fuzz/corpus/. New inputs go to a scratch folder, never into the repository.
#
#   bash scripts/fuzz.sh            # 20 s per target (what the test suite runs)
#   bash scripts/fuzz.sh 3600       # an hour per target
#   bash scripts/fuzz.sh 600 mask   # ten minutes, one target
#
# A crash stops the run with the crashing input saved under fuzz/artifacts/TARGET/; turn it into a
# regression test beside the code it broke (docs/fuzzing.md). Needs the nightly toolchain (present
# on the development and CI machines) and cargo-fuzz (installed from crates.io if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-20}"
ONLY="${2:-}"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is not installed; skipping fuzzing (rustup toolchain install nightly)" >&2
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io..."
  cargo install cargo-fuzz --locked --quiet
fi
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
cd fuzz
TARGETS=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^leakhound-fuzz$')
cargo +nightly fuzz build --sanitizer none >/dev/null
for t in $TARGETS; do
  [[ -n "$ONLY" && "$t" != "$ONLY" ]] && continue
  mkdir -p "$SCRATCH/$t" "corpus/$t"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
  if ! cargo +nightly fuzz run --sanitizer none "$t" "$SCRATCH/$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 >"$SCRATCH/$t.log" 2>&1; then
    tail -40 "$SCRATCH/$t.log" >&2
    echo "fuzz: $t found a crash; the input is saved in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E "^#[0-9]+ +DONE" "$SCRATCH/$t.log" | tail -1 || true
done
echo "fuzz: all targets ran without a crash"
