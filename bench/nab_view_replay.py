#!/usr/bin/env python3
"""Scores a candidate view offline before it is written in C++
(docs/detection.md, round nab10). Reads `vigil eval nab --dump-scores DIR`,
computes a new view's surprise from each file's value column (causal: a
point's surprise uses only the values up to it), merges it into the dumped
evidence as max(surprise, view - C) + novelty (or, with w=W, adds W max(0,
view - C) to the evidence), and scores the three NAB
profiles through bench/nab_replay.py (the NAB adapter and scorer, which
reproduce `vigil eval nab --json` to the digit). A view that cannot gain
here will not gain in the detector; one that gains still has to be built
and measured there (its interaction with the other views' state is not
modelled: ranking-only views are modelled exactly).

Views:
  typicality   a typicality test on the distribution of values (T. Cover,
               J. Thomas, "Elements of Information Theory", 2006, ch. 3,
               the asymptotic equipartition property): values are binned in
               units of a robust scale fixed after `warm` points; the long-run
               bin probabilities p come from the last `cap` values (KT
               estimator, counts + 1/2); an EWMA (weight `alpha`) of the
               point's rarity -ln p(bin) is compared with the entropy H of p,
               the typical value of that average; its surprise is the
               Gaussian upper tail of (EWMA - H) over the deviation's own slow
               mean square (time constant `span` x the EWMA's, judged after
               half of it). A stretch that keeps visiting values the series
               only touched before (a quantised series' new level, a new rate
               of spikes) is atypical.
  learning_mad the learning phase (first `upto` points) judged against the
               median and MAD of the last `W` values (F. Hampel, JASA 1974:
               the MAD's 50 % breakdown point), so a start-up transient does
               not inflate the scale: |x - median| / (1.4826 MAD) > `thr`
               ranks at `base` + `k` log10(z / thr).

Usage: python3 bench/nab_view_replay.py DUMP_DIR VIEW C [w=W] [key=value ...]
e.g.   python3 bench/nab_view_replay.py /tmp/d typicality 3 w=0.5 halve=1
Evaluation only: the in_window column is the labels."""
import math, os, sys
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_replay as nr  # noqa: E402


def typicality(vals, cap=1024, warm=100, alpha=1 / 16, nb=16, minhist=512, width=1.0, span=20.0, halve=0, every=1, hold=0):
    """halve=1: bin counts halved (rounding down) whenever their total
    reaches cap (a window of ~cap / 2 .. cap values, O(1) memory per bin)
    instead of the exact ring of the last cap values."""
    n, out = len(vals), [0.0] * len(vals)
    if n <= warm:
        return out
    head = sorted(vals[:warm])
    med = head[warm // 2]
    mad = sorted(abs(v - med) for v in vals[:warm])[warm // 2] * 1.4826
    if mad <= 0:
        mad = max((head[-1] - head[0]) / 4, 1e-9 * abs(med), 1e-9)
    nbins = 2 * nb + 1
    cnt, ring, total, judging, ew, var, k = [0] * nbins, deque(), 0, False, None, None, 0
    for i, x in enumerate(vals):
        if every > 1 and i % every:
            # (a view run on every n-th point only: the others get 0, or
            # with hold=1 the last judged point's surprise)
            out[i] = out[i - 1] if hold and i > 0 else 0.0
            continue
        b = max(-nb, min(nb, int(math.floor((x - med) / (mad * width) + 0.5)))) + nb
        judging = judging or total >= minhist
        if judging:
            p = [(c + 0.5) / (total + 0.5 * nbins) for c in cnt]
            h = sum(-q * math.log(q) for q in p)
            r = -math.log(p[b])
            ew = r if ew is None else ew + alpha * (r - ew)
            d = ew - h
            k += 1
            z = d / math.sqrt(var) if var else 0.0
            if k * alpha < 0.5 * span:
                z = 0.0
            a = max(alpha / span, 1.0 / k)
            var = d * d if var is None else var + a * (min(d * d, 9 * var) - var)
            if z > 2:
                out[i] = min(10.0, -math.log10(max(1e-300, 0.5 * math.erfc(z / math.sqrt(2)))))
        if i >= warm:
            cnt[b] += 1
            total += 1
            if halve:
                if total >= cap:
                    cnt = [c // 2 for c in cnt]
                    total = sum(cnt)
            else:
                ring.append(b)
                if len(ring) > cap:
                    cnt[ring.popleft()] -= 1
                    total -= 1
    return out


def learning_mad(vals, W=64, thr=10.0, upto=600, start=30, base=4.0, k=0.0):
    out = [0.0] * len(vals)
    for i in range(start, min(upto, len(vals))):
        w = sorted(vals[max(0, i - W):i])
        med = w[len(w) // 2]
        mad = max(sorted(abs(v - med) for v in w)[len(w) // 2] * 1.4826, 1e-3 * abs(med), 1e-9)
        z = abs(vals[i] - med) / mad
        if z > thr:
            out[i] = base + k * math.log10(z / thr)
    return out


VIEWS = {'typicality': typicality, 'learning_mad': learning_mad}


def main():
    if len(sys.argv) < 4 or sys.argv[2] not in VIEWS:
        sys.exit(__doc__)
    files, view, c = nr.load(sys.argv[1]), VIEWS[sys.argv[2]], float(sys.argv[3])
    params = {kv.split('=')[0]: float(kv.split('=')[1]) for kv in sys.argv[4:]}
    w = params.pop('w', None)
    for key in ('cap', 'warm', 'nb', 'minhist', 'W', 'upto', 'start', 'halve', 'every', 'hold'):
        if key in params:
            params[key] = int(params[key])
    scores = {}
    for name, rows in files.items():
        t = view([float(r['value']) for r in rows], **params)
        if w is None:
            ev = [max(float(r['surprise']), s - c) + float(r['novelty']) for r, s in zip(rows, t)]
        else:
            ev = [nr.evidence(r) + w * max(0.0, s - c) for r, s in zip(rows, t)]
        scores[name] = nr.mapper(ev)
    print(' / '.join('%.2f' % nr.score(files, scores, p)[0] for p in nr.PROFILES))


if __name__ == '__main__':
    main()
