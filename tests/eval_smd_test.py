#!/usr/bin/python3
"""`vigil eval smd` on synthetic data in the Server Machine Dataset layout.

tests/smd_synth.py writes 3 machines (12 metrics, 3000 train + 3000 test rows) with
injected multivariate anomalies; `vigil eval smd DIR --json` must read the layout, print
the JSON the issue asks for, and score the shrinkage-Mahalanobis detector above floors a
little below what it measured (point-adjusted F1 0.92, plain F1 0.74) and above a
per-metric z-score baseline computed here (which cannot see a metric decoupling from the
others). A malformed row must be refused with its file, line and column.
This is synthetic data: it checks the reader, the scoring and the detector, and is not an
SMD result.
Usage: eval_smd_test.py /path/to/vigil
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def read_rows(path):
    with open(path) as f:
        return [[float(x) for x in line.split(",")] for line in f if line.strip()]


def best_f1_pa(scores, labels):
    segs, i = [], 0
    while i < len(labels):
        if labels[i]:
            j = i
            while j < len(labels) and labels[j]:
                j += 1
            segs.append((i, j))
            i = j
        else:
            i += 1
    best = 0.0
    for thr in sorted(set(scores))[::max(1, len(set(scores)) // 300)]:
        pred = [s >= thr for s in scores]
        for b, e in segs:
            if any(pred[b:e]):
                pred[b:e] = [True] * (e - b)
        tp = sum(1 for p, l in zip(pred, labels) if p and l)
        fp = sum(1 for p, l in zip(pred, labels) if p and not l)
        fn = sum(1 for p, l in zip(pred, labels) if not p and l)
        if tp:
            best = max(best, 2 * tp / (2 * tp + fp + fn))
    return best


def zscore_baseline(d, name):
    train = read_rows(os.path.join(d, "train", name))
    test = read_rows(os.path.join(d, "test", name))
    with open(os.path.join(d, "test_label", name)) as f:
        labels = [int(x) for x in f.read().split()]
    k = len(train[0])
    mean = [sum(r[j] for r in train) / len(train) for j in range(k)]
    sd = [max((sum((r[j] - mean[j]) ** 2 for r in train) / len(train)) ** 0.5, 1e-3) for j in range(k)]
    scores = [max(abs(r[j] - mean[j]) / sd[j] for j in range(k)) for r in test]
    return best_f1_pa(scores, labels)


def main():
    with t.Harness("eval_smd") as h:
        d = h.mkdir("smd")
        subprocess.run([sys.executable, os.path.join(HERE, "smd_synth.py"), d], check=True)
        r = subprocess.run([h.vigil_bin, "eval", "smd", d, "--json"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        o = out["overall"]
        t.log(f"overall: {json.dumps(o)}")
        for key in ("best_f1_pa", "f1", "pa_k", "event_f1"):
            assert key in o, f"overall lacks {key}"
        assert set(out["series"]) == {"machine-9-1", "machine-9-2", "machine-9-3"}, out["series"].keys()
        assert o["best_f1_pa"] >= 0.85, o
        assert o["f1"] >= 0.65, o
        assert o["pa_k"]["0"] == o["best_f1_pa"] and o["pa_k"]["100"] <= o["best_f1_pa"], o["pa_k"]
        base = [zscore_baseline(d, f"machine-9-{m}.txt") for m in (1, 2, 3)]
        ours = [out["series"][f"machine-9-{m}"]["best_f1_pa"] for m in (1, 2, 3)]
        t.log(f"per machine F1(PA): mahalanobis {ours}, per-metric z-score baseline {[round(b, 4) for b in base]}")
        assert sum(ours) > sum(base), "the joint detector must beat per-metric z-scores on decoupling anomalies"

        # A malformed test row is refused with its place.
        path = os.path.join(d, "test", "machine-9-2.txt")
        with open(path) as f:
            lines = f.readlines()
        lines[4] = lines[4].replace(",", ",oops", 1)
        with open(path, "w") as f:
            f.writelines(lines)
        r = subprocess.run([h.vigil_bin, "eval", "smd", d], capture_output=True, text=True, timeout=60)
        assert "test/machine-9-2.txt: line 5, column 2" in r.stderr, r.stderr
        t.log("eval smd: layout, JSON, floors and errors checked")


if __name__ == "__main__":
    t.run_test(main)
