#!/usr/bin/env bash
# Reruns one test file N times to catch a flaky case: stops at the first
# failure (its output is shown), prints "K/N passed" at the end and exits
# non-zero when a run failed. Build first (npm run build): the integration
# tests run the built CLI in dist/.
#   bash scripts/rerun.sh test/integration/slots.test.ts 50
set -uo pipefail
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 FILE N   (N >= 1)" >&2
  exit 2
fi
file=$1
runs=$2
cd "$(dirname "$0")/.."
if [ ! -f "$file" ]; then
  echo "$0: no such test file: $file" >&2
  exit 2
fi
log=$(mktemp "${TMPDIR:-/tmp}/kiso-rerun-XXXXXX.log")
trap 'rm -f "$log"' EXIT
passed=0
for ((i = 1; i <= runs; i++)); do
  if node --import tsx --test "$file" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "run $i: pass"
  else
    code=$?
    echo "run $i: FAILED (exit $code)"
    cat "$log"
    echo "$passed/$runs passed"
    exit 1
  fi
done
echo "$passed/$runs passed"
