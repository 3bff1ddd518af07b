"""Writes the interchange fixtures of Tests/TabularTests/Fixtures/interchange:

  mlp.safetensors  an MLP 5 -> 8 -> 4 -> 1 (ReLU, ReLU, sigmoid) under nn.Sequential's
                   names (0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias; weight is
                   out x in), float32, written by the safetensors library (its NumPy API);
  course.npz       the same network as the deep-learning course keeps it: W1 (8 x 5),
                   b1 (8 x 1), ..., W3, b3, float64, by np.savez (stored members);
  keras.npz        the same network as Keras's Dense layers hold it: dense/kernel (5 x 8,
                   in x out), dense/bias (8), dense_1/..., dense_2/..., float32, by
                   np.savez_compressed (deflated members);
  inputs.csv       1,000 rows x1..x5;
  expected.csv     the network's output for each row, computed in float64 from the
                   float32 weights (the course's AL, transposed);
  expected-course.csv  the same from the float64 weights of course.npz.

The network is trained here with NumPy (full-batch gradient descent on a synthetic task):
PyTorch's PyPI wheel needs its CUDA libraries on this machine. Run with the .venv-bench
Python after `pip install safetensors`; the outputs are committed."""
import os
import sys

import numpy as np
from safetensors.numpy import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "Tests/TabularTests/Fixtures/interchange"
rng = np.random.default_rng(7)
x = rng.normal(size=(1000, 5))
y = ((x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]) > 0).astype(float)[:, None]
sizes = [5, 8, 4, 1]
w = [rng.normal(scale=np.sqrt(2 / sizes[l]), size=(sizes[l + 1], sizes[l])) for l in range(3)]
b = [np.zeros(sizes[l + 1]) for l in range(3)]


def forward(w, b, x):
    a = [x]
    for l in range(3):
        z = a[-1] @ w[l].T + b[l]
        a.append(1 / (1 + np.exp(-z)) if l == 2 else np.maximum(z, 0))
    return a


for step in range(300):
    a = forward(w, b, x)
    dz = (a[3] - y) / len(x)
    for l in (2, 1, 0):
        dw, db = dz.T @ a[l], dz.sum(axis=0)
        if l > 0:
            dz = (dz @ w[l]) * (a[l] > 0)
        w[l] -= 0.5 * dw
        b[l] -= 0.5 * db

tensors = {}
for l in range(3):
    tensors[f"{2 * l}.weight"] = w[l].astype(np.float32)
    tensors[f"{2 * l}.bias"] = b[l].astype(np.float32)
save_file(tensors, os.path.join(out, "mlp.safetensors"), metadata={"format": "pt"})
np.savez(os.path.join(out, "course.npz"), **{
    name: value for l in range(3) for name, value in ((f"W{l + 1}", w[l]), (f"b{l + 1}", b[l][:, None]))})
np.savez_compressed(os.path.join(out, "keras.npz"), **{
    name: value for l in range(3) for name, value in (
        (f"dense{'_' + str(l) if l else ''}/kernel", tensors[f"{2 * l}.weight"].T.copy()),
        (f"dense{'_' + str(l) if l else ''}/bias", tensors[f"{2 * l}.bias"]))})
with open(os.path.join(out, "expected-course.csv"), "w") as f:
    f.write("probability\n")
    for v in forward(w, b, x)[3][:, 0]:
        f.write(repr(float(v)) + "\n")
w32 = [tensors[f"{2 * l}.weight"].astype(np.float64) for l in range(3)]
b32 = [tensors[f"{2 * l}.bias"].astype(np.float64) for l in range(3)]
p = forward(w32, b32, x)[3][:, 0]
with open(os.path.join(out, "inputs.csv"), "w") as f:
    f.write("x1,x2,x3,x4,x5\n")
    for row in x:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
with open(os.path.join(out, "expected.csv"), "w") as f:
    f.write("probability\n")
    for v in p:
        f.write(repr(float(v)) + "\n")
print("accuracy", float(((p > 0.5) == y[:, 0]).mean()), "->", out)
