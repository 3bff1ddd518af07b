#!/usr/bin/env python3
"""The classic L-layer network in PyTorch (CPU, float32), timed on BLASNet's three
reference shapes, as numpy_reference.py times NumPy: one iteration is forward, binary
cross-entropy on the logits, backward and a plain gradient-descent update of every
parameter, on the whole batch. Examples are rows (PyTorch's layout); the products are
the same as BLASNet's step. Threads: all cores (torch.get_num_threads() is printed).

    python torch_reference.py [--json] [--quick]

PyTorch's PyPI wheel brings its CUDA libraries (gigabytes) even for a CPU, so nothing
installs it for you: run this with a Python that has torch."""
import json
import sys
import time

import torch

NETWORKS = [
    ("wdbc", [30, 16, 8, 1], 455),
    ("cat", [12288, 20, 7, 5, 1], 209),
    ("wide", [784, 512, 256, 1], 1024),
]


def main():
    quick = "--quick" in sys.argv
    torch.manual_seed(1)
    results = {}
    for name, sizes, m in NETWORKS:
        layers = []
        for l in range(1, len(sizes)):
            layers.append(torch.nn.Linear(sizes[l - 1], sizes[l]))
            if l < len(sizes) - 1:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        x = torch.randn(m, sizes[0])
        y = (torch.rand(m, 1) < 0.5).float()
        loss = torch.nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0075)

        def iteration():
            optimizer.zero_grad(set_to_none=False)
            cost = loss(model(x), y)
            cost.backward()
            optimizer.step()

        iteration()
        samples = []
        budget = 0.1 if quick else 0.8
        total = 0.0
        while len(samples) < 10 or total < budget:
            t = time.perf_counter()
            iteration()
            d = time.perf_counter() - t
            samples.append(d)
            total += d
        samples.sort()
        results[name] = samples[len(samples) // 2] * 1e3
    if "--json" in sys.argv:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                          "milliseconds_per_iteration": results}))
    else:
        for name, ms in results.items():
            print(f"{name:6s} {ms:9.3f} ms per iteration (torch {torch.__version__}, "
                  f"{torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
