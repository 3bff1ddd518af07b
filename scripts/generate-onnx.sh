#!/usr/bin/env bash
# Regenerates Sources/TabularONNX/Generated/onnx-ml.pb.swift, the Swift types of
# ONNX's protobuf schema, which is committed: swift-protobuf's plugin takes
# minutes to build, too long for CI. Run it after changing the ONNX or
# swift-protobuf version; it needs network access to Debian and PyPI.
#
#   - the schema: onnx-ml.proto from the onnx wheel (1.23.2) in .venv-bench
#     (bash scripts/ensure-deps.sh --inference-peers makes it);
#   - protoc from Debian's protobuf-compiler;
#   - protoc-gen-swift built from swift-protobuf 1.39.0, the version Package.swift
#     depends on (from the package mirror or GitHub), in a temporary folder.
#
#   bash scripts/generate-onnx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/ensure-deps.sh --inference-peers
command -v protoc >/dev/null 2>&1 || {
  SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  "${SUDO[@]}" apt-get install -y -qq protobuf-compiler >/dev/null
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$work/swift-protobuf"
swift build -c release --package-path "$work/swift-protobuf" --product protoc-gen-swift
schema="$(.venv-bench/bin/python -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')/onnx-ml.proto"
cp "$schema" "$work/onnx-ml.proto"
(cd "$work" && protoc --plugin="$work/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Internal --swift_out=. onnx-ml.proto)
out=Sources/TabularONNX/Generated/onnx-ml.pb.swift
# The plugin marks the file "// swift-format-ignore-file": the lint skips it.
cp "$work/onnx-ml.pb.swift" "$out"
echo "wrote $out from $schema"
