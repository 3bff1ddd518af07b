"""Imports every weights fixture of Tests/TabularTests/Fixtures/interchange with
`blasnet import`, predicts its 1,000 input rows with `blasnet predict`, and prints the
largest relative difference from the outputs the frameworks' files give (computed in
float64 by interchange_fixtures.py). Standard library only.

    python3 Benchmarks/Python/interchange_check.py [path/to/blasnet]"""
import csv
import os
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
blasnet = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build/release/blasnet")
folder = os.path.join(root, "Tests/TabularTests/Fixtures/interchange")
cases = [
    ("safetensors (PyTorch layout, safetensors library)", "mlp.safetensors", "expected.csv", []),
    ("npz, the course's W1..b3 (float64)", "course.npz", "expected-course.csv", []),
    ("npz, Keras kernels (np.savez_compressed)", "keras.npz", "expected.csv", []),
    ("ONNX, scikit-learn MLPClassifier, 2 classes", "sklearn-binary.onnx", "expected-sklearn-binary.csv", []),
    ("ONNX, scikit-learn MLPClassifier, 3 classes", "sklearn-classes.onnx", "expected-sklearn-classes.csv", []),
    ("ONNX, scikit-learn MLPRegressor", "sklearn-regressor.onnx", "expected-sklearn-regressor.csv", []),
    ("ONNX, torch-style Gemm + LeakyRelu + Softmax", "torch-sequential.onnx", "expected-torch-sequential.csv", []),
    ("ONNX, the same with float64 weights", "torch-sequential-f64.onnx", "expected-torch-sequential.csv", []),
    ("safetensors, trained in PyTorch (logits + sigmoid)", "torch-mlp.safetensors", "expected-torch-mlp.csv",
     ["--activations", "relu,tanh,sigmoid"]),
    ("ONNX, torch.onnx.export of the same", "torch-mlp.onnx", "expected-torch-mlp.csv", []),
    ("npz, trained in Keras 3 (model.weights by path)", "keras-mlp.npz", "expected-keras-mlp.csv", []),
]
worst_all = 0.0
with tempfile.TemporaryDirectory() as work:
    for name, weights, expected, extra in cases:
        model = os.path.join(work, weights + ".json")
        predictions = os.path.join(work, weights + ".csv")
        subprocess.run([blasnet, "import", os.path.join(folder, weights), "--save", model] + extra, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([blasnet, "predict", "--model", model, "--data", os.path.join(folder, "inputs.csv"),
                        "--output", predictions], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(predictions) as f:
            got = list(csv.DictReader(f))
        with open(os.path.join(folder, expected)) as f:
            want = [[float(v) for v in row] for row in list(csv.reader(f))[1:]]
        worst = 0.0
        for g, w in zip(got, want):
            if len(w) == 1 and "probability" in g:
                values, floor = [float(g["probability"])], 1e-30
            elif len(w) == 1:
                values, floor = [float(v) for k, v in g.items() if k != "class"][:1], 1.0
            else:
                values, floor = [float(g[f"p_{k}"]) for k in sorted(k[2:] for k in g if k.startswith("p_"))], 1e-30
            worst = max(worst, max(abs(a - b) / max(abs(b), floor) for a, b in zip(values, w)))
        worst_all = max(worst_all, worst)
        print(f"{name:52s} {len(got)} rows, largest relative difference {worst:.2g}")
print(f"largest of all: {worst_all:.2g}")
sys.exit(0 if worst_all <= 1e-5 else 1)
