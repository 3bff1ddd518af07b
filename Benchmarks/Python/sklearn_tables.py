"""Writes Examples/tables/{iris,wine,diabetes}.csv from the CSV files that
scikit-learn's package ships (sklearn/datasets/data), with a header row and
class names as labels. Run once with the .venv-bench Python; the output is
committed, so nothing else needs scikit-learn."""
import csv
import gzip
import os
import sys

import sklearn

DATA = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data")
OUT = sys.argv[1] if len(sys.argv) > 1 else "Examples/tables"


def classified(name, columns, label):
    with open(os.path.join(DATA, name)) as f:
        rows = list(csv.reader(f))
    count, width, *classes = rows[0]
    assert len(columns) == int(width) and len(rows) - 1 == int(count)
    with open(os.path.join(OUT, f"{label[0]}.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns + [label[1]])
        for row in rows[1:]:
            out.writerow(row[:-1] + [classes[int(row[-1])]])


def diabetes():
    with gzip.open(os.path.join(DATA, "diabetes_data_raw.csv.gz"), "rt") as f:
        x = [line.split() for line in f if line.strip()]
    with gzip.open(os.path.join(DATA, "diabetes_target.csv.gz"), "rt") as f:
        y = [line.strip() for line in f if line.strip()]
    assert len(x) == len(y) == 442
    columns = ["age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu", "progression"]
    with open(os.path.join(OUT, "diabetes.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns)
        for row, target in zip(x, y):
            out.writerow([v.rstrip("0").rstrip(".") if "." in v else v for v in row] + [str(int(float(target)))])


classified("iris.csv", ["sepal_length", "sepal_width", "petal_length", "petal_width"], ("iris", "species"))
classified(
    "wine_data.csv",
    ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
     "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315", "proline"],
    ("wine", "cultivar"))
diabetes()
print("sklearn", sklearn.__version__, "->", OUT)
