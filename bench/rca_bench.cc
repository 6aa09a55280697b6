// rca_bench: time from "incident open" to a first root-cause ranking
// (rca::Localize, the whole ensemble) on a generated case, beside the plain
// rank-by-score baseline (robust change per metric, best pod first) run on
// the same case in the same process.
//
//   rca_bench [SERVICES [SPANS [PODS_PER_SERVICE]]]   defaults: 100 100000 2
//
// The case: a tree-shaped call graph of SERVICES services (each called by
// one earlier service, plus cross edges), 20 metrics per pod at one point a
// minute over 36 minutes, SPANS spans in the abnormal window (and as many in
// the normal one), 20 log lines per pod per minute, a few deploy events; the
// fault is a CPU hog on one leaf pod that slows its callers' traces.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "rca/localize.h"

using namespace vigil;

namespace {

constexpr TimestampMs kT0 = 1767571200000;
constexpr int64_t kMin = 60000;

rca::CaseData Generate(int services, size_t spans_per_window, int pods_per_service, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  rca::CaseData d;
  d.incident_ms = kT0;
  std::vector<int> parent(static_cast<size_t>(services), -1);
  std::vector<std::vector<int>> children(static_cast<size_t>(services));
  for (int s = 1; s < services; ++s) {
    parent[static_cast<size_t>(s)] = static_cast<int>(rng() % static_cast<uint64_t>(s));
    children[static_cast<size_t>(parent[static_cast<size_t>(s)])].push_back(s);
  }
  int root_cause = services - 1;
  auto svc = [](int s) { return "svc" + std::to_string(s); };
  auto pod = [&](int s, int p) { return svc(s) + "-6d8f7c9b5-p" + std::to_string(p) + "xyz"; };
  const char* kMetrics[] = {"CpuUsageRate(%)", "MemoryUsage(Mi)", "NetworkReceiveBytes", "NetworkTransmitBytes",
                            "PodServerLatencyP99(s)", "PodClientLatencyP99(s)", "PodWorkload(Ops)", "PodSuccessRate(%)",
                            "Up", "Restarts", "TcpRetransmits", "FsUsage(Mi)", "FsIoTime(s)", "DnsLookupFailures",
                            "GcPause(s)", "HeapUsed(Mi)", "DbPoolActive", "DbPoolPending", "Http5xxRate(%)",
                            "NodeCpuUsageRate(%)"};
  for (int s = 0; s < services; ++s) {
    for (int p = 0; p < pods_per_service; ++p) {
      for (const char* m : kMetrics) {
        rca::MetricSeries series{svc(s), pod(s, p), "node-" + std::to_string((s * pods_per_service + p) / 8), m, {}, {}};
        const double base = 10 + static_cast<double>(rng() % 100);
        for (int i = -30; i < 6; ++i) {
          double v = base * (1 + 0.03 * noise(rng));
          if (i >= 0 && s == root_cause && p == 0 && std::string(m) == "CpuUsageRate(%)") v = base * 3;
          series.ts_ms.push_back(kT0 + i * kMin);
          series.values.push_back(v);
        }
        d.metrics.push_back(std::move(series));
      }
      for (int i = -30; i < 6; ++i) {
        for (int k = 0; k < 20; ++k) {
          d.logs.push_back({kT0 + i * kMin + k * 1000, svc(s), pod(s, p), "", k == 0, k == 0 ? "ERROR retry <*>" : "GET <*> 200"});
        }
      }
    }
  }
  // Traces: a random walk from the root down the tree, one span per call.
  uint64_t id = 1;
  for (int window = 0; window < 2; ++window) {
    size_t made = 0;
    uint64_t trace = 0;
    while (made < spans_per_window) {
      ++trace;
      const TimestampMs t = window == 0 ? kT0 - 20 * kMin + static_cast<TimestampMs>(rng() % (15 * kMin))
                                        : kT0 + static_cast<TimestampMs>(rng() % (4 * kMin));
      int s = 0;
      uint64_t par = 0;
      for (int depth = 0; depth < 8 && made < spans_per_window; ++depth) {
        Span sp;
        sp.trace_id = {static_cast<uint64_t>(window + 1), trace};
        sp.span_id = id++;
        sp.parent_span_id = par;
        sp.service = svc(s);
        sp.instance = pod(s, static_cast<int>(rng() % static_cast<uint64_t>(pods_per_service)));
        sp.operation = "op" + std::to_string(s % 7);
        sp.start_us = t * 1000;
        const bool slow = window == 1 && s == root_cause;
        sp.duration_us = static_cast<int64_t>((slow ? 80000 : 10000) * (1 + 0.1 * std::fabs(noise(rng))));
        d.spans.push_back(std::move(sp));
        ++made;
        par = id - 1;
        const auto& ch = children[static_cast<size_t>(s)];
        if (ch.empty()) break;
        // walk towards the root cause now and then, so it sits in traces
        s = (rng() % 4 == 0 && parent[static_cast<size_t>(root_cause)] == s) ? root_cause : ch[rng() % ch.size()];
      }
    }
  }
  for (int k = 0; k < 5; ++k) {
    Event e;
    e.ts_ms = kT0 - (k * 7 + 3) * kMin;
    e.kind = "deploy";
    e.labels = *Labels::FromPairs({{"service", svc(static_cast<int>(rng() % static_cast<uint64_t>(services)))}});
    d.events.push_back(std::move(e));
  }
  return d;
}

double TimeMs(const rca::CaseData& d, const rca::LocalizeOptions& o, std::string* top) {
  auto t0 = std::chrono::steady_clock::now();
  rca::Ranking r = rca::Localize(d, o);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const auto& list = r.causes.empty() ? r.baseline : r.causes;
  *top = list.empty() ? "-" : list[0].service;
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const int services = argc > 1 ? std::atoi(argv[1]) : 100;
  const size_t spans = argc > 2 ? static_cast<size_t>(std::atoll(argv[2])) : 100000;
  const int pods = argc > 3 ? std::atoi(argv[3]) : 2;
  rca::CaseData d = Generate(services, spans, pods, 7);
  rca::LocalizeOptions ensemble;
  rca::LocalizeOptions baseline;
  baseline.use_traces = baseline.use_logs = baseline.use_changes = baseline.use_hosts = false;
  baseline.metric_method = rca::LocalizeOptions::MetricMethod::kScore;
  std::string top_e, top_b;
  double best_e = 1e18, best_b = 1e18;
  for (int rep = 0; rep < 3; ++rep) {
    best_e = std::min(best_e, TimeMs(d, ensemble, &top_e));
    best_b = std::min(best_b, TimeMs(d, baseline, &top_b));
  }
  std::printf("services=%d pods=%zu series=%zu spans_in_window=%zu log_lines=%zu\n", services,
              static_cast<size_t>(services * pods), d.metrics.size(), spans, d.logs.size());
  std::printf("ensemble_ms=%.1f baseline_rank_by_score_ms=%.1f ratio=%.1f top=%s baseline_top=%s (truth svc%d)\n",
              best_e, best_b, best_e / std::max(best_b, 1e-3), top_e.c_str(), top_b.c_str(), services - 1);
  return 0;
}
