#!/usr/bin/env bash
# The load test of blasnet-serve, on this machine only: trains the clinical
# example model, starts blasnet-serve (release) on a free port of 127.0.0.1,
# runs blasnet-load with 1, 16 and 64 clients, single-record and 256-record
# requests, prints one line per run, then stops the service with SIGTERM.
# Every run is bounded (REQUESTS requests, at most 120 s).
#   bash scripts/load-test.sh [REQUESTS]        (default 100000 per single-record run)
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-100000}"
bash scripts/ensure-deps.sh
swift build -c release --product blasnet
(cd Serve && swift build -c release --product blasnet-serve && swift build -c release --product blasnet-load)
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
.build/release/blasnet train --data Examples/clinical/breast-masses.csv --label diagnosis --ignore patient_id \
  --missing mean --epochs 50 --quiet --save "$work/model.json" --plot "$work/cost.svg" >/dev/null
# The request bodies: the first new patient as one record, and 256 of them.
python3 - "$work" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open("Examples/clinical/new-patients.csv")))
record = {k: v for k, v in rows[0].items() if k != "patient_id"}
json.dump(record, open(sys.argv[1] + "/one.json", "w"))
json.dump({"records": [{k: v for k, v in rows[i % len(rows)].items() if k != "patient_id"} for i in range(256)]},
          open(sys.argv[1] + "/batch.json", "w"))
PY
Serve/.build/release/blasnet-serve "$work/model.json" --port 0 --unseen-as-none >"$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/serve.log" | grep -o '[0-9]*$' || true)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; echo "blasnet-serve did not start" >&2; exit 1; }
echo "blasnet-serve on 127.0.0.1:$port, CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
status=0
for clients in 1 16 64; do
  Serve/.build/release/blasnet-load --port "$port" --body "$work/one.json" --records 1 --clients "$clients" \
    --requests "$requests" --seconds 120 || status=1
  Serve/.build/release/blasnet-load --port "$port" --body "$work/batch.json" --records 256 --clients "$clients" \
    --requests $((requests / 20)) --seconds 120 || status=1
done
curl -s "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -E '^blasnet_(requests|request_errors|predictions)_total|^blasnet_batch_(examples|requests)_(sum|count)' || true
exit $status
