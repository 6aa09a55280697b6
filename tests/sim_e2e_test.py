#!/usr/bin/python3
"""The simulator drives a real vigil serve, and the scorecard bench runs end to end.

1. Starts vigil, plays two scenarios of the suite into it with `vigil sim scenarios --run`
   (Online Boutique and Sock Shop, each a CPU hog on one pod after a 30-minute simulated
   lead-in), and checks that each injected CPU fault opens an incident on the right
   service and pod, within the fault's window (from the ground truth the simulator wrote).
2. Runs `vigil bench e2e --only ob-cpu --json` (it starts its own vigil) and checks the
   scorecard's JSON shape: the keys the issue names, detection figures present, and the
   columns of features vigil does not have yet (ranking, remediation) null, not faked.

Usage: sim_e2e_test.py /path/to/vigil
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

SCENARIOS = ["ob-cpu-load", "sockshop-cpu-load"]
GRACE_MS = 120_000
# An incident's opened_ms is its earliest evidence anomaly, and evidence is
# gathered over incidents.evidence_window (60 s): a blip on the pod shortly
# before the fault can date the incident the fault opened (seen once under
# ASan, where scenarios interleave differently).
EVIDENCE_WINDOW_MS = 60_000


def next_wednesday_10am(now=None):
    """The first Wednesday 10:00 UTC at least an hour from now (RFC 3339).

    The simulator's traffic follows the time of day and the day of the week, and its
    lead-in holds routine bursts: a start taken from the clock made each run's data
    different, and some starts put a burst on the faulty pod during the lead-in (an
    incident that the fault then joined, so none opened in its window: start
    2026-11-25T07:40:50Z fails with vigil of 5ad3ec1 as well). A fixed weekday and
    hour give the same data on every run. It lies ahead of the wall clock, as a start
    of "now" played at full speed did: vigil's incidents resolve by the wall clock, so
    none resolves in the middle of the replay."""
    now = time.time() if now is None else now
    day = 86400
    # Unix day 0 was a Thursday: days since the latest Wednesday
    midnight = now // day * day
    wednesday = midnight - ((now // day + 1) % 7) * day
    start = wednesday + 10 * 3600
    while start < now + 3600:
        start += 7 * day
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))


def main():
    with t.Harness("sim_e2e") as h:
        # The scenarios are replayed at full speed from now on, so their data
        # (and incidents) run ahead of vigil's wall clock: rank at once rather
        # than rca.first_rank_after (30 s) after an opening that is in the future.
        # Re-rank every second: the first ranking may come while a scenario is
        # still being played; the one checked below saw its fault's window.
        vigil = h.start_vigil(config={"rca": {"first_rank_after": "0s", "min_interval": "1s"}})
        truth_dir = h.mkdir("truth")
        # Both scenarios start at the same simulated time; SIM_E2E_START (RFC 3339)
        # replays a run exactly (its start is logged below).
        start = os.environ.get("SIM_E2E_START") or next_wednesday_10am()
        t.log(f"sim_e2e: scenarios start at {start} (replay with SIM_E2E_START={start})")
        for sc in SCENARIOS:
            r = subprocess.run([h.vigil_bin, "sim", "scenarios", "--run", sc, "--target", vigil.base,
                                "--ground-truth-dir", truth_dir, "--start", start],
                               capture_output=True, text=True, timeout=60)
            t.log(f"vigil sim scenarios --run {sc}: exit {r.returncode}\n{r.stdout}{r.stderr}")
            if r.returncode != 0:
                raise AssertionError(f"vigil sim failed on {sc}: {r.stderr}")
            if "remote_write requests" not in r.stdout or "0 refused" not in r.stdout:
                raise AssertionError(f"{sc}: remote_write not all accepted: {r.stdout}")

        for sc in SCENARIOS:
            with open(os.path.join(truth_dir, sc + ".json")) as f:
                gt = json.load(f)
            fault = gt["faults"][0]
            if fault["type"] != "cpu-load" or not fault["instance"]:
                raise AssertionError(f"{sc}: unexpected ground truth {fault}")
            deadline = time.monotonic() + 30
            match = None
            while time.monotonic() < deadline and match is None:
                for inc in vigil.incidents(limit=1000):
                    el = inc.get("entity_labels", {})
                    # The pod's own incident, or one it joined (a caller's that opened first).
                    on_pod = el.get("instance") == fault["instance"] and el.get("service") == fault["service"]
                    joined = any(f'instance="{fault["instance"]}"' in m and f'service="{fault["service"]}"' in m
                                 for m in inc.get("members", []))
                    if ((on_pod or joined)
                            and fault["start_ms"] - EVIDENCE_WINDOW_MS <= inc["opened_ms"] <= fault["end_ms"] + GRACE_MS):
                        match = inc
                        break
                if match is None:
                    time.sleep(0.5)
            if match is None:
                raise AssertionError(f"{sc}: no incident on {fault['service']} pod {fault['instance']} "
                                     f"between {fault['start']} and end+2min")
            t.log(f"{sc}: incident {match['id']} opened {(match['opened_ms'] - fault['start_ms']) / 1000:.0f}s "
                  f"after the fault on {fault['instance']}: {match['title'][:120]}")
            names = {s["name"].split("{")[0] for s in match.get("series", [])}
            if "container_cpu_usage_seconds_total" not in names:
                raise AssertionError(f"{sc}: the incident does not list the pod's CPU series: {sorted(names)}")
            # The incident gets a root-cause ranking with evidence (rca/ via the
            # engine's RcaRunner) and the faulty service is among its top 3.
            # A ranking whose abnormal window holds the fault's first minute
            # (an incident dated by a blip before the fault, ranked at once,
            # would otherwise judge the minute before it: seen in CI).
            def ranked_fault():
                d = vigil.incident(match["id"])
                rc = d.get("root_causes") or {}
                return d if rc.get("inputs", {}).get("to_ms", 0) >= fault["start_ms"] + 60_000 else None
            doc = t.wait_for(ranked_fault, 30, what=f"{sc}: root causes over the fault on incident {match['id']}")
            rc = doc["root_causes"]
            ranking = rc.get("ranking", [])
            if not ranking or not all(c.get("evidence") for c in ranking[:3]):
                raise AssertionError(f"{sc}: ranking without evidence: {json.dumps(rc)[:2000]}")
            # The ranking reports its compute time (how fast it is is a
            # benchmark's question, bench/rca_bench.sh, not a test's: under
            # ASan on a loaded CI machine it once took 1015 ms).
            if not isinstance(rc.get("compute_ms"), (int, float)) or rc["compute_ms"] < 0:
                raise AssertionError(f"{sc}: compute time missing: {rc.get('compute_ms')}")
            top = [c["service"] for c in ranking[:3]]
            t.log(f"{sc}: root causes in {rc['compute_ms']:.0f} ms: {top}; evidence of #1: "
                  f"{[e['text'] for e in ranking[0]['evidence']][:3]}")
            if fault["service"] not in top:
                raise AssertionError(f"{sc}: {fault['service']} not in the top 3 root causes {top}")
            # Both applications fail at the same simulated time in one daemon:
            # the ranking keeps to the incident's own application (rca/scope.h).
            # Only the second scenario's ranking is sure to see the first's
            # data (the first may be ranked before the second is played).
            dropped = rc.get("inputs", {}).get("services_dropped", [])
            if fault["service"] in dropped or (sc != SCENARIOS[0] and not dropped):
                raise AssertionError(f"{sc}: the other application was not scoped out: dropped {dropped}")
            # The ranking is stored before its timeline line is appended: wait for both.
            def ranked_line():
                d = vigil.incident(match["id"])
                return d if "root_causes" in [e["kind"] for e in d["timeline"]] else None
            doc = t.wait_for(ranked_line, 10, what=f"{sc}: root_causes line on incident {match['id']}'s timeline")
            kinds = [e["kind"] for e in doc["timeline"]]
            if "root_causes" not in kinds:
                raise AssertionError(f"{sc}: no root_causes line on the timeline: {kinds}")

    r = subprocess.run([t.vigil_binary(), "bench", "e2e", "--only", "ob-cpu", "--json", "--quiet"],
                       capture_output=True, text=True, timeout=60)
    t.log(f"vigil bench e2e --only ob-cpu --json: exit {r.returncode}\n{r.stdout}{r.stderr[-2000:]}")
    if r.returncode != 0:
        raise AssertionError("vigil bench e2e failed")
    card = json.loads(r.stdout)
    keys = {"detection_recall", "false_alarms_per_day", "detect_delay_p50_s", "detect_delay_p95_s", "ac1", "ac3",
            "avg5", "localize_p50_s", "recover_p50_s", "within_1_5_10"}
    for part in ("overall", "baseline"):
        if set(card[part]) != keys:
            raise AssertionError(f"{part}: keys {sorted(card[part])}, expected {sorted(keys)}")
    if set(card["by_fault"]) != {"cpu-load", "cpu-creep"}:
        raise AssertionError(f"by_fault: {sorted(card['by_fault'])}")
    if card["overall"]["detection_recall"] is None or card["overall"]["detection_recall"] < 0.5:
        raise AssertionError(f"vigil found too few of two CPU faults: {card['overall']}")
    # Incidents carry rankings now: AC@k and the time to locate are scored;
    # recovery columns stay null until self-healing lands.
    for k in ("ac1", "ac3", "avg5", "localize_p50_s"):
        if card["overall"][k] is None:
            raise AssertionError(f"{k} should be scored now that incidents carry rankings: {card['overall']}")
    if card["overall"]["ac3"] < 0.5:
        raise AssertionError(f"the CPU faults' services are not in the top 3 of the first ranking: {card['overall']}")
    for k in ("recover_p50_s", "within_1_5_10"):
        if card["overall"][k] is not None:
            raise AssertionError(f"{k} should be null until vigil heals: {card['overall']}")


if __name__ == "__main__":
    t.run_test(main)
