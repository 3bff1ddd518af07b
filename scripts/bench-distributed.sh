#!/usr/bin/env bash
# Measures data-parallel training on this machine for Distributed/README.md:
# one epoch of the wide network over ROWS generated examples (default 10^6,
# a 3.1 GB .npy file in the temporary folder, made once), as 1 process × 2
# OpenBLAS threads and as 2 MPI processes × 1 thread each, alternately,
# ROUNDS times (default 3).
#   bash scripts/bench-distributed.sh [ROUNDS] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
rows="${2:-1000000}"
bash scripts/ensure-deps.sh --mpi
(cd Distributed && swift build -c release --product blasnet-mpi-bench >&2)
bench=Distributed/.build/release/blasnet-mpi-bench
as_root=()
[ "$(id -u)" -eq 0 ] && as_root=(--allow-run-as-root)
for round in $(seq 1 "$rounds"); do
  echo "== round $round: 1 process × 2 threads"
  # --bind-to none: Open MPI binds a process to one core by default, and
  # OpenBLAS then starts one thread only.
  OPENBLAS_NUM_THREADS=2 mpirun "${as_root[@]}" --bind-to none -np 1 -x OPENBLAS_NUM_THREADS "$bench" --rows "$rows"
  echo "== round $round: 2 processes × 1 thread"
  OPENBLAS_NUM_THREADS=1 mpirun "${as_root[@]}" -np 2 -x OPENBLAS_NUM_THREADS "$bench" --rows "$rows"
done
