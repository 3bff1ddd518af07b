"""scikit-learn's MLPClassifier with its defaults on the splits BLASNet used.

Reads a JSON job from the file named by the first argument:
  [{"file": CSV, "label": COLUMN, "seed": S, "test_lines": [CSV line numbers, header = 1]}, ...]
and prints, as JSON, one result per run for two models fitted on the other rows:
  "mlp":      MLPClassifier(random_state=S), the inputs as they are;
  "scaled":   make_pipeline(StandardScaler(), MLPClassifier(random_state=S)).
Each result holds the test accuracy and the seconds of fit plus predict."""
import csv
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def table(path, label):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    k = header.index(label)
    x = np.array([[float(v) for i, v in enumerate(r) if i != k] for r in body])
    y = np.array([r[k] for r in body])
    return x, y


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    tables = {}
    results = []
    for run in job:
        key = (run["file"], run["label"])
        if key not in tables:
            tables[key] = table(*key)
        x, y = tables[key]
        test = np.zeros(len(y), dtype=bool)
        test[[line - 2 for line in run["test_lines"]]] = True
        result = {}
        for name in ("mlp", "scaled"):
            model = MLPClassifier(random_state=run["seed"])
            if name == "scaled":
                model = make_pipeline(StandardScaler(), model)
            started = time.perf_counter()
            model.fit(x[~test], y[~test])
            accuracy = float((model.predict(x[test]) == y[test]).mean())
            result[name] = {"accuracy": accuracy, "seconds": time.perf_counter() - started}
        results.append(result)
    json.dump(results, sys.stdout)


main()
