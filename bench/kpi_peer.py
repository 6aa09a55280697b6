"""Peer for bench/kpi_bench: pandas rolling median / MAD (a 240-point window,
the textbook robust detector) over the same kind of one-minute series, in
batch. Prints points per CPU-second of this thread (the machine is shared,
so wall time would count other processes; kpi_bench measures the same way). Run by Debian's /usr/bin/python3 with
python3-pandas (scripts/install-deps.sh installs it)."""
import sys
import time

import numpy as np
import pandas as pd

series = int(sys.argv[1]) if len(sys.argv) > 1 else 200
points = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
window = 240

rng = np.random.default_rng(1)
minute = np.arange(points)
total = 0.0
flagged = 0
for s in range(series):
    day = 2 * np.pi * (minute % 1440) / 1440.0
    values = 100 + 60 * np.sin(day) + 5 * rng.uniform(-1, 1, points)
    frame = pd.Series(values)
    t0 = time.thread_time()
    median = frame.rolling(window).median()
    mad = (frame - median).abs().rolling(window).median()
    z = (frame - median).abs() / (1.4826 * mad + 1e-9)
    flagged += int((z > 6).sum())
    total += time.thread_time() - t0
print(f"pandas_peer: {series} series x {points} points, rolling median/MAD window {window}")
print(f"  points/s (one core, batch): {series * points / total:.0f}")
print(f"  flagged: {flagged}")
