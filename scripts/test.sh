#!/usr/bin/env bash
# The one test command (README, .ci/run): installs the real peers, builds,
# runs every unit and integration test with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run build
shopt -s nullglob
files=(test/unit/*.test.ts test/integration/*.test.ts test/peers/*.test.ts)
exec node --import tsx --test --test-reporter=spec "${files[@]}"
