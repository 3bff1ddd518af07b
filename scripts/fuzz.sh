#!/usr/bin/env bash
# Fuzzes the CSV reader, the model-file loader, the .npy reader, the data
# cache's reader, the safetensors, .npz and ONNX importers and the prediction
# service's request decoder (JSON body → records → inputs) with libFuzzer under
# AddressSanitizer: builds the targets in Tests/Fuzz (scratch folder
# .build-fuzz), then runs each for SECONDS (default 60) from the seed corpus
# in Tests/Fuzz/corpus. A crash input is saved under out/ and the script
# fails; `swift run fuzz-csv FILE` (or fuzz-model, fuzz-npy, fuzz-cache, fuzz-safetensors, fuzz-npz, fuzz-onnx, fuzz-request) replays it in a plain build.
#
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-60}"
bash scripts/ensure-deps.sh

for target in fuzz-csv fuzz-model fuzz-npy fuzz-cache fuzz-safetensors fuzz-npz fuzz-onnx fuzz-request; do
  swift build --scratch-path .build-fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product "$target"
done

work="$(mktemp -d)"
# fuzz-cache builds its fixture cache in /tmp/blasnet-fuzz-cache-PID.
trap 'rm -rf "$work" /tmp/blasnet-fuzz-cache-*' EXIT
mkdir -p out
for kind in csv model npy cache safetensors npz onnx request; do
  # libFuzzer adds what it finds to the corpus folder: use a copy.
  cp -r "Tests/Fuzz/corpus/$kind" "$work/$kind"
  echo "== fuzz-$kind for $seconds s"
  status=0
  .build-fuzz/debug/"fuzz-$kind" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=4096 -artifact_prefix="out/fuzz-$kind-" "$work/$kind" >"$work/$kind.log" 2>&1 || status=$?
  grep -E '^(Done [0-9]+ runs|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|Base64)' "$work/$kind.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$work/$kind.log" >&2
    echo "fuzz-$kind found a failing input (exit $status; see out/fuzz-$kind-*)" >&2
    exit 1
  fi
done
