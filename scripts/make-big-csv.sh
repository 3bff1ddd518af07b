#!/usr/bin/env bash
# Writes a large synthetic clinical-style table for the streaming check of
# issue 12 (never committed): ROWS rows (default 8 300 000: 2.17 GB, more than 2 GiB) of
# 28 measurements, a text column `site` (5 categories, about 1 % missing as
# NA), a measurement with about 0.5 % empty fields, and a B/M `diagnosis`
# drawn from a logistic model of four of the measurements. Deterministic.
#   bash scripts/make-big-csv.sh FILE [ROWS]
# then, for example:
#   /usr/bin/time -v .build/release/blasnet train --data FILE --label diagnosis --missing mean --epochs 1
set -euo pipefail
out="${1:?usage: make-big-csv.sh FILE [ROWS]}"
rows="${2:-8300000}"
awk -v rows="$rows" 'BEGIN {
  srand(12);
  header = "";
  for (j = 1; j <= 28; j++) header = header "m" j ",";
  print header "site,m29,diagnosis";
  split("north south east west central", sites, " ");
  for (i = 1; i <= rows; i++) {
    line = "";
    z = -0.3;
    for (j = 1; j <= 28; j++) {
      v = (rand() + rand() + rand() - 1.5) * 2;
      if (j <= 4) z += v * (j % 2 ? 1.2 : -0.8);
      line = line sprintf("%.5f,", v * 10 + j);
    }
    s = rand() < 0.01 ? "NA" : sites[int(rand() * 5) + 1];
    m29 = rand() < 0.005 ? "" : sprintf("%.4f", rand() * 3);
    p = 1 / (1 + exp(-z));
    print line s "," m29 "," (rand() < p ? "M" : "B");
  }
}' > "$out"
ls -l "$out"
