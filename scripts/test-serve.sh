#!/usr/bin/env bash
# Builds the Serve package (blasnet-serve on Hummingbird, blasnet-load) and runs
# its tests, which start the service on free ports of 127.0.0.1. Arguments go to
# `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cd Serve
swift build --build-tests
swift test --skip-build "$@"
