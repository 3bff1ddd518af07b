#!/usr/bin/env bash
# Builds Examples/Consumer (a package that depends on BLASNet by path) in
# release mode, runs it, and checks that a shape mismatch in that release
# build dies with a message naming both shapes.
#   --blis   the same on BLASNet's BLIS backend (the consumer enables the
#            BLIS trait), checking that the products run in libblis.
set -euo pipefail
cd "$(dirname "$0")/../Examples/Consumer"
scratch=.build
expected=openblas
if [ "${1:-}" = "--blis" ]; then
  export BLASNET_BACKEND=BLIS
  scratch=.build-blis
  expected=libblis
fi
swift build -c release --scratch-path "$scratch"
out=$("$scratch/release/Consumer")
echo "$out"
if ! grep -q "^BLAS: .*products in .*$expected" <<<"$out"; then
  echo "check-consumer: the products should run in $expected" >&2
  exit 1
fi
if out=$("$scratch/release/Consumer" mismatch 2>&1); then
  echo "check-consumer: the mismatch run should have failed" >&2
  exit 1
fi
if ! grep -q "2×3" <<<"$out" || ! grep -q "4×5" <<<"$out"; then
  echo "check-consumer: the release-build trap message lacks the shapes:" >&2
  echo "$out" >&2
  exit 1
fi
echo "check-consumer: release trap message: $(grep -m1 'matmul' <<<"$out")"
