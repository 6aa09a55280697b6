#include "rca/metric_evidence.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace vigil::rca {

namespace {

// Scores beyond 10 robust sd grow logarithmically: a metric that never
// moved in the normal window (a restart counter, DNS failures) has almost
// no scale, and any change of it is "infinitely" abnormal; compressing keeps
// such metrics comparable with the rest (their order kept) instead of
// letting the units they happen to use decide.
constexpr double kKnee = 10.0;
constexpr double kCap = 80.0;
constexpr double kPeakCap = 10.0;
double Compress(double z) { return z <= kKnee ? z : std::min(kCap, kKnee * (1 + std::log(z / kKnee))); }

bool Lower(const std::string& s, const char* needle) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return l.find(needle) != std::string::npos;
}

std::string EntityKey(const MetricSeries& m) { return m.instance.empty() ? "svc:" + m.service : m.instance; }

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    double lo = *std::max_element(v.begin(), v.begin() + static_cast<long>(mid));
    m = (m + lo) / 2;
  }
  return m;
}

static double Quantile(std::vector<double>& v, double q) {
  // linear interpolation between order statistics
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t i = static_cast<size_t>(pos);
  double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

double RobustSd(std::vector<double> v) {
  if (v.size() < 2) return 0;
  double q1 = Quantile(v, 0.25), q3 = Quantile(v, 0.75);
  return (q3 - q1) / 1.349;
}

bool IsNodeIndicator(const std::string& name) {
  return name.rfind("Node", 0) == 0 || name.rfind("node_", 0) == 0;
}

IndicatorKind KindOfIndicator(const std::string& name) {
  // errors first: http_server_requests_total{code="5xx"} counts failures
  if (Lower(name, "success") || Lower(name, "error") || Lower(name, "5xx") || Lower(name, "4xx")) {
    return IndicatorKind::kErrors;
  }
  if (Lower(name, "workload") || Lower(name, "requests_total") || Lower(name, "ops")) {
    return Lower(name, "client") ? IndicatorKind::kClientLoad : IndicatorKind::kLoad;
  }
  if (Lower(name, "latency") || Lower(name, "duration")) return IndicatorKind::kLatency;
  return IndicatorKind::kResource;
}

// The score of one abnormal window against a normal one (BARO): centre and
// scale from the normal window, the largest deviation in the abnormal one.
static MetricChange ScoreWindows(const std::vector<double>& normal, const std::vector<double>& abnormal) {
  MetricChange c;
  c.normal_median = Median(normal);
  c.abnormal_median = Median(abnormal);
  double maxabs = 0;
  for (double x : normal) maxabs = std::max(maxabs, std::fabs(x));
  for (double x : abnormal) maxabs = std::max(maxabs, std::fabs(x));
  // The IQR is the scale (BARO), floored by the classical sd of the normal
  // window: a sparse metric (a 5xx rate that is 0 most minutes and 1% now
  // and then) has an IQR of 0, and its routine blips are not news.
  double mean = 0, var = 0;
  for (double x : normal) mean += x;
  mean /= static_cast<double>(normal.size());
  for (double x : normal) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / static_cast<double>(normal.size()));
  c.scale = std::max({RobustSd(normal), sd, 0.02 * std::fabs(c.normal_median), 1e-3 * maxabs, 1e-12});
  // The second-largest deviation of the abnormal window, not the largest:
  // the move must hold for two points, so one blip of a sparse metric (a
  // lone 5xx on a quiet service) is not taken for a change.
  double first = 0, second = 0;
  for (double x : abnormal) {
    const double z = (x - c.normal_median) / c.scale;
    if (std::fabs(z) > std::fabs(first)) {
      second = first;
      first = z;
    } else if (std::fabs(z) > std::fabs(second)) {
      second = z;
    }
  }
  // ... unless the metric was constant in the normal window (a restart
  // counter, `up`): then a single event is news, worth the capped peak.
  const bool constant = sd == 0;
  const double peak = abnormal.size() >= 2 && !constant ? second : first;
  // A fault at its root holds: the shift of the abnormal window's median
  // counts in full, a transient peak (a routine p99 spike, a retry burst)
  // at most kPeakCap robust sd.
  const double shift = (c.abnormal_median - c.normal_median) / c.scale;
  c.signed_z = std::fabs(shift) >= std::min(std::fabs(peak), kPeakCap) ? shift
                                                                       : std::copysign(kPeakCap, peak);
  if (std::fabs(peak) < kPeakCap && std::fabs(shift) < std::fabs(peak)) c.signed_z = peak;
  c.score = Compress(std::fabs(c.signed_z));
  c.sustained = std::copysign(Compress(std::fabs(shift)), shift);
  return c;
}

