#!/usr/bin/env bash
# Checks `blasnet export --onnx` against ONNX Runtime: trains ten models on the
# example tables (two classes with a categorical column and missing values, three
# classes, a regression, Platt- and temperature-calibrated models of one network, the
# others ensembles of two (the default; a Mean of two chains), two with other
# piecewise-linear encodings of their numbers (--bins), one whose text column has missing values,
# and two whose text column has an input for its other categories (--max-categories 2), with and
# without missing indicators), exports each
# (the first twice: folded, and with --standardization-nodes), and runs Benchmarks/Python/onnx_check.py, which feeds the raw CSV rows to the
# exported graph in ONNX Runtime (PyPI, in .venv-bench) and compares its outputs with
# `blasnet predict` on the same rows: the same classes, and probabilities or values
# within 1e-5 relative. First, Benchmarks/Python/interchange_check.py imports every weights
# fixture (safetensors, .npz, ONNX from skl2onnx and a torch-style graph) and checks its
# outputs on 1,000 rows within 1e-5 relative. Uses the release build of blasnet (built
# first when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --inference-peers
blasnet=.build/release/blasnet
[ -x "$blasnet" ] || swift build -c release --product blasnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$PWD
tables=$root/Examples/tables
clinical=$root/Examples/clinical
echo "== the interchange fixtures, imported"
python3 Benchmarks/Python/interchange_check.py "$root/$blasnet"
check() {
  local name=$1 data=$2
  shift 2
  (cd "$work" && "$root/$blasnet" train --quiet --save "$name.json" --plot "$name.svg" "$@" >/dev/null &&
    "$root/$blasnet" export "$name.json" --onnx "$name.onnx" >/dev/null &&
    "$root/$blasnet" predict --model "$name.json" --data "$data" --output "$name.csv" 2>/dev/null)
  echo "== $name"
  "$root/.venv-bench/bin/python" "$root/Benchmarks/Python/onnx_check.py" "$work/$name.onnx" "$data" "$work/$name.csv"
}
check clinical "$clinical/breast-masses.csv" --data "$clinical/breast-masses.csv" --label diagnosis \
  --ignore patient_id --missing mean
(cd "$work" && "$root/$blasnet" predict --model clinical.json --data "$clinical/new-patients.csv" \
  --output new.csv 2>/dev/null)
echo "== clinical, new patients (a missing value, filled in the graph)"
.venv-bench/bin/python Benchmarks/Python/onnx_check.py "$work/clinical.onnx" "$clinical/new-patients.csv" "$work/new.csv"
(cd "$work" && "$root/$blasnet" export clinical.json --onnx nodes.onnx --standardization-nodes >/dev/null)
echo "== clinical, the standardisation in Sub and Div nodes"
.venv-bench/bin/python Benchmarks/Python/onnx_check.py "$work/nodes.onnx" "$clinical/breast-masses.csv" "$work/clinical.csv"
check iris "$tables/iris.csv" --data "$tables/iris.csv"
check diabetes "$tables/diabetes.csv" --data "$tables/diabetes.csv" --task regression
check platt "$clinical/breast-masses.csv" --data "$clinical/breast-masses.csv" --label diagnosis \
  --ignore patient_id --missing mean --calibrate platt --ensemble 1
check temperature "$tables/wine.csv" --data "$tables/wine.csv" --calibrate temperature --ensemble 1
check bins "$clinical/breast-masses.csv" --data "$clinical/breast-masses.csv" --label diagnosis \
  --ignore patient_id --bins 8
# Without the piecewise-linear encoding (on by default): the standardisation folded into the first Gemm.
check no-bins "$clinical/breast-masses.csv" --data "$clinical/breast-masses.csv" --label diagnosis \
  --ignore patient_id --missing mean --bins 0
# A text column with missing values in several spellings (empty, na, NULL, N/a): missing is a
# category of its own (a missing indicator after size_band's categories), in the graph as a
# second OneHotEncoder over every case of the markers.
awk -F, -v OFS=, 'NR > 1 && NR % 7 == 0 { $3 = "" } NR > 1 && NR % 11 == 0 { $3 = "na" }
  NR > 1 && NR % 13 == 0 { $3 = "NULL" } NR > 1 && NR % 17 == 0 { $3 = "N/a" } { print }' \
  "$clinical/breast-masses.csv" > "$work/gaps-in-text.csv"
check text-gaps "$work/gaps-in-text.csv" --data "$work/gaps-in-text.csv" --label diagnosis --ignore patient_id
# Past --max-categories: size_band's most frequent two categories, then one input for the others
# (1 − the kept ones − missing in the graph), with its gaps too.
check other-categories "$work/gaps-in-text.csv" --data "$work/gaps-in-text.csv" --label diagnosis \
  --ignore patient_id --max-categories 2
# The same without missing indicators: a missing size_band is no category, and not one of the others.
check other-no-indicators "$work/gaps-in-text.csv" --data "$work/gaps-in-text.csv" --label diagnosis \
  --ignore patient_id --max-categories 2 --no-missing-indicators
# Imported back: BLASNet's own exports with missing indicators of numbers (clinical) and of
# text (text-gaps), and with the other categories' input, predict as the models they came from.
for name in clinical text-gaps other-categories other-no-indicators; do
  data="$clinical/breast-masses.csv"
  [ "$name" != clinical ] && data="$work/gaps-in-text.csv"
  (cd "$work" && "$root/$blasnet" import "$name.onnx" --save "$name-back.json" >/dev/null &&
    "$root/$blasnet" predict --model "$name-back.json" --data "$data" --output "$name-back.csv" 2>/dev/null)
  echo "== $name, imported back from ONNX"
  python3 - "$work/$name.csv" "$work/$name-back.csv" <<'PY'
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
assert len(a) == len(b) > 0, (len(a), len(b))
worst = 0.0
for x, y in zip(a, b):
    assert x["class"] == y["class"], (x, y)
    p, q = float(x["probability"]), float(y["probability"])
    worst = max(worst, abs(p - q) / max(abs(p), 1e-30))
assert worst < 1e-5, worst
print(f"{len(a)} rows: the same classes, probabilities within {worst:.1e} relative")
PY
done
