#!/usr/bin/env bash
# Installs OpenBLAS/LAPACKE (and rsvg-convert for the plot test) if missing,
# then runs the whole test suite. Arguments go to `swift test`; with
# `--traits BLIS` (the BLIS backend) BLIS is installed too, e.g.
#   bash scripts/test.sh --traits BLIS --scratch-path .build-blis
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
case " $* " in *BLIS*) extra+=(--blis) ;; esac
bash scripts/ensure-deps.sh --tests "${extra[@]}"
swift test "$@"
