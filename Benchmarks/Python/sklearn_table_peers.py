"""scikit-learn's peers of `blasnet-bench --tables` on the rows BLASNet used.

Reads a JSON job from the file named by the first argument, one entry per run:
  [{"name": TABLE, "file": CSV, "label": COLUMN, "task": "binary" | "multiclass" | "regression",
    "seed": S, "positive": CLASS (binary only), "train_rows": [...], "test_rows": [...]}, ...]
(rows: 0-based data rows, the header not counted) and prints, as JSON, one object per run with a
result per model, each fitted on the training rows and scored on the test rows:
  "MLP":    MLPClassifier(random_state=S) / MLPRegressor(random_state=S), their defaults;
  "HGB":    HistGradientBoostingClassifier(random_state=S) / HistGradientBoostingRegressor(random_state=S);
  "linear": LogisticRegression(max_iter=1000) / Ridge().
Each model is the last step of a Pipeline whose ColumnTransformer imputes the median and
standardises the numeric columns, and imputes the most frequent value and one-hot encodes
(handle_unknown="ignore") the text columns; a column is text when any non-empty field does not
parse as a number; an empty field is missing. The transformer's output is dense
(sparse_threshold=0), which HistGradientBoosting needs.
A result holds the test accuracy (classes), the ROC AUC from predict_proba's column of the
positive class (binary), R² (regression) and the seconds of fit plus predict; or "error".
Progress goes to standard error."""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_table(path, label):
    """The features (numbers as floats, text as objects, missing as NaN), the
    label as text, and the names of the numeric and text columns."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    y = raw[label].to_numpy()
    x = raw.drop(columns=[label])
    numeric, text = [], []
    for column in x.columns:
        values = x[column]
        present = values[values != ""]
        if all(number(v) for v in present.unique()):
            x[column] = pd.to_numeric(values.replace("", np.nan))
            numeric.append(column)
        else:
            x[column] = values.replace("", np.nan).astype(object)
            text.append(column)
    return x, y, numeric, text


def pipeline(model, numeric, text):
    columns = ColumnTransformer(
        [
            ("numbers", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "text",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                text,
            ),
        ],
        sparse_threshold=0,
    )
    return Pipeline([("columns", columns), ("model", model)])


def models(task, seed):
    if task == "regression":
        return {
            "MLP": MLPRegressor(random_state=seed),
            "HGB": HistGradientBoostingRegressor(random_state=seed),
            "linear": Ridge(),
        }
    return {
        "MLP": MLPClassifier(random_state=seed),
        "HGB": HistGradientBoostingClassifier(random_state=seed),
        "linear": LogisticRegression(max_iter=1000),
    }


def score(run, model, x, y):
    train, test = run["train_rows"], run["test_rows"]
    x_train, x_test = x.iloc[train], x.iloc[test]
    y_train, y_test = y[train], y[test]
    started = time.perf_counter()
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    result = {}
    if run["task"] == "regression":
        result["r2"] = float(r2_score(y_test, predicted))
    else:
        result["accuracy"] = float((predicted == y_test).mean())
        if run["task"] == "binary":
            positive = run["positive"]
            column = list(model.classes_).index(positive)
            probabilities = model.predict_proba(x_test)[:, column]
            result["roc_auc"] = float(roc_auc_score(y_test == positive, probabilities))
    result["seconds"] = time.perf_counter() - started
    return result


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    tables = {}
    results = []
    for run in job:
        key = (run["file"], run["label"])
        if key not in tables:
            tables[key] = read_table(*key)
        x, labels, numeric, text = tables[key]
        y = labels.astype(float) if run["task"] == "regression" else labels
        result = {}
        for name, model in models(run["task"], run["seed"]).items():
            try:
                result[name] = score(run, pipeline(model, numeric, text), x, y)
            except Exception as error:  # noqa: BLE001 - reported, the other models still run
                result[name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"}
            shown = {k: round(v, 4) for k, v in result[name].items() if isinstance(v, float)}
            print(f"  … {run.get('name', run['file'])} seed {run['seed']} {name}: {shown or result[name]}",
                  file=sys.stderr, flush=True)
        results.append(result)
    json.dump(results, sys.stdout)


main()
