#!/usr/bin/env python3
"""The classic L-layer network in NumPy, timed on BLASNet's three reference shapes.

A faithful float32 port of the course network that BLASNet implements: ReLU hidden
layers, a sigmoid output, binary cross-entropy, full-batch gradient descent. One
iteration is forward + cost + backward + update, with the same products (and so the
same FLOPs) as BLASNet's Trainer.step: Zl = Wl·A(l-1), dWl = dZl·A(l-1)ᵀ / m,
dA(l-1) = Wlᵀ·dZl (not for l = 1). Optional: blasnet-bench runs it when numpy imports.

    python3 Benchmarks/Python/numpy_reference.py [--json] [--quick]
    python3 Benchmarks/Python/numpy_reference.py --linalg [--json] [--quick]

With --linalg it times numpy.linalg's svd (thin), eigh, cholesky and solve on n×n float64
matrices, n = 256 and 1024, shaped as blasnet-bench --linalg's: a Gaussian matrix for svd
and solve (one right-hand side), B·Bᵀ + n·I for eigh and cholesky.
"""
import json
import sys
import time

import numpy as np

NETWORKS = [
    ("wdbc", [30, 16, 8, 1], 455),
    ("cat", [12288, 20, 7, 5, 1], 209),
    ("wide", [784, 512, 256, 1], 1024),
]


def initialize(sizes, rng):
    params = {}
    for l in range(1, len(sizes)):
        params["W" + str(l)] = (rng.standard_normal((sizes[l], sizes[l - 1])) * np.sqrt(2.0 / sizes[l - 1])).astype(
            np.float32)
        params["b" + str(l)] = np.zeros((sizes[l], 1), dtype=np.float32)
    return params


def iteration(params, X, Y, depth, learning_rate):
    m = X.shape[1]
    caches = []
    A = X
    for l in range(1, depth):
        Z = np.dot(params["W" + str(l)], A) + params["b" + str(l)]
        caches.append((A, Z))
        A = np.maximum(0, Z)
    ZL = np.dot(params["W" + str(depth)], A) + params["b" + str(depth)]
    caches.append((A, ZL))
    AL = 1 / (1 + np.exp(-ZL))
    eps = np.float32(1e-7)
    ALc = np.clip(AL, eps, 1 - eps)
    cost = -np.sum(Y * np.log(ALc) + (1 - Y) * np.log(1 - ALc)) / m
    grads = {}
    dZ = AL - Y
    for l in range(depth, 0, -1):
        A_prev, Z = caches[l - 1]
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            dA = np.dot(params["W" + str(l)].T, dZ)
            Zp = caches[l - 2][1]
            dZ = np.array(dA, copy=True)
            dZ[Zp <= 0] = 0
    for l in range(1, depth + 1):
        params["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        params["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return cost


def median_ms(body, budget, runs):
    body()
    samples = []
    total = 0.0
    while len(samples) < runs or total < budget:
        t = time.perf_counter()
        body()
        d = time.perf_counter() - t
        samples.append(d)
        total += d
    samples.sort()
    return samples[len(samples) // 2] * 1e3


def linalg(quick):
    rng = np.random.default_rng(11)
    results = {}
    for n in (256, 1024):
        a = rng.standard_normal((n, n))
        rhs = rng.standard_normal((n, 1))
        spd = a @ a.T + n * np.eye(n)
        budget = 0.05 if quick else 1.0
        runs = 3 if n >= 1024 else 5
        results[f"svd.{n}"] = median_ms(lambda: np.linalg.svd(a, full_matrices=False), budget, runs)
        results[f"eigh.{n}"] = median_ms(lambda: np.linalg.eigh(spd), budget, runs)
        results[f"cholesky.{n}"] = median_ms(lambda: np.linalg.cholesky(spd), budget, runs)
        results[f"solve.{n}"] = median_ms(lambda: np.linalg.solve(a, rhs), budget, runs)
    return results


def main():
    quick = "--quick" in sys.argv
    if "--linalg" in sys.argv:
        results = linalg(quick)
        if "--json" in sys.argv:
            print(json.dumps({"numpy": np.__version__, "milliseconds_per_iteration": results}))
        else:
            for name, ms in results.items():
                print(f"{name:14s} {ms:9.3f} ms (numpy {np.__version__})")
        return
    rng = np.random.default_rng(1)
    results = {}
    for name, sizes, m in NETWORKS:
        X = rng.standard_normal((sizes[0], m)).astype(np.float32)
        Y = (rng.random((1, m)) < 0.5).astype(np.float32)
        params = initialize(sizes, rng)
        depth = len(sizes) - 1
        iteration(params, X, Y, depth, np.float32(0.0075))
        samples = []
        budget = 0.1 if quick else 0.8
        total = 0.0
        while len(samples) < 10 or total < budget:
            t = time.perf_counter()
            iteration(params, X, Y, depth, np.float32(0.0075))
            d = time.perf_counter() - t
            samples.append(d)
            total += d
        samples.sort()
        results[name] = samples[len(samples) // 2] * 1e3
    if "--json" in sys.argv:
        print(json.dumps({"numpy": np.__version__, "milliseconds_per_iteration": results}))
    else:
        for name, ms in results.items():
            print(f"{name:6s} {ms:9.3f} ms per iteration (numpy {np.__version__})")


if __name__ == "__main__":
    main()
