#include "rca/call_gaps.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "rca/metric_evidence.h"

namespace vigil::rca {

namespace {

struct Gap {
  const Span* parent;
  const Span* child;
  double gap_us;
};

std::vector<Gap> Gaps(const std::vector<Span>& spans) {
  std::unordered_map<uint64_t, const Span*> by_id;
  by_id.reserve(spans.size());
  for (const Span& s : spans) by_id.emplace(s.span_id, &s);
  std::vector<Gap> out;
  for (const Span& c : spans) {
    if (c.parent_span_id == 0) continue;
    auto it = by_id.find(c.parent_span_id);
    if (it == by_id.end()) continue;
    const Span* p = it->second;
    if (!(p->trace_id == c.trace_id) || p->service == c.service) continue;
    out.push_back({p, &c, static_cast<double>(std::max<int64_t>(0, p->duration_us - c.duration_us))});
  }
  return out;
}

std::string EdgeKey(const Gap& g) { return g.parent->service + '\x1f' + g.child->service + '\x1f' + g.child->operation; }

}  // namespace

std::vector<GapSuspect> RankCallGaps(const std::vector<Span>& baseline, const std::vector<Span>& window,
                                     double threshold_sd, int min_calls) {
  std::unordered_map<std::string, std::vector<double>> normal;
  for (const Gap& g : Gaps(baseline)) normal[EdgeKey(g)].push_back(g.gap_us);
  struct Limit {
    double median = 0, limit = 0;
  };
  std::unordered_map<std::string, Limit> limits;
  for (auto& [k, v] : normal) {
    if (v.size() < 5) continue;
    const double med = Median(v);
    // at least 1 ms and 50% beyond the median: sub-millisecond jitter is no gap
    limits[k] = {med, std::max({med + threshold_sd * RobustSd(v), med * 1.5, med + 1000.0})};
  }
  std::map<std::string, GapSuspect> by_instance;
  std::map<std::string, std::vector<double>> excess;
  auto at = [&](const Span* s) -> GapSuspect& {
    const std::string key = s->instance.empty() ? s->service : s->instance;
    GapSuspect& g = by_instance[key];
    g.service = s->service;
    g.instance = s->instance;
    return g;
  };
  for (const Gap& g : Gaps(window)) {
    auto it = limits.find(EdgeKey(g));
    if (it == limits.end()) continue;
    // Beyond the edge's baseline, and large beside the callee's own time:
    // when a slow callee is slower still, the gap's noise grows with it
    // (clocks, queues in proportion), while a network fault adds time that
    // has nothing to do with the work done.
    const bool slow = g.gap_us > it->second.limit &&
                      g.gap_us - it->second.median > 0.25 * static_cast<double>(g.child->duration_us);
    GapSuspect& in = at(g.child);
    GapSuspect& out = at(g.parent);
    ++in.calls_in;
    ++out.calls_out;
    if (slow) {
      ++in.slow_in;
      ++out.slow_out;
      excess[g.child->instance.empty() ? g.child->service : g.child->instance].push_back((g.gap_us - it->second.median) / 1000);
    }
  }
  // The share of slow calls, as the lower bound of its 95% Wilson score
  // interval: 94 slow calls of 94 say more than 6 of 9.
  auto wilson_low = [](int k, int n) {
    if (n <= 0) return 0.0;
    const double z = 1.96, p = static_cast<double>(k) / n, nn = static_cast<double>(n);
    const double centre = p + z * z / (2 * nn), spread = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
    return std::max(0.0, (centre - spread) / (1 + z * z / nn));
  };
  std::vector<GapSuspect> out;
  for (auto& [key, g] : by_instance) {
    const double in = g.calls_in >= min_calls ? wilson_low(g.slow_in, g.calls_in) : 0;
    const double outr = g.calls_out >= min_calls ? wilson_low(g.slow_out, g.calls_out) : 0;
    g.score = std::max(in, outr);
    auto e = excess.find(key);
    if (e != excess.end()) g.median_excess_ms = Median(e->second);
    if (g.score > 0) out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const GapSuspect& a, const GapSuspect& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.slow_in + a.slow_out > b.slow_in + b.slow_out;
  });
  return out;
}

}  // namespace vigil::rca
