#!/usr/bin/env python3
"""Batch and one-row prediction of a BLASNet network in NumPy, ONNX Runtime and PyTorch.

blasnet-bench --inference writes a network's parameters and inputs to a folder, then runs
this script once per round, between its own timings, so that every library is timed in the
same conditions (interleaved rounds). Each library whose module imports is timed; the others
are reported as missing. Everything runs in float32 on the machine's cores.

    python3 Benchmarks/Python/inference_reference.py FOLDER

FOLDER holds network.json ({"sizes": [...], "hidden": "relu", "output": "sigmoid",
"runs": N, "rowRuns": R}), W1.npy, b1.npy, ... (W: units × inputs, b: units × 1) and
x.npy (n_x × m, examples as columns) and reference.npy (BLASNet's outputs, n_L × m). The
script prints one JSON object: for each library, the median milliseconds of a batch predict,
the median microseconds of a one-row predict, and the largest difference of its batch output
from BLASNet's (a check that all compute the same).
"""
import json
import os
import sys
import time

import numpy as np


def median_time(run, runs, warmup=3):
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2]


def numpy_forward(params, depth, hidden, output):
    def forward(a):
        for l in range(1, depth + 1):
            z = params["W" + str(l)] @ a
            z += params["b" + str(l)]
            kind = hidden if l < depth else output
            if kind == "relu":
                np.maximum(z, 0, out=z)
            elif kind == "sigmoid":
                np.negative(z, out=z)
                np.exp(z, out=z)
                z += 1
                np.reciprocal(z, out=z)
            elif kind == "tanh":
                np.tanh(z, out=z)
            elif kind == "softmax":
                z -= z.max(axis=0, keepdims=True)
                np.exp(z, out=z)
                z /= z.sum(axis=0, keepdims=True)
            a = z
        return a
    return forward


def onnx_session(params, depth, hidden, output, n_x):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    previous = "x"
    names = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    for l in range(1, depth + 1):
        inits.append(numpy_helper.from_array(params["W" + str(l)], "W" + str(l)))
        inits.append(numpy_helper.from_array(params["b" + str(l)].reshape(-1), "b" + str(l)))
        z = "z" + str(l)
        # Rows are examples here (ONNX Runtime's natural layout): Z = X·Wᵀ + b.
        nodes.append(helper.make_node("Gemm", [previous, "W" + str(l), "b" + str(l)], [z], transB=1))
        kind = hidden if l < depth else output
        a = "y" if l == depth else "a" + str(l)
        if kind == "softmax":
            nodes.append(helper.make_node("Softmax", [z], [a], axis=1))
        elif kind in names:
            nodes.append(helper.make_node(names[kind], [z], [a]))
        else:
            nodes.append(helper.make_node("Identity", [z], [a]))
        previous = a
    units = params["W" + str(depth)].shape[0]
    graph = helper.make_graph(
        nodes, "blasnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", n_x])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", units])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, ort.__version__


def torch_model(params, depth, hidden, output):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    layers = []
    for l in range(1, depth + 1):
        w = params["W" + str(l)]
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(params["b" + str(l)].reshape(-1)))
        layers.append(linear)
        kind = hidden if l < depth else output
        layers.append({"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(),
                       "softmax": torch.nn.Softmax(dim=1)}.get(kind, torch.nn.Identity()))
    model = torch.nn.Sequential(*layers).eval()
    return model, torch.__version__, torch


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "network.json")) as f:
        spec = json.load(f)
    sizes, hidden, output = spec["sizes"], spec["hidden"], spec["output"]
    runs, row_runs = spec["runs"], spec["rowRuns"]
    depth = len(sizes) - 1
    params = {}
    for l in range(1, depth + 1):
        params["W" + str(l)] = np.ascontiguousarray(np.load(os.path.join(folder, "W%d.npy" % l)), dtype=np.float32)
        params["b" + str(l)] = np.ascontiguousarray(np.load(os.path.join(folder, "b%d.npy" % l)), dtype=np.float32)
    x = np.load(os.path.join(folder, "x.npy")).astype(np.float32)
    x_columns = np.ascontiguousarray(x)          # n_x × m, as BLASNet holds it
    x_rows = np.ascontiguousarray(x.T)           # m × n_x, as ONNX Runtime and PyTorch take it
    one_column = np.ascontiguousarray(x[:, :1])
    blasnet = np.load(os.path.join(folder, "reference.npy")).astype(np.float32)
    one_row = np.ascontiguousarray(x_rows[:1])
    result = {"numpy": {"version": np.__version__}}

    forward = numpy_forward(params, depth, hidden, output)
    reference = forward(x_columns)
    result["numpy"]["batchMilliseconds"] = 1e3 * median_time(lambda: forward(x_columns), runs)
    result["numpy"]["rowMicroseconds"] = 1e6 * median_time(lambda: forward(one_column), row_runs)
    result["numpy"]["largestDifference"] = float(np.abs(reference - blasnet).max())

    try:
        session, version = onnx_session(params, depth, hidden, output, sizes[0])
        y = session.run(["y"], {"x": x_rows})[0]
        result["onnxruntime"] = {
            "version": version,
            "batchMilliseconds": 1e3 * median_time(lambda: session.run(["y"], {"x": x_rows}), runs),
            "rowMicroseconds": 1e6 * median_time(lambda: session.run(["y"], {"x": one_row}), row_runs),
            "largestDifference": float(np.abs(y.T - blasnet).max()),
        }
    except Exception as error:  # not installed, or (PyPI's torch) its CUDA libraries missing
        result["onnxruntime"] = {"missing": str(error).splitlines()[-1][:200]}

    try:
        model, version, torch = torch_model(params, depth, hidden, output)
        rows = torch.from_numpy(x_rows)
        row = torch.from_numpy(one_row)
        with torch.inference_mode():
            y = model(rows).numpy()
            result["torch"] = {
                "version": version,
                "batchMilliseconds": 1e3 * median_time(lambda: model(rows), runs),
                "rowMicroseconds": 1e6 * median_time(lambda: model(row), row_runs),
                "largestDifference": float(np.abs(y.T - blasnet).max()),
            }
    except Exception as error:  # not installed, or (PyPI's torch) its CUDA libraries missing
        result["torch"] = {"missing": str(error).splitlines()[-1][:200]}

    print(json.dumps(result))


if __name__ == "__main__":
    main()
