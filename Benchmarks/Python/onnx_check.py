"""Runs a model exported by `blasnet export` in ONNX Runtime on the raw rows of a CSV
file and compares its outputs with `blasnet predict`'s on the same rows.

    python onnx_check.py MODEL.onnx DATA.csv PREDICTIONS.csv [--tolerance 1e-5]

The inputs are built the way the graph documents them (its metadata names the columns):
the numeric columns as float32 with NaN for a missing value (BLASNet's missing markers:
an empty field, NA, N/A, NaN, ?, null), the categorical ones as their text. Compared:
"probability" against the predictions' probability column (two classes), each class's
probability against its column (several), or "value" (a regression), and the predicted
class. Prints the largest relative difference; exits 1 above the tolerance."""
import csv
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

MISSING = {"", "na", "n/a", "nan", "?", "null"}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tolerance = float(sys.argv[sys.argv.index("--tolerance") + 1]) if "--tolerance" in sys.argv else 1e-5
    if "--tolerance" in sys.argv:
        args.remove(sys.argv[sys.argv.index("--tolerance") + 1])
    model_path, data_path, predictions_path = args
    meta = {p.key: p.value for p in onnx.load(model_path).metadata_props}
    numeric = json.loads(meta["numeric_columns"])
    categorical = json.loads(meta["categorical_columns"])
    with open(data_path, newline="") as f:
        rows = list(csv.DictReader(f))
    feeds = {}
    if numeric:
        def number(text):
            return np.nan if text.strip().lower() in MISSING else float(text)
        feeds["input"] = np.array([[number(r[c]) for c in numeric] for r in rows], dtype=np.float32)
    if categorical:
        feeds["categories"] = np.array([[r[c].strip() for c in categorical] for r in rows], dtype=object)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, feeds)))
    with open(predictions_path, newline="") as f:
        expected = list(csv.DictReader(f))
    assert len(expected) == len(rows), f"{len(expected)} predictions for {len(rows)} rows"
    pairs = []
    if "value" in out:
        label = meta.get("label", "value")
        column = label if label in expected[0] else "value"
        pairs = [(out["value"][i, 0], float(e[column])) for i, e in enumerate(expected)]
    else:
        classes = json.loads(meta["class_names"])
        if "probability" in out:
            pairs = [(out["probability"][i, 0], float(e["probability"])) for i, e in enumerate(expected)]
        else:
            for k, name in enumerate(classes):
                key = f"p_{name}" if f"p_{name}" in expected[0] else name
                pairs += [(out["probabilities"][i, k], float(e[key])) for i, e in enumerate(expected)]
        predicted = [classes[int(k)] for k in out["class_index"][:, 0]]
        wrong = sum(p != e["class"] for p, e in zip(predicted, expected))
        print(f"classes: {len(rows) - wrong} of {len(rows)} the same")
        if wrong:
            sys.exit(1)
    worst = max(abs(float(a) - b) / max(abs(b), 1e-30) for a, b in pairs)
    at = max(range(len(pairs)), key=lambda i: abs(float(pairs[i][0]) - pairs[i][1]) / max(abs(pairs[i][1]), 1e-30))
    print(f"{len(pairs)} outputs compared; largest relative difference {worst:.3g} "
          f"(ONNX Runtime {pairs[at][0]:.9g} vs blasnet {pairs[at][1]:.9g}); tolerance {tolerance:g}")
    sys.exit(0 if worst <= tolerance else 1)


if __name__ == "__main__":
    main()
