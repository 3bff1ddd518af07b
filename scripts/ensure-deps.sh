#!/usr/bin/env bash
# Installs what BLASNet links against (OpenBLAS, LAPACKE, pkg-config) with apt,
# but only when it is missing. Uses sudo when not run as root.
set -euo pipefail

have_deps() {
  command -v pkg-config >/dev/null 2>&1 &&
    pkg-config --exists openblas lapacke 2>/dev/null &&
    [ -e /usr/include/lapacke.h ]
}

if have_deps; then
  exit 0
fi

echo "BLASNet: installing libopenblas-dev liblapacke-dev pkg-config with apt-get ..." >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "BLASNet: not root and no sudo; please install libopenblas-dev liblapacke-dev pkg-config yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq libopenblas-dev liblapacke-dev pkg-config >/dev/null
have_deps || { echo "BLASNet: OpenBLAS/LAPACKE still not found after apt-get install" >&2; exit 1; }
