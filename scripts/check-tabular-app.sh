#!/usr/bin/env bash
# Builds Examples/TabularApp (a package that depends on BLASNet by path and
# uses only its Tabular library) in release mode, runs it, and checks what it
# printed: it trained on the clinical CSV, saved and loaded the model,
# predicted a record built in code, and got a typed error for a bad one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cd Examples/TabularApp
swift build -c release
out=$(.build/release/TabularApp)
echo "$out"
expect() {
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "check-tabular-app: expected a line with: $1" >&2
    exit 1
  fi
}
expect "trained: Network [155 → 100 ReLU → 1 sigmoid], "
expect "loaded: classes [\"B\", \"M\"], threshold"
expect "record 1: M (p(M) = "
expect "record 2: record 0, \"size_band\": category \"enormous\" was not seen in training; the categories are \"large\", \"medium\", \"small\""
echo "check-tabular-app: trained, saved, loaded and predicted with the library alone"
