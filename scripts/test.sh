#!/usr/bin/env bash
# Installs OpenBLAS/LAPACKE (and rsvg-convert for the plot test) if missing, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --tests
swift test "$@"
