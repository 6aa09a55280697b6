#!/usr/bin/python3
"""Writes synthetic data in the Server Machine Dataset layout (OmniAnomaly, KDD 2019).

    OUT/train/machine-s-N.txt       rows of comma-separated floats, one column per metric
    OUT/test/machine-s-N.txt        same columns
    OUT/test_label/machine-s-N.txt  one 0/1 per test row

Each machine has `dims` metrics driven by three shared latent load factors (a daily-like
cycle, a slower drift, bursty noise) plus per-metric noise, min-max scaled to [0, 1] as in
SMD; two columns are constant, as SMD has. The test part carries injected multivariate
anomalies: a metric decoupling from its factor while staying inside its usual range
(invisible to per-metric limits), a joint moderate rise of a group of metrics, and a
group level shift. This is NOT the real SMD: no SMD figure can be claimed from it.

Usage: smd_synth.py OUT [--machines 3] [--dims 12] [--rows 3000] [--seed 1]
"""

import argparse
import math
import os
import random


def machine(rng, dims, rows):
    n = 2 * rows
    f1 = [math.sin(2 * math.pi * t / 288.0) for t in range(n)]
    f2, acc = [], 0.0
    for _ in range(n):
        acc = 0.995 * acc + rng.gauss(0, 0.05)
        f2.append(acc)
    f3, b = [], 0.0
    for _ in range(n):
        b = 0.8 * b + (rng.expovariate(1.0) if rng.random() < 0.05 else 0.0)
        f3.append(b)
    load = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(dims)]
    data = []
    for t in range(n):
        row = []
        for j in range(dims):
            if j in (dims - 1, dims - 2):
                row.append(0.0)  # constant columns
                continue
            a = load[j]
            row.append(a[0] * f1[t] + a[1] * f2[t] + a[2] * f3[t] + rng.gauss(0, 0.08))
        data.append(row)
    labels = [0] * rows
    test = data[rows:]
    kinds = ["decouple", "joint", "shift"]
    starts = sorted(rng.sample(range(100, rows - 120, 20), 6))
    for i, s in enumerate(starts):
        length = rng.randint(10, 60)
        kind = kinds[i % 3]
        cols = rng.sample(range(dims - 2), 3)
        for t in range(s, s + length):
            labels[t] = 1
            if kind == "decouple":
                # Inverted relation to the daily factor, same amplitude: within range.
                j = cols[0]
                a = load[j]
                test[t][j] = -a[0] * f1[rows + t] + a[1] * f2[rows + t] + a[2] * f3[rows + t] + rng.gauss(0, 0.08)
            elif kind == "joint":
                for j in cols:
                    test[t][j] += 0.35
            else:
                for j in cols[:2]:
                    test[t][j] -= 0.5
    # Min-max scaling with the training range, as SMD is published.
    lo = [min(r[j] for r in data[:rows]) for j in range(dims)]
    hi = [max(r[j] for r in data[:rows]) for j in range(dims)]
    def scale(r):
        return [(r[j] - lo[j]) / (hi[j] - lo[j]) if hi[j] > lo[j] else 0.0 for j in range(dims)]
    return [scale(r) for r in data[:rows]], [scale(r) for r in test], labels


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join(f"{v:.6f}" for v in r) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--machines", type=int, default=3)
    ap.add_argument("--dims", type=int, default=12)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for sub in ("train", "test", "test_label"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    for m in range(a.machines):
        name = f"machine-9-{m + 1}.txt"
        train, test, labels = machine(rng, a.dims, a.rows)
        write(os.path.join(a.out, "train", name), train)
        write(os.path.join(a.out, "test", name), test)
        with open(os.path.join(a.out, "test_label", name), "w") as f:
            f.write("\n".join(str(x) for x in labels) + "\n")


if __name__ == "__main__":
    main()
