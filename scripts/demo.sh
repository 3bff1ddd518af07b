#!/usr/bin/env bash
# Installs OpenBLAS/LAPACKE if missing, then runs the main job: train a
# breast-cancer diagnosis network on the built-in data set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift run -c release blasnet train "$@"