std::vector<MetricChange> ScoreMetricChanges(const CaseData& data, const MetricWindows& w) {
  std::vector<MetricChange> out;
  std::vector<double> normal, abnormal;
  for (size_t i = 0; i < data.metrics.size(); ++i) {
    const MetricSeries& m = data.metrics[i];
    normal.clear();
    abnormal.clear();
    for (size_t k = 0; k < m.ts_ms.size() && k < m.values.size(); ++k) {
      double v = m.values[k];
      if (!std::isfinite(v)) continue;
      if (m.ts_ms[k] >= w.normal_begin && m.ts_ms[k] < w.normal_end) normal.push_back(v);
      if (m.ts_ms[k] >= w.abnormal_begin && m.ts_ms[k] < w.abnormal_end) abnormal.push_back(v);
    }
    if (normal.size() < 3 || abnormal.empty()) continue;
    MetricChange c = ScoreWindows(normal, abnormal);
    c.series = i;
    out.push_back(c);
  }
  return out;
}

static std::vector<MetricSuspect> BestPerEntity(const CaseData& data, const std::vector<MetricChange>& changes,
                                                const std::vector<double>& scores) {
  std::unordered_map<std::string, size_t> at;
  std::vector<MetricSuspect> out;
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricSeries& m = data.metrics[changes[i].series];
    if (IsNodeIndicator(m.indicator)) continue;  // the host's, not the pod's (host_scan.h)
    auto [it, fresh] = at.try_emplace(EntityKey(m), out.size());
    if (fresh) out.push_back({m.service, m.instance, m.host, m.indicator, -1, 0, 0, 0});
    MetricSuspect& s = out[it->second];
    if (scores[i] > s.score) {
      s.score = scores[i];
      s.indicator = m.indicator;
      s.raw_score = changes[i].score;
      s.normal_median = changes[i].normal_median;
      s.abnormal_median = changes[i].abnormal_median;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const MetricSuspect& a, const MetricSuspect& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.raw_score > b.raw_score;
  });
  return out;
}

std::vector<MetricSuspect> RankByScore(const CaseData& data, const std::vector<MetricChange>& changes) {
  std::vector<double> scores;
  scores.reserve(changes.size());
  for (const auto& c : changes) scores.push_back(c.score);
  return BestPerEntity(data, changes, scores);
}

