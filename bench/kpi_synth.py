#!/usr/bin/env python3
"""Synthetic labelled KPIs in the AIOps Challenge 2018 layout
(timestamp,value,label,KPI ID) for `vigil eval kpi` (docs/detection.md,
"Synthetic KPI check"). Ten KPIs per seed at one-minute resolution with
daily and weekly rhythms: web traffic (three), low-volume counts, latency
(two, with unlabelled benign slow bursts), success rate, a CPU-like gauge,
a quantised flat series and a heavy-tailed one; 8-16 labelled spikes,
dips, shifts, traffic drops and gradual shifts per KPI after day 3; a few
short collection gaps. Also writes OUT.csv.segs (KPI, start index, kind,
length, size in noise sds; the start is the KPI's row index, counted after
the gaps) for per-kind analysis. Output is generated data:
keep it out of the repo.
Usage: python3 bench/kpi_synth.py SEED OUT.csv [DAYS=21]"""
import math, random, sys

seed = int(sys.argv[1]); out = sys.argv[2]
days = int(sys.argv[3]) if len(sys.argv) > 3 else 21
rng = random.Random(seed)
N = days * 1440
T0 = 1500000000 - (1500000000 % 86400) + 4 * 86400  # a Monday-ish UTC midnight


def daily_shape(m, phase):
    # two humps (late morning, evening) and a night trough, in [~0, 1]
    h = ((m / 60.0) + phase) % 24
    a = math.exp(-((h - 11) / 3.0) ** 2) + 0.8 * math.exp(-((h - 20) / 2.5) ** 2)
    return min(1.0, a)


def weekly_factor(day, weekend):
    # weekends scale the daytime activity (the night trough is the same)
    return weekend if day % 7 in (5, 6) else 1.0


def ar1(n, phi, sd):
    x, out = 0.0, []
    s = sd * math.sqrt(1 - phi * phi)
    for _ in range(n):
        x = phi * x + rng.gauss(0, s)
        out.append(x)
    return out


