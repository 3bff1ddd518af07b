#!/usr/bin/env bash
# The data path, end to end, against pandas and polars with ONNX Runtime: a model trained on
# the breast-cancer table (the test fixture, 569 rows, 30 numbers, label `malignant`) and
# exported to ONNX; its rows repeated into a CSV file of ROWS rows (default 100,000); then
#   blasnet predict --model m.json --data big.csv --output p.csv    (the whole process)
#   blasnet evaluate --model m.json --data big.csv --bootstrap 0     (the whole process; and with
#                                                    its default 1,000 bootstrap resamples, untimed by the peers)
# each timed REPEATS times (default 5), and Benchmarks/Python/csv_predict_peers.py doing the
# same read, run and write (or score) with pandas and with polars and ONNX Runtime, timed
# inside Python. Prints the best and the median of each, and the ratios of the best times.
# Installs what it needs (.venv-bench with pandas, polars, onnx, onnxruntime) and builds
# the release blasnet when it is missing. Do not run it while another job loads the cores.
#   bash scripts/data-path.sh [ROWS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
repeats="${2:-5}"
bash scripts/ensure-deps.sh --data-path-peers
blasnet=$PWD/.build/release/blasnet
[ -x "$blasnet" ] || swift build -c release --product blasnet
python=$PWD/.venv-bench/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixture=Tests/NeuralNetworkTests/Fixtures/wdbc.csv

"$blasnet" train --quiet --data "$fixture" --label malignant --save "$work/m.json" --plot "$work/m.svg" >/dev/null
"$blasnet" export "$work/m.json" --onnx "$work/m.onnx" >/dev/null
awk -v rows="$rows" 'NR == 1 { print; next } { line[n++] = $0 }
  END { for (i = 0; i < rows; i++) print line[i % n] }' "$fixture" > "$work/big.csv"
echo "data: $rows rows of $fixture ($(wc -c < "$work/big.csv") bytes); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"

# Prints "best median" of `repeats` runs of the command (after one untimed run).
timed() {
  "$@" >/dev/null 2>&1
  local times=()
  for _ in $(seq "$repeats"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ t[NR] = $1 } END { printf "%.3f %.3f\n", t[1], t[int((NR + 1) / 2)] }'
}
read -r predict_best predict_median < <(timed "$blasnet" predict --model "$work/m.json" --data "$work/big.csv" --output "$work/p.csv")
read -r evaluate_best evaluate_median < <(timed "$blasnet" evaluate --model "$work/m.json" --data "$work/big.csv" --bootstrap 0)
read -r bootstrap_best bootstrap_median < <(timed "$blasnet" evaluate --model "$work/m.json" --data "$work/big.csv")
echo "blasnet predict (whole process): best $predict_best s, median $predict_median s over $repeats"
echo "blasnet evaluate --bootstrap 0 (whole process; the peers' work): best $evaluate_best s, median $evaluate_median s over $repeats"
echo "blasnet evaluate (whole process, with its default 1,000 bootstrap resamples): best $bootstrap_best s, median $bootstrap_median s over $repeats"
"$python" Benchmarks/Python/csv_predict_peers.py "$work/m.onnx" "$work/big.csv" "$work" --repeats "$repeats" \
  --label malignant | tee "$work/peers.txt"
# The peers wrote the same classes as blasnet predict.
classes() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "class") k = i; next } { print $k }' "$1"; }
classes "$work/p.csv" > "$work/blasnet-classes"
for peer in pandas polars; do
  classes "$work/$peer.csv" | cmp -s - "$work/blasnet-classes" ||
    echo "warning: $peer's classes differ from blasnet predict's" >&2
done
awk -v p="$predict_best" -v e="$evaluate_best" '
  / predict: best / { split($0, a, "best "); split(a[2], b, " "); printf "%s: blasnet predict is %.2f× faster\n", $1, b[1] / p }
  / evaluate: best / { split($0, a, "best "); split(a[2], b, " "); printf "%s: blasnet evaluate --bootstrap 0 is %.2f× faster\n", $1, b[1] / e }
' "$work/peers.txt"
