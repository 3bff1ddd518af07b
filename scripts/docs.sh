#!/usr/bin/env bash
# Builds the DocC documentation of LinearAlgebra, NeuralNetwork, Tabular and TabularONNX offline with
# swift-docc-plugin (a dependency of the root package only, never of the
# libraries). Warnings are errors, so a broken symbol link fails the build.
# The archives land in .build/plugins/Swift-DocC/outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
for target in LinearAlgebra NeuralNetwork Tabular TabularONNX; do
  swift package generate-documentation --target "$target" --warnings-as-errors "$@"
done
ls -d .build/plugins/Swift-DocC/outputs/*.doccarchive
