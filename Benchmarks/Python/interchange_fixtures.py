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
  expected-course.csv  the same from the float64 weights of course.npz;
  sklearn-binary.onnx, sklearn-classes.onnx, sklearn-regressor.onnx
                   scikit-learn MLPs (2 classes, 3 classes, a regression) trained on the
                   same rows, converted by skl2onnx, with expected-sklearn-*.csv;
  torch-sequential.onnx, torch-sequential-f64.onnx
                   the graph torch.onnx.export writes for an nn.Sequential (Gemm with
                   transB = 1, LeakyRelu, Softmax, a Constant node), made with onnx.helper
                   (the -f64 copy keeps the first layer's weights in float64, which ONNX
                   Runtime would refuse for a float input: for the importer's rounding report);
  torch-mlp.safetensors, torch-mlp.onnx, expected-torch-mlp.csv
                   only when PyTorch imports: an nn.Sequential trained with PyTorch, saved
                   with safetensors.torch and torch.onnx.export, and its own outputs.

The first network is trained here with NumPy (full-batch gradient descent on a synthetic
task). Run with the .venv-bench Python (bash scripts/ensure-deps.sh --interchange-peers);
the outputs are committed. PyTorch's PyPI wheel needs its CUDA libraries (gigabytes) even on
a CPU: install it into that environment yourself for the PyTorch part."""
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

# ONNX: scikit-learn's MLPs through skl2onnx, and a graph as torch.onnx.export writes an
# nn.Sequential (Gemm with transB = 1, LeakyReLU, softmax; float64 weights, a Constant
# node), made with onnx.helper. The expected outputs are computed here in float64 from
# the weights in the files (onnx.numpy_helper); ONNX Runtime's outputs are compared
# with them and the largest difference printed.
import warnings

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.neural_network import MLPClassifier, MLPRegressor

warnings.filterwarnings("ignore")
x32 = x.astype(np.float32)
classes3 = np.digitize(x[:, 0] + x[:, 1], [-0.7, 0.7])
regression_target = x[:, 0] * 2 - x[:, 2] + 0.5 * x[:, 3] * x[:, 4]


def numpy_forward(model_path):
    """The MLP of an ONNX file in float64: its initializers in graph order."""
    graph = onnx.load(model_path).graph
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            init[node.output[0]] = numpy_helper.to_array(node.attribute[0].t).astype(np.float64)
    a = x32.astype(np.float64)
    for node in graph.node:
        if node.op_type == "MatMul":
            a = a @ init[node.input[1]]
        elif node.op_type == "Gemm":
            trans = any(at.name == "transB" and at.i == 1 for at in node.attribute)
            w = init[node.input[1]]
            a = a @ (w.T if trans else w) + init[node.input[2]]
        elif node.op_type == "Add" and node.input[1] in init:
            a = a + init[node.input[1]]
        elif node.op_type == "Relu":
            a = np.maximum(a, 0)
        elif node.op_type == "LeakyRelu":
            a = np.where(a > 0, a, 0.01 * a)
        elif node.op_type == "Sigmoid":
            return 1 / (1 + np.exp(-a))
        elif node.op_type == "Softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        elif node.op_type == "Reshape":
            return a
    return a


def write_expected(name, values):
    values = values.reshape(len(x), -1)
    with open(os.path.join(out, f"expected-{name}.csv"), "w") as f:
        f.write(",".join(f"p{k}" for k in range(values.shape[1])) + "\n")
        for row in values:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def check_runtime(name, expected):
    session = ort.InferenceSession(os.path.join(out, name + ".onnx"), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: x32})
    got = outputs[-1]
    if isinstance(got, list):  # ZipMap: a dict per row, class -> probability
        got = np.array([[row[k] for k in sorted(row)] for row in got])
    if got.shape[1:] == (2,) and expected.shape[1:] == (1,):
        got = got[:, 1:]
    print(name, "ONNX Runtime vs NumPy: largest absolute difference",
          float(np.abs(got.reshape(expected.shape) - expected).max()))


binary = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=500, random_state=0).fit(x, y[:, 0])
three = MLPClassifier(hidden_layer_sizes=(10,), max_iter=500, random_state=0).fit(x, classes3)
regressor = MLPRegressor(hidden_layer_sizes=(8,), max_iter=1000, random_state=0).fit(x, regression_target)
for name, model in (("sklearn-binary", binary), ("sklearn-classes", three), ("sklearn-regressor", regressor)):
    onnx_model = to_onnx(model, x32[:1], target_opset=17)
    onnx.save(onnx_model, os.path.join(out, name + ".onnx"))
    expected = numpy_forward(os.path.join(out, name + ".onnx"))
    if name == "sklearn-binary":
        expected = expected[:, -1]
    write_expected(name, expected)
    check_runtime(name, expected[:, None] if expected.ndim == 1 else expected)

# The graph torch.onnx.export writes for nn.Sequential(Linear(5, 6), LeakyReLU(), Linear(6, 3), Softmax(dim=1)).
g = np.random.default_rng(11)
w1, b1 = g.normal(size=(6, 5)), g.normal(size=6) * 0.1
w2, b2 = g.normal(size=(3, 6)), g.normal(size=3) * 0.1
nodes = [
    helper.make_node("Constant", [], ["fc2.bias"], value=numpy_helper.from_array(b2.astype(np.float32), "fc2.bias")),
    helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["/0/Gemm_output_0"], name="/0/Gemm", transB=1),
    helper.make_node("LeakyRelu", ["/0/Gemm_output_0"], ["/1/LeakyRelu_output_0"], name="/1/LeakyRelu", alpha=0.01),
    helper.make_node("Gemm", ["/1/LeakyRelu_output_0", "fc2.weight", "fc2.bias"], ["/2/Gemm_output_0"], name="/2/Gemm",
                     transB=1),
    helper.make_node("Softmax", ["/2/Gemm_output_0"], ["output"], name="/3/Softmax", axis=1),
]
graph = helper.make_graph(
    nodes, "main_graph", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 5])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
    [numpy_helper.from_array(w1, "fc1.weight"), numpy_helper.from_array(b1, "fc1.bias"),
     numpy_helper.from_array(w2.astype(np.float32), "fc2.weight")])
torch_like = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
# Gemm in float64 for the first layer is not valid ONNX for a float input: cast the weights
# as torch's exporter would not. Keep them float64 only in a copy for the importer's rounding
# report; the runtime check uses the float32 graph.
onnx.save(torch_like, os.path.join(out, "torch-sequential-f64.onnx"))
for t in torch_like.graph.initializer:
    if t.data_type == TensorProto.DOUBLE:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), t.name))
onnx.checker.check_model(torch_like)
onnx.save(torch_like, os.path.join(out, "torch-sequential.onnx"))
expected = numpy_forward(os.path.join(out, "torch-sequential.onnx"))
write_expected("torch-sequential", expected)
check_runtime("torch-sequential", expected)