namespace {

// A regular time grid shared by every series of the case, and the mean per
// service and kind on it: the parents of a pod's metric are its neighbour
// services' aggregates (a caller talks to a service, not to a pod).
struct Grid {
  std::vector<TimestampMs> ts;
  std::unordered_map<TimestampMs, size_t> at;
};

Grid BuildGrid(const CaseData& data, const MetricWindows& w) {
  Grid g;
  for (const auto& m : data.metrics) {
    for (TimestampMs t : m.ts_ms) {
      if (t >= w.normal_begin && t < w.abnormal_end && !g.at.count(t)) {
        g.at.emplace(t, 0);
        g.ts.push_back(t);
      }
    }
  }
  std::sort(g.ts.begin(), g.ts.end());
  for (size_t i = 0; i < g.ts.size(); ++i) g.at[g.ts[i]] = i;
  return g;
}

std::vector<double> OnGrid(const MetricSeries& m, const Grid& g) {
  std::vector<double> v(g.ts.size(), NAN);
  for (size_t k = 0; k < m.ts_ms.size() && k < m.values.size(); ++k) {
    auto it = g.at.find(m.ts_ms[k]);
    if (it != g.at.end()) v[it->second] = m.values[k];
  }
  return v;
}

// Solves (X'X + lambda I) b = X'y by Gaussian elimination (a handful of
// parents: no library needed). Columns are standardized by the caller.
std::vector<double> Ridge(const std::vector<std::vector<double>>& x, const std::vector<double>& y, double lambda) {
  const size_t p = x.size();
  std::vector<std::vector<double>> a(p, std::vector<double>(p + 1, 0));
  for (size_t i = 0; i < p; ++i) {
    for (size_t j = 0; j < p; ++j) {
      double s = 0;
      for (size_t t = 0; t < y.size(); ++t) s += x[i][t] * x[j][t];
      a[i][j] = s + (i == j ? lambda : 0);
    }
    double s = 0;
    for (size_t t = 0; t < y.size(); ++t) s += x[i][t] * y[t];
    a[i][p] = s;
  }
  for (size_t c = 0; c < p; ++c) {
    size_t piv = c;
    for (size_t r = c + 1; r < p; ++r) {
      if (std::fabs(a[r][c]) > std::fabs(a[piv][c])) piv = r;
    }
    std::swap(a[c], a[piv]);
    if (std::fabs(a[c][c]) < 1e-12) continue;
    for (size_t r = 0; r < p; ++r) {
      if (r == c) continue;
      double f = a[r][c] / a[c][c];
      for (size_t k = c; k <= p; ++k) a[r][k] -= f * a[c][k];
    }
  }
  std::vector<double> b(p, 0);
  for (size_t i = 0; i < p; ++i) b[i] = std::fabs(a[i][i]) < 1e-12 ? 0 : a[i][p] / a[i][i];
  return b;
}

}  // namespace

