#!/usr/bin/env bash
# Renders the HTML reports of `blasnet train|cv|explain --report` in headless
# Chromium (Debian's chromium, installed by scripts/ensure-deps.sh --report) and
# checks each: the page is self-contained (no script, nothing fetched), it opens
# with no console message, and its screenshot is not blank (python3 decodes the
# PNG and counts the pixels that are not white). Uses the release build of
# blasnet (built first when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --report
blasnet=.build/release/blasnet
[ -x "$blasnet" ] || swift build -c release --product blasnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tables=$PWD/Examples/tables
root=$PWD
run() { (cd "$work" && "$root/$blasnet" "$@" >/dev/null); }
run train --quiet --save m1.json --plot c1.svg --report train-binary.html
run train --quiet --data "$tables/iris.csv" --save m2.json --plot c2.svg --report train-classes.html
run train --quiet --data "$tables/diabetes.csv" --task regression --save m3.json --plot c3.svg --report train-regression.html
run cv --data "$tables/wine.csv" --folds 4 --report cv.html
run explain m3.json --data "$tables/diabetes.csv" --repeats 2 --report explain.html
status=0
for page in "$work"/*.html; do
  name=$(basename "$page")
  if grep -qiE '<script|<link|<iframe|src="https?:|href="https?:|url\(' "$page"; then
    echo "check-report: $name is not self-contained (a script or an outside resource)" >&2
    status=1
  fi
  log="$work/$name.log"
  png="$work/$name.png"
  if ! timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,2600 \
    --enable-logging=stderr --v=0 --screenshot="$png" "file://$page" >"$log" 2>&1; then
    echo "check-report: chromium failed on $name:" >&2
    tail -5 "$log" >&2
    status=1
    continue
  fi
  if grep -q ':CONSOLE' "$log"; then
    echo "check-report: $name logged to the console:" >&2
    grep ':CONSOLE' "$log" >&2
    status=1
  fi
  if ! python3 - "$png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, kind = 8, b"", 0, 0, 0
while pos < len(data):
    length, tag = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + length]
    if tag == b"IHDR":
        width, height, depth, kind = struct.unpack(">IIBB", chunk[:10])
        assert depth == 8 and kind in (2, 6), f"unexpected PNG format {depth}/{kind}"
    elif tag == b"IDAT":
        idat += chunk
    pos += 12 + length
raw = zlib.decompress(idat)
bpp = 3 if kind == 2 else 4
stride = width * bpp
rows, prev, ink = [], bytearray(stride), 0
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    ink += sum(1 for x in range(0, stride, bpp) if min(line[x:x + 3]) < 200)
    prev = line
share = ink / (width * height)
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {width}x{height}, {share:.1%} of the pixels drawn")
sys.exit(0 if share > 0.005 else 1)  # a page with a title alone: 0.1 %
PY
  then
    echo "check-report: the screenshot of $name is blank" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-report: 5 reports render in headless Chromium with no console message, none blank"
exit $status
