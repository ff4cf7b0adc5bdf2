#!/usr/bin/env bash
# Reruns test files N times each to catch a flaky case: each file runs N
# times in a row, stopping at its first failure (whose output is shown); a
# line "FILE: K/N passed" per file at the end, and a non-zero exit when any
# run failed. Build first (npm run build): the integration tests run the
# built CLI in dist/.
#   bash scripts/rerun.sh test/integration/slots.test.ts 50
#   bash scripts/rerun.sh test/integration/*.test.ts 3      # every integration file
set -uo pipefail
if [ $# -lt 2 ] || ! [[ "${!#}" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 FILE [FILE...] N   (N >= 1: runs of each file)" >&2
  exit 2
fi
runs=${!#}
files=("${@:1:$#-1}")
cd "$(dirname "$0")/.."
for file in "${files[@]}"; do
  if [ ! -f "$file" ]; then
    echo "$0: no such test file: $file" >&2
    exit 2
  fi
done
log=$(mktemp "${TMPDIR:-/tmp}/kiso-rerun-XXXXXX.log")
trap 'rm -f "$log"' EXIT
summary=()
failed=0
for file in "${files[@]}"; do
  passed=0
  for ((i = 1; i <= runs; i++)); do
    if node --import tsx --test "$file" >"$log" 2>&1; then
      passed=$((passed + 1))
      echo "$file run $i: pass"
    else
      code=$?
      echo "$file run $i: FAILED (exit $code)"
      cat "$log"
      failed=1
      break
    fi
  done
  summary+=("$file: $passed/$runs passed")
done
printf '%s\n' "${summary[@]}"
exit $failed
