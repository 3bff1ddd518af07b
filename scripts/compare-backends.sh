#!/usr/bin/env bash
# Builds blasnet-bench on both backends (OpenBLAS, the default, and BLIS, the
# BLIS trait), runs them in alternation ROUNDS times (default 3) with the
# NumPy reference when python3 has numpy, and prints one table: per network
# and backend the median iteration, its products alone, GFLOP/s, the share of
# the measured FMA peak and NumPy's iteration from the same runs.
#   bash scripts/compare-backends.sh [ROUNDS] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
bash scripts/ensure-deps.sh --blis
swift build -c release --product blasnet-bench >&2
swift build -c release --product blasnet-bench --traits BLIS --scratch-path .build-blis >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
files=()
for r in $(seq 1 "$rounds"); do
  for backend in openblas blis; do
    bin=.build/release/blasnet-bench
    [ "$backend" = blis ] && bin=.build-blis/release/blasnet-bench
    echo "round $r/$rounds: $backend" >&2
    "$bin" --no-naive "$@" --json "$out/$backend-$r.json" --svg "$out/$backend-$r.svg" >/dev/null
    files+=("$out/$backend-$r.json")
  done
done
.build/release/blasnet-bench --side-by-side "${files[@]}"