def make(kind):
    phase = rng.uniform(-2, 2)
    weekend = rng.uniform(0.55, 0.9)
    base, vals, noise_sd = [], [], []
    if kind == "traffic":
        lvl = rng.uniform(2000, 20000)
        amp = rng.uniform(0.8, 3.0)
        ar = ar1(N, 0.8, 0.02)
        for i in range(N):
            mu = lvl * (0.3 + amp * daily_shape(i % 1440, phase) * weekly_factor(i // 1440, weekend))
            base.append(mu)
            sd = math.sqrt(mu) * 2 + 0.01 * mu
            noise_sd.append(sd)
            vals.append(mu * (1 + ar[i]) + rng.gauss(0, math.sqrt(mu) * 2))
    elif kind == "lowcount":
        lvl = rng.uniform(5, 40)
        for i in range(N):
            mu = lvl * (0.2 + 1.5 * daily_shape(i % 1440, phase) * weekly_factor(i // 1440, weekend))
            base.append(mu)
            noise_sd.append(math.sqrt(mu) + 0.5)
            # Poisson by inversion (small means)
            L, k, p = math.exp(-mu), 0, 1.0
            if mu < 60:
                while True:
                    p *= rng.random()
                    if p < L:
                        break
                    k += 1
            else:
                k = max(0, round(rng.gauss(mu, math.sqrt(mu))))
            vals.append(float(k))
    elif kind == "latency":
        med = rng.uniform(40, 300)
        sig = rng.uniform(0.08, 0.2)
        for i in range(N):
            load = daily_shape(i % 1440, phase) * weekly_factor(i // 1440, weekend)
            mu = med * (1 + 0.3 * load)
            base.append(mu)
            noise_sd.append(mu * sig)
            v = mu * math.exp(rng.gauss(0, sig))
            if rng.random() < 0.003:  # benign slow requests: heavy tail, unlabelled
                v *= rng.uniform(1.2, 1.8)
            vals.append(v)
    elif kind == "success":
        err = rng.uniform(0.001, 0.01)
        for i in range(N):
            load = daily_shape(i % 1440, phase) * weekly_factor(i // 1440, weekend)
            reqs = 200 + 3000 * load
            mu = 1 - err * (1 + 0.5 * load)
            base.append(mu)
            sd = math.sqrt(err * (1 - err) / reqs) * 1.5
            noise_sd.append(sd)
            vals.append(min(1.0, mu + rng.gauss(0, sd)))
    elif kind == "gauge":  # CPU-like, AR noise, mild seasonality, slow weekly trend
        lvl = rng.uniform(20, 60)
        amp = rng.uniform(5, 25)
        sd0 = rng.uniform(1, 4)
        ar = ar1(N, 0.9, sd0)
        trend = rng.choice([0.0, 0.0002, -0.0002])  # slow growth or decline (unlabelled)
        for i in range(N):
            mu = lvl + amp * daily_shape(i % 1440, phase) * weekly_factor(i // 1440, weekend) + trend * i
            base.append(mu)
            noise_sd.append(sd0)
            vals.append(mu + ar[i])
    elif kind == "stable":  # no seasonality, quantised
        lvl = rng.uniform(30, 200)
        sd0 = rng.uniform(0.5, 3)
        for i in range(N):
            base.append(lvl)
            noise_sd.append(sd0)
            vals.append(round(lvl + rng.gauss(0, sd0)))
    elif kind == "heavy":  # noisy, heavy-tailed, weak seasonality
        lvl = rng.uniform(100, 1000)
        sd0 = lvl * 0.05
        for i in range(N):
            mu = lvl * (1 + 0.3 * daily_shape(i % 1440, phase))
            base.append(mu)
            noise_sd.append(sd0 * 2)
            e = rng.gauss(0, 1)
            vals.append(mu + sd0 * e * abs(e))
    labels = [0] * N
    global segs_info
    segs_info = []
    # anomalies: avoid the first 3 days (learning), keep them apart
    nseg = rng.randint(8, 16)
    starts = sorted(rng.sample(range(3 * 1440, N - 300, 200), nseg))
    for s in starts:
        typ = rng.choices(["spike", "dip", "shift", "ramp", "drop"], [3, 3, 2, 1, 2])[0]
        mag = rng.uniform(4, 12)
        if typ in ("spike", "dip"):
            ln = rng.choice([1, 1, 2, 3, 5, 8])
        elif typ == "shift":
            ln = rng.randint(10, 120)
        elif typ == "ramp":
            ln = rng.randint(30, 180)
            rise = rng.randint(5, 20)
        else:
            ln = rng.randint(5, 60)
        sign = 1 if typ in ("spike",) else -1 if typ in ("dip", "drop") else rng.choice([1, -1])
        if kind == "success":
            sign = -1
        for j in range(s, min(N, s + ln)):
            sd = noise_sd[j]
            if typ == "drop" and kind in ("traffic", "lowcount"):
                frac = rng.uniform(0.3, 0.7) if j == s else frac
                vals[j] = vals[j] * (1 - frac)
            elif typ == "ramp":  # a gradual shift: full size after 5-20 points, then held
                vals[j] += sign * mag * sd * min(1.0, (j - s + 1) / rise)
            else:
                vals[j] += sign * mag * sd
            if kind == "success":
                vals[j] = min(1.0, vals[j])
            if kind in ("lowcount", "stable"):
                vals[j] = max(0.0, round(vals[j]))
            labels[j] = 1
        segs_info.append((s, typ, ln, round(mag, 1)))
    return vals, labels


open(out + ".segs", "w").close()
kinds = ["traffic", "traffic", "lowcount", "latency", "latency", "success", "gauge", "stable", "heavy", "traffic"]
with open(out, "w") as f:
    f.write("timestamp,value,label,KPI ID\n")
    for k, kind in enumerate(kinds):
        vals, labels = make(kind)
        kid = "%s-%02d" % (kind, k)
        # a few missing stretches, as real collection has
        skip = set()
        for _ in range(rng.randint(0, 3)):
            g = rng.randrange(1440, N - 100)
            skip.update(range(g, g + rng.randint(2, 30)))
        row, rows = 0, []  # the KPI's row of each minute written
        for i in range(N):
            if i in skip and not labels[i]:
                rows.append(-1)
                continue
            rows.append(row)
            row += 1
            f.write("%d,%.6g,%d,%s\n" % (T0 + 60 * i, vals[i], labels[i], kid))
        # .segs: start as the KPI's row index (labelled minutes are never
        # skipped), as `vigil eval kpi --dump-scores` numbers its points
        with open(out + ".segs", "a") as sf:
            for si in segs_info:
                sf.write("%s,%d,%s,%d,%s\n" % ((kid, rows[si[0]]) + si[1:]))