std::vector<MetricSuspect> RankOnGraph(const CaseData& data, const CallGraph& graph,
                                       const std::vector<MetricChange>& changes, const MetricWindows& w) {
  Grid g = BuildGrid(data, w);
  const size_t n = g.ts.size();
  // Per service and kind, the mean over the service's series of that kind
  // (each series standardized by its normal window first, so bytes and
  // percentages average sensibly).
  const size_t ns = graph.services.size();
  const int kinds = 5;
  std::vector<std::vector<double>> agg(ns * kinds, std::vector<double>(n, 0));
  std::vector<std::vector<int>> cnt(ns * kinds, std::vector<int>(n, 0));
  std::vector<std::vector<double>> on_grid(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricChange& c = changes[i];
    const MetricSeries& m = data.metrics[c.series];
    on_grid[i] = OnGrid(m, g);
    int s = graph.Index(m.service);
    if (s < 0) continue;
    IndicatorKind k = KindOfIndicator(m.indicator);
    if (k == IndicatorKind::kResource) continue;
    // Success rates fall when errors rise: one sign for "worse" per kind.
    double sign = Lower(m.indicator, "success") ? -1 : 1;
    size_t slot = static_cast<size_t>(s) * kinds + static_cast<size_t>(k);
    for (size_t t = 0; t < n; ++t) {
      double v = on_grid[i][t];
      if (!std::isfinite(v)) continue;
      agg[slot][t] += sign * (v - c.normal_median) / c.scale;
      cnt[slot][t] += 1;
    }
  }
  for (size_t slot = 0; slot < agg.size(); ++slot) {
    for (size_t t = 0; t < n; ++t) agg[slot][t] = cnt[slot][t] ? agg[slot][t] / cnt[slot][t] : NAN;
  }
  auto series_of = [&](int service, IndicatorKind k) -> const std::vector<double>& {
    return agg[static_cast<size_t>(service) * kinds + static_cast<size_t>(k)];
  };

  std::vector<double> scores(changes.size(), 0);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricChange& c = changes[i];
    const MetricSeries& m = data.metrics[c.series];
    const int s = graph.Index(m.service);
    const IndicatorKind k = KindOfIndicator(m.indicator);
    // Parents in the structural graph.
    std::vector<const std::vector<double>*> parents;
    if (s >= 0) {
      const auto& self_load = series_of(s, IndicatorKind::kLoad);
      switch (k) {
        case IndicatorKind::kLoad:
          for (int u : graph.callers[static_cast<size_t>(s)]) parents.push_back(&series_of(u, IndicatorKind::kLoad));
          break;
        case IndicatorKind::kLatency:
        case IndicatorKind::kErrors:
          for (int d : graph.callees[static_cast<size_t>(s)]) {
            parents.push_back(&series_of(d, IndicatorKind::kLatency));
            parents.push_back(&series_of(d, IndicatorKind::kErrors));
          }
          parents.push_back(&self_load);
          break;
        case IndicatorKind::kResource:
          parents.push_back(&self_load);
          break;
        case IndicatorKind::kClientLoad:
          parents.push_back(&self_load);
          for (int d : graph.callees[static_cast<size_t>(s)]) parents.push_back(&series_of(d, IndicatorKind::kErrors));
          break;
      }
    }
    // Standardized target; parents' NaNs become 0 (their normal centre).
    std::vector<double> target(n);
    for (size_t t = 0; t < n; ++t) target[t] = (on_grid[i][t] - c.normal_median) / c.scale;
    x.clear();
    for (const auto* p : parents) {
      std::vector<double> col(n);
      bool any = false;
      for (size_t t = 0; t < n; ++t) {
        col[t] = std::isfinite((*p)[t]) ? std::clamp((*p)[t], -kCap, kCap) : 0;
        any |= col[t] != 0;
      }
      if (any) x.push_back(std::move(col));
    }
    // Fit on the normal window only.
    std::vector<size_t> train;
    for (size_t t = 0; t < n; ++t) {
      if (g.ts[t] < w.normal_end && std::isfinite(target[t])) train.push_back(t);
    }
    if (train.size() < 3) continue;
    std::vector<double> b;
    if (!x.empty()) {
      std::vector<std::vector<double>> xt(x.size(), std::vector<double>(train.size()));
      y.assign(train.size(), 0);
      for (size_t r = 0; r < train.size(); ++r) {
        y[r] = target[train[r]];
        for (size_t j = 0; j < x.size(); ++j) xt[j][r] = x[j][train[r]];
      }
      b = Ridge(xt, y, 1.0 * static_cast<double>(train.size()));
    }
    auto predict = [&](size_t t) {
      double p = 0;
      for (size_t j = 0; j < b.size(); ++j) p += b[j] * x[j][t];
      return p;
    };
    std::vector<double> resid;
    for (size_t t : train) resid.push_back(target[t] - predict(t));
    double centre = Median(resid);
    // The residual scale is floored at a third of the target's own (unit)
    // scale: in-sample residuals of a short window are optimistic.
    double scale = std::max(RobustSd(resid), 1.0 / 3);
    double best = 0;
    for (size_t t = 0; t < n; ++t) {
      if (g.ts[t] < w.abnormal_begin || g.ts[t] >= w.abnormal_end || !std::isfinite(target[t])) continue;
      best = std::max(best, std::fabs(target[t] - predict(t) - centre) / scale);
    }
    // Never more than the plain change: the regression explains, it does
    // not invent, change.
    scores[i] = std::min(Compress(best / 3), c.score);
  }

  // Descendant adjustment (as in CIRCA and MicroCause): a short normal
  // window rarely shows a caller's latency co-moving with its callee's, so
  // the regression alone cannot explain a cascade. In the abnormal window,
  // a metric whose parents moved at least as far is explained by them: its
  // score shrinks by the parents' move (latency and errors by the callees',
  // load by the callers', a pod's resources by its own load). The sustained
  // shift and the transient peak are explained separately: a retry burst
  // after a restart explains a CPU peak, not a memory leak.
  struct Move {
    double score = 0, sustained = 0;  // >= 0
    void Max(double sc, double su) {
      score = std::max(score, sc);
      sustained = std::max(sustained, su);
    }
  };
  struct SignedMove {
    double score = 0, sustained = 0;  // signed: more or less traffic
    void Max(double sc, double su) {
      if (std::fabs(sc) > std::fabs(score)) score = sc;
      if (std::fabs(su) > std::fabs(sustained)) sustained = su;
    }
  };
  std::vector<Move> service_move(ns * kinds);
  std::vector<SignedMove> service_load(ns);
  std::unordered_map<std::string, SignedMove> pod_load;
  std::unordered_map<std::string, Move> pod_resource;  // largest resource move of the pod
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricChange& c = changes[i];
    const MetricSeries& m = data.metrics[c.series];
    const int s = graph.Index(m.service);
    const IndicatorKind k = KindOfIndicator(m.indicator);
    if (s < 0) continue;
    service_move[static_cast<size_t>(s) * kinds + static_cast<size_t>(k)].Max(c.score, std::fabs(c.sustained));
    if (k == IndicatorKind::kResource && !IsNodeIndicator(m.indicator) && m.indicator != "Up" && m.indicator != "up") {
      pod_resource[EntityKey(m)].Max(c.score, std::fabs(c.sustained));
    }
    if (k == IndicatorKind::kLoad) {
      const double sc = c.signed_z >= 0 ? c.score : -c.score;
      pod_load[EntityKey(m)].Max(sc, c.sustained);
      service_load[static_cast<size_t>(s)].Max(sc, c.sustained);
    }
  }
  // A pod that stopped answering (its `up` fell) explains its callers'
  // latency and errors as fully as anything can: its own latency and error
  // series are empty then.
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricSeries& m = data.metrics[changes[i].series];
    const int s = graph.Index(m.service);
    if (s < 0 || changes[i].signed_z >= 0 || (m.indicator != "Up" && m.indicator != "up")) continue;
    for (IndicatorKind k : {IndicatorKind::kLatency, IndicatorKind::kErrors}) {
      service_move[static_cast<size_t>(s) * kinds + static_cast<size_t>(k)].Max(kCap, kCap);
    }
  }
  auto move = [&](int service, IndicatorKind k) -> const Move& {
    return service_move[static_cast<size_t>(service) * kinds + static_cast<size_t>(k)];
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    if (scores[i] <= 0) continue;
    const MetricSeries& m = data.metrics[changes[i].series];
    const int s = graph.Index(m.service);
    if (s < 0) continue;
    Move parent;
    // Load explains only a move in its own direction (more traffic: more
    // CPU, more load downstream; less traffic: less).
    const double dir = changes[i].signed_z >= 0 ? 1 : -1;
    auto by_load = [&](const SignedMove& l) { parent.Max(dir * l.score, dir * l.sustained); };
    auto own_load = [&] {
      auto it = pod_load.find(EntityKey(m));
      if (it != pod_load.end()) by_load(it->second);
    };
    switch (KindOfIndicator(m.indicator)) {
      case IndicatorKind::kLoad:
        for (int u : graph.callers[static_cast<size_t>(s)]) by_load(service_load[static_cast<size_t>(u)]);
        break;
      case IndicatorKind::kLatency:
      case IndicatorKind::kErrors:
        for (int d : graph.callees[static_cast<size_t>(s)]) {
          for (IndicatorKind k : {IndicatorKind::kLatency, IndicatorKind::kErrors}) {
            parent.Max(move(d, k).score, move(d, k).sustained);
          }
        }
        own_load();  // more traffic on the pod itself: queueing
        if (KindOfIndicator(m.indicator) == IndicatorKind::kLatency) {
          // and its own resources (CPU, GC, disk): a saturated pod is slow
          auto it = pod_resource.find(EntityKey(m));
          if (it != pod_resource.end()) parent.Max(it->second.score, it->second.sustained);
        }
        break;
      case IndicatorKind::kResource:
        own_load();
        break;
      case IndicatorKind::kClientLoad:
        // calls out follow calls in, and retries follow failing callees
        own_load();
        for (int d : graph.callees[static_cast<size_t>(s)]) {
          parent.Max(move(d, IndicatorKind::kErrors).score, move(d, IndicatorKind::kErrors).sustained);
        }
        break;
    }
    const double sustained = std::min(scores[i], std::fabs(changes[i].sustained));
    scores[i] = std::max({0.0, sustained - parent.sustained, scores[i] - parent.score});
  }
  // Shared callee: when the callers' view of one callee degrades (their
  // client latency or errors) from two or more caller services while the
  // callee's own server-side metrics stay flat, the fault sits between them
  // -- the callee's network or egress -- as the common neighbour of the
  // symptoms (the propagation reasoning of MicroHECL, Liu et al., ICSE-SEIP
  // 2021). The callee gets the callers' weakest such move; the callers'
  // client metrics count as explained by it.
  std::map<int, std::map<int, double>> via;  // callee -> caller service -> best client move
  for (size_t i = 0; i < changes.size(); ++i) {
    const MetricSeries& m = data.metrics[changes[i].series];
    const IndicatorKind k = KindOfIndicator(m.indicator);
    if (scores[i] < 3 || (k != IndicatorKind::kLatency && k != IndicatorKind::kErrors) || !Lower(m.indicator, "client")) {
      continue;
    }
    const int s = graph.Index(m.service);
    if (s < 0) continue;
    for (int d : graph.callees[static_cast<size_t>(s)]) {
      double& v = via[d][s];
      v = std::max(v, scores[i]);
    }
  }
  std::vector<MetricSuspect> shared;
  std::map<int, double> explained;  // caller service -> move explained by a shared callee
  for (const auto& [d, callers] : via) {
    if (callers.size() < 2) continue;
    double weakest = 1e300;
    std::string names;
    for (const auto& [c, v] : callers) {
      weakest = std::min(weakest, v);
      names += (names.empty() ? "" : ", ") + graph.services[static_cast<size_t>(c)];
    }
    const double own = std::max(move(d, IndicatorKind::kLatency).score, move(d, IndicatorKind::kErrors).score);
    if (own >= weakest / 2) continue;  // the callee's own metrics show it: the usual path handles it
    for (const auto& [c, v] : callers) explained[c] = std::max(explained[c], weakest);
    MetricSuspect sus;
    sus.service = graph.services[static_cast<size_t>(d)];
    sus.indicator = "client latency/errors of its callers (" + names + ")";
    sus.score = weakest;
    sus.raw_score = weakest;
    shared.push_back(std::move(sus));
  }
  for (size_t i = 0; i < changes.size() && !explained.empty(); ++i) {
    const MetricSeries& m = data.metrics[changes[i].series];
    if (!Lower(m.indicator, "client")) continue;
    auto it = explained.find(graph.Index(m.service));
    if (it != explained.end()) scores[i] = std::max(0.0, scores[i] - it->second);
  }
  auto out = BestPerEntity(data, changes, scores);
  if (!shared.empty()) {
    out.insert(out.end(), shared.begin(), shared.end());
    std::stable_sort(out.begin(), out.end(), [](const MetricSuspect& a, const MetricSuspect& b) { return a.score > b.score; });
  }
  return out;
}

}  // namespace vigil::rca
