"""The PyTorch and Keras part of the interchange fixtures (Tests/TabularTests/Fixtures/interchange).

PyTorch: trains nn.Sequential(Linear(5, 16), ReLU(), Linear(16, 8), Tanh(), Linear(8, 1)) with
BCEWithLogitsLoss (so the network ends in logits, as such networks do) on the rows of
inputs.csv, and writes

  torch-mlp.safetensors  its state_dict (0.weight, 0.bias, 2.weight, ...) by safetensors.torch;
  torch-mlp.onnx         the network with a Sigmoid appended, by torch.onnx.export;
  expected-torch-mlp.csv PyTorch's own sigmoid(output) for each row, in float32.

Keras 3 (on its PyTorch backend): trains Sequential([Dense(12, relu), Dense(3, softmax)]) on
three classes of the same rows and writes

  keras-mlp.npz          np.savez_compressed of {w.path: w.numpy()} for model.weights
                         (sequential/dense/kernel, in x out; sequential/dense/bias; ...);
  expected-keras-mlp.csv Keras's own model.predict for each row.

Needs a Python with torch, keras, safetensors and onnx (PyTorch's PyPI wheel brings its CUDA
libraries, gigabytes, even for a CPU; that is why this is apart from interchange_fixtures.py):

    KERAS_BACKEND=torch python interchange_frameworks.py [folder]"""
import csv
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
import torch
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "Tests/TabularTests/Fixtures/interchange"
with open(os.path.join(out, "inputs.csv")) as f:
    rows = [[float(v) for v in row] for row in list(csv.reader(f))[1:]]
x = torch.tensor(rows, dtype=torch.float32)
y = ((x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]) > 0).float()[:, None]
torch.manual_seed(3)
net = torch.nn.Sequential(
    torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
loss = torch.nn.BCEWithLogitsLoss()
for step in range(400):
    optimizer.zero_grad()
    cost = loss(net(x), y)
    cost.backward()
    optimizer.step()
net.eval()
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(out, "torch-mlp.safetensors"))
with_sigmoid = torch.nn.Sequential(net, torch.nn.Sigmoid())
torch.onnx.export(with_sigmoid, (x[:1],), os.path.join(out, "torch-mlp.onnx"), input_names=["input"],
                  output_names=["probability"], dynamic_axes={"input": {0: "batch"}}, dynamo=False)
with torch.no_grad():
    p = with_sigmoid(x)[:, 0]
with open(os.path.join(out, "expected-torch-mlp.csv"), "w") as f:
    f.write("p0\n")
    for v in p.tolist():
        f.write(repr(float(v)) + "\n")
accuracy = float(((p > 0.5).float() == y[:, 0]).float().mean())
print("torch", torch.__version__, "accuracy", accuracy, "final cost", float(cost.detach()), "->", out)

keras.utils.set_random_seed(5)
classes = torch.bucketize(x[:, 0] + x[:, 1], torch.tensor([-0.7, 0.7])).numpy()
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(12, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x.numpy(), classes, epochs=60, batch_size=64, verbose=0)
np.savez_compressed(os.path.join(out, "keras-mlp.npz"), **{w.path: np.asarray(w.numpy()) for w in model.weights})
probabilities = model.predict(x.numpy(), verbose=0)
with open(os.path.join(out, "expected-keras-mlp.csv"), "w") as f:
    f.write("p0,p1,p2\n")
    for row in probabilities:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
print("keras", keras.__version__, "accuracy", history.history["accuracy"][-1], "->", out)
