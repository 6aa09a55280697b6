#!/usr/bin/env python3
"""Replays `vigil eval nab --dump-scores DIR` offline (docs/detection.md,
round nab8): re-runs the NAB adapter's record / run / recurrence rules
(`NabScoreMapper`, src/cli/kpi_runs.cc) on each row's evidence (surprise +
novelty) and scores the three NAB profiles as src/eval/nab_scorer.cc does
(it reproduces `vigil eval nab --json` to the digit), so that a ranking-only
variant, any function of the dumped columns, is measured in seconds without
a rebuild. Also prints where the points go at a profile's corpus threshold
(false records, missed windows, detection delay) and the per-file oracle
(each file's own best threshold).
Usage: python3 bench/nab_replay.py DUMP_DIR [--profile low_fp] [--oracle]
Evaluation only: the in_window column is the labels."""
import bisect, csv, glob, math, os, sys
from collections import deque

PROFILES = {'standard': (1.0, 0.11, 1.0), 'low_fp': (1.0, 0.22, 1.0), 'low_fn': (1.0, 0.11, 2.0)}


def sig(y):
    return -1.0 if y > 3 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


S1 = sig(-1.0)


def load(d):
    return {os.path.basename(p): list(csv.DictReader(open(p))) for p in sorted(glob.glob(d + '/*'))}


def evidence(r):
    return float(r['surprise']) + float(r['novelty'])


def mapper(ev, memory=100, w=1.5, m=0.5):
    """NabScoreMapper::Map over one file's evidence, as NAB scores in [0, 1)."""
    out, reports, dq, in_run, peak = [0.0] * len(ev), [], deque(), False, 0.0
    for i, u in enumerate(ev):
        record = not dq or u > dq[0][1]
        while dq and dq[-1][1] <= u:
            dq.pop()
        dq.append((i, u))
        while dq[0][0] + memory <= i:
            dq.popleft()
        rep = 0.0
        if record:
            peak = max(peak, u) if in_run else u
        elif in_run:
            n = len(reports) - bisect.bisect_left(reports, peak - m)
            rep = max(0.0, peak - w * math.log10(1 + n))
            bisect.insort(reports, peak)
        in_run = record
        out[i] = rep / (4 + rep)
    return out


def windows(rows):
    ws, start = [], None
    for i, r in enumerate(rows):
        if r['in_window'] == '1' and start is None:
            start = i
        if r['in_window'] != '1' and start is not None:
            ws.append((start, i - 1))
            start = None
    if start is not None:
        ws.append((start, len(rows) - 1))
    return ws


def records(rows, scores, ws):
    """(score, window or -1, unweighted NAB weight, row) of the scored rows."""
    n, out, w, prev = len(rows), [], 0, None
    probation = min(int(math.floor(0.15 * n)), 750)
    for i in range(n):
        while w < len(ws) and ws[w][1] < i:
            prev, w = ws[w], w + 1
        if w < len(ws) and ws[w][0] <= i:
            l, r = ws[w]
            un, win = sig(-(r - i + 1.0) / (r - l + 1)), w
        elif prev is None:
            un, win = -1.0, -1
        else:
            pw = prev[1] - prev[0] + 1
            un, win = (sig(abs(prev[1] - i) / (pw - 1)) if pw > 1 else -1.0), -1
        if i >= probation:
            out.append((scores[i], win, un, i))
    return out


def score(files, scores, prof, thr=None):
    tpw, fpw, fnw = PROFILES[prof]
    per, allrec, nwin, scorable = {}, [], 0, set()
    for name, rows in files.items():
        ws = windows(rows)
        rec = records(rows, scores[name], ws)
        scorable |= {(name, win) for _, win, _, _ in rec if win >= 0}
        per[name] = (ws, rec)
        nwin += len(ws)
        allrec += [(s, name, win, un) for s, win, un, _ in rec]
    wgt = lambda win, un: un * tpw / S1 if win >= 0 else un * fpw
    if thr is None:
        allrec.sort(key=lambda r: -r[0])
        total = best_total = -fnw * len(scorable)
        best, thr, i = {}, 1.1, 0
        while i < len(allrec):
            t = allrec[i][0]
            while i < len(allrec) and allrec[i][0] == t:
                _, name, win, un = allrec[i]
                g = wgt(win, un)
                if win < 0:
                    total += g
                elif g > best.get((name, win), -fnw):
                    total += g - best.get((name, win), -fnw)
                    best[(name, win)] = g
                i += 1
            if total > best_total:
                best_total, thr = total, t
    det, tot = {}, 0.0
    for name, (ws, rec) in per.items():
        fp, bw = [], {}
        for s, win, un, i in rec:
            if s < thr:
                continue
            g = wgt(win, un)
            if win < 0:
                fp.append((i, g))
            elif g > bw.get(win, (-fnw,))[0]:
                bw[win] = (g, i)
        raw = sum(g for _, g in fp)
        miss, tp = [], []
        for w in range(len(ws)):
            if (name, w) in scorable:
                if w in bw:
                    raw += bw[w][0]
                    tp.append((ws[w], bw[w]))
                else:
                    raw -= fnw
                    miss.append(ws[w])
        det[name] = dict(raw=raw, fp=fp, miss=miss, tp=tp)
        tot += raw
    return 100 * (tot + fnw * nwin) / (tpw * nwin + fnw * nwin), thr, det


def oracle(files, scores, prof):
    """Each file at its own best threshold (an optimistic bound)."""
    tpw, fpw, fnw = PROFILES[prof]
    tot, nwin = 0.0, 0
    for name, rows in files.items():
        ws = windows(rows)
        rec = records(rows, scores[name], ws)
        scor = {win for _, win, _, _ in rec if win >= 0}
        best = -fnw * len(scor)
        for t in sorted({s for s, _, _, _ in rec if s > 0}, reverse=True):
            raw, bw = 0.0, {}
            for s, win, un, _ in rec:
                if s >= t:
                    g = un * tpw / S1 if win >= 0 else un * fpw
                    if win < 0:
                        raw += g
                    else:
                        bw[win] = max(bw.get(win, -fnw), g)
            best = max(best, raw + sum(bw.get(w, -fnw) for w in scor))
        tot += best
        nwin += len(ws)
    return 100 * (tot + fnw * nwin) / (tpw * nwin + fnw * nwin)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    prof = args[args.index('--profile') + 1] if '--profile' in args else 'low_fp'
    files = load(args[0])
    scores = {n: mapper([evidence(r) for r in rows]) for n, rows in files.items()}
    for p in PROFILES:
        s, t, _ = score(files, scores, p)
        print('%-8s %.2f (threshold %.4f, evidence %.2f)' % (p, s, t, 4 * t / (1 - t)))
    s, t, det = score(files, scores, prof)
    late = sum(1 - g for d in det.values() for _, (g, _) in d['tp'])
    print('%s at its threshold: %d windows found, %d missed, %d false records (%.2f), delay loss %.2f' %
          (prof, sum(len(d['tp']) for d in det.values()), sum(len(d['miss']) for d in det.values()),
           sum(len(d['fp']) for d in det.values()), sum(g for d in det.values() for _, g in d['fp']), late))
    worst = sorted((d['raw'], n) for n, d in det.items())[:10]
    for raw, n in worst:
        d = det[n]
        print('  %-55s %6.2f: %d false, %d missed' % (n, raw, len(d['fp']), len(d['miss'])))
    if '--oracle' in args:
        print('per-file oracle: ' + ' / '.join('%.2f' % oracle(files, scores, p) for p in PROFILES))


if __name__ == '__main__':
    main()
