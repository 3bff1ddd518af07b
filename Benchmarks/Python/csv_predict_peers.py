"""The data path's peers: a CSV file read by pandas or polars, its rows run through a model
exported by `blasnet export --onnx` in ONNX Runtime, the predictions written to a CSV file
(`predict`), or scored against the file's label (`evaluate`: accuracy and ROC AUC).

    python csv_predict_peers.py MODEL.onnx DATA.csv OUT_DIR [--repeats N] [--label COLUMN]

Prints one line per reader and task with the best and the median of N timed repeats
(seconds, measured inside Python with time.perf_counter: read, run, write or score). The
ONNX Runtime session is made once, before the timing, and its threads are ONNX Runtime's
default. The inputs are built as onnx_check.py builds them: the numeric columns as
float32 (a missing value is NaN), the categorical ones as text. Two classes only (the
output "probability"); the written file has a class and a probability column, as
`blasnet predict` writes."""
import json
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import polars as pl

MISSING = ["", "NA", "N/A", "NaN", "nan", "?", "null", "NULL"]


def arguments():
    args = sys.argv[1:]
    options = {"--repeats": "5", "--label": None}
    positional = []
    i = 0
    while i < len(args):
        if args[i] in options:
            options[args[i]] = args[i + 1]
            i += 2
        else:
            positional.append(args[i])
            i += 1
    model, data, out = positional
    return model, data, out, int(options["--repeats"]), options["--label"]


def roc_auc(labels, scores):
    """The Mann-Whitney form of the ROC AUC, ties counted as half."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = labels.sum()
    negatives = len(labels) - positives
    return (ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives)


def main():
    model_path, data_path, out_dir, repeats, label = arguments()
    meta = {p.key: p.value for p in onnx.load(model_path).metadata_props}
    numeric = json.loads(meta["numeric_columns"])
    categorical = json.loads(meta["categorical_columns"])
    classes = json.loads(meta["class_names"])
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])

    def feeds_pandas(frame):
        feeds = {}
        if numeric:
            feeds["input"] = frame[numeric].to_numpy(dtype=np.float32)
        if categorical:
            feeds["categories"] = frame[categorical].fillna("").astype(str).to_numpy(dtype=object)
        return feeds

    def feeds_polars(frame):
        feeds = {}
        if numeric:
            feeds["input"] = frame.select(numeric).cast(pl.Float32).to_numpy()
        if categorical:
            feeds["categories"] = frame.select(categorical).fill_null("").to_numpy().astype(object)
        return feeds

    def run(feeds):
        probability, class_index = session.run(["probability", "class_index"], feeds)
        return probability[:, 0], class_index[:, 0]

    def predict_pandas():
        frame = pd.read_csv(data_path, na_values=MISSING, keep_default_na=True)
        p, k = run(feeds_pandas(frame))
        pd.DataFrame({"class": np.asarray(classes, dtype=object)[k], "probability": p}).to_csv(
            f"{out_dir}/pandas.csv", index=False)

    def predict_polars():
        frame = pl.read_csv(data_path, null_values=MISSING)
        p, k = run(feeds_polars(frame))
        pl.DataFrame({"class": np.asarray(classes)[k], "probability": p}).write_csv(f"{out_dir}/polars.csv")

    def score(labels, p, k):
        positive = labels == classes[1]
        return float(np.mean(np.asarray(classes, dtype=object)[k] == labels)), roc_auc(positive, p)

    def evaluate_pandas():
        frame = pd.read_csv(data_path, na_values=MISSING, keep_default_na=True)
        p, k = run(feeds_pandas(frame))
        return score(frame[label].astype(str).to_numpy(dtype=object), p, k)

    def evaluate_polars():
        frame = pl.read_csv(data_path, null_values=MISSING)
        p, k = run(feeds_polars(frame))
        return score(frame[label].cast(pl.String).to_numpy().astype(object), p, k)

    def parts():
        # Where the time goes: the read alone, and ONNX Runtime alone on inputs already built.
        for reader, read in (("pandas", lambda: pd.read_csv(data_path, na_values=MISSING, keep_default_na=True)),
                             ("polars", lambda: pl.read_csv(data_path, null_values=MISSING))):
            start = time.perf_counter()
            frame = read()
            feeds = (feeds_pandas if reader == "pandas" else feeds_polars)(frame)
            middle = time.perf_counter()
            run(feeds)
            end = time.perf_counter()
            print(f"  {reader}: read and inputs {middle - start:.3f} s, ONNX Runtime {end - middle:.3f} s")

    tasks = [("pandas", "predict", predict_pandas), ("polars", "predict", predict_polars)]
    if label:
        tasks += [("pandas", "evaluate", evaluate_pandas), ("polars", "evaluate", evaluate_polars)]
    for reader, task, f in tasks:
        result = f()  # once untimed: imports, caches, the session's first run
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = f()
            seconds.append(time.perf_counter() - start)
        extra = f" accuracy {result[0]:.4f} ROC AUC {result[1]:.4f}" if result else ""
        print(f"{reader} + ONNX Runtime {task}: best {min(seconds):.3f} s, median "
              f"{statistics.median(seconds):.3f} s over {repeats}{extra}")
    parts()


if __name__ == "__main__":
    main()
