#!/usr/bin/env bash
# Installs what BLASNet links against (OpenBLAS, LAPACKE, libxsmm, zlib, pkg-config) with apt,
# but only when it is missing. Uses sudo when not run as root.
#   --tests   also what the test suite uses: rsvg-convert (librsvg2-bin), which
#             renders the SVG plots to PNG in a test.
#   --blis    also BLIS with OpenMP threads (libblis-openmp-dev), for builds
#             with the BLIS trait (`swift build --traits BLIS`).
#   --mpi     also Open MPI (libopenmpi-dev, openmpi-bin), for the Distributed/
#             package and its blasnet-mpi (`mpirun -np N blasnet-mpi train`).
#   --inference-peers
#             also a Python virtual environment, .venv-bench, with NumPy, onnx and
#             ONNX Runtime from PyPI, the peers of `blasnet-bench --inference`.
#             (PyTorch from PyPI needs its CUDA libraries, gigabytes, even on a CPU:
#             install a CPU build into .venv-bench yourself to time it too.)
#   --report  also headless Chromium (Debian's chromium) and python3, which
#             scripts/check-report.sh uses to render the HTML reports.
#   --evaluation-peers
#             also scikit-learn, NumPy and pandas in .venv-bench, the peers of
#             `blasnet-bench --defaults` and `--tables` (Benchmarks/Python/sklearn_defaults.py,
#             Benchmarks/Python/sklearn_table_peers.py).
#   --data-path-peers
#             also pandas, polars, NumPy, onnx and ONNX Runtime in .venv-bench, the
#             peers of scripts/data-path.sh (Benchmarks/Python/csv_predict_peers.py).
#   --interchange-peers
#             also what Benchmarks/Python/interchange_fixtures.py makes the committed
#             fixtures with: NumPy, onnx, ONNX Runtime, scikit-learn, skl2onnx and
#             safetensors in .venv-bench (PyTorch, for its optional part, as above).
set -euo pipefail
cd "$(dirname "$0")/.."

peers=false
evaluation_peers=false
interchange_peers=false
data_path_peers=false
packages=()
if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas lapacke 2>/dev/null &&
  [ -e /usr/include/lapacke.h ]; }; then
  packages+=(libopenblas-dev liblapacke-dev pkg-config)
fi
[ -e /usr/include/zlib.h ] || packages+=(zlib1g-dev)
# libxsmm for small products (the XSMM trait, on by default): x86_64 only in Debian 12.
if [ "$(uname -m)" = x86_64 ] && [ ! -e /usr/include/libxsmm.h ]; then
  packages+=(libxsmm-dev)
fi
for option in "$@"; do
  case "$option" in
    --tests) command -v rsvg-convert >/dev/null 2>&1 || packages+=(librsvg2-bin) ;;
    --blis) [ -e /usr/include/x86_64-linux-gnu/blis-openmp/cblas.h ] ||
      [ -e /usr/include/aarch64-linux-gnu/blis-openmp/cblas.h ] || packages+=(libblis-openmp-dev) ;;
    --mpi) { command -v mpirun >/dev/null 2>&1 && pkg-config --exists ompi-c 2>/dev/null; } ||
      packages+=(libopenmpi-dev openmpi-bin) ;;
    --inference-peers) peers=true ;;
    --evaluation-peers) evaluation_peers=true ;;
    --data-path-peers) peers=true; data_path_peers=true ;;
    --interchange-peers) peers=true; evaluation_peers=true; interchange_peers=true ;;
    --report)
      command -v chromium >/dev/null 2>&1 || packages+=(chromium)
      command -v python3 >/dev/null 2>&1 || packages+=(python3)
      ;;
    *) echo "ensure-deps.sh: unknown option $option (known: --tests, --blis, --mpi, --inference-peers, --evaluation-peers, --data-path-peers, --interchange-peers, --report)" >&2; exit 2 ;;
  esac
done

if $peers && ! .venv-bench/bin/python -c "import numpy, onnx, onnxruntime" >/dev/null 2>&1; then
  echo "BLASNet: making .venv-bench with numpy, onnx and onnxruntime (pip) ..." >&2
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0
fi

if $evaluation_peers && ! .venv-bench/bin/python -c "import numpy, sklearn, pandas" >/dev/null 2>&1; then
  echo "BLASNet: adding numpy, scikit-learn and pandas to .venv-bench (pip) ..." >&2
  [ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q numpy==2.4.6 scikit-learn==1.9.1 pandas==3.1.1
fi

if $data_path_peers && ! .venv-bench/bin/python -c "import pandas, polars" >/dev/null 2>&1; then
  echo "BLASNet: adding pandas and polars to .venv-bench (pip) ..." >&2
  .venv-bench/bin/pip install -q pandas==3.1.1 polars==2.1.0
fi

if $interchange_peers && ! .venv-bench/bin/python -c "import skl2onnx, safetensors" >/dev/null 2>&1; then
  echo "BLASNet: adding skl2onnx and safetensors to .venv-bench (pip) ..." >&2
  .venv-bench/bin/pip install -q skl2onnx==1.20.0 safetensors==0.8.0
fi

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

echo "BLASNet: installing ${packages[*]} with apt-get ..." >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "BLASNet: not root and no sudo; please install ${packages[*]} yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
pkg-config --exists openblas lapacke 2>/dev/null ||
  { echo "BLASNet: OpenBLAS/LAPACKE still not found after apt-get install" >&2; exit 1; }
