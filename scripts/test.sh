#!/usr/bin/env bash
# Installs OpenBLAS/LAPACKE if missing, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
swift test "$@"
