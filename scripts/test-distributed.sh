#!/usr/bin/env bash
# Builds the Distributed package (blasnet-mpi, on Open MPI) and runs its tests,
# which start blasnet-mpi with mpirun on 1, 2 and 3 processes. Installs Open
# MPI with apt first when it is missing. Arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --mpi
cd Distributed
swift build --build-tests
swift test --skip-build "$@"
