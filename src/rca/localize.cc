#include "rca/localize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "rca/call_gaps.h"
#include "rca/change_correlation.h"
#include "rca/host_scan.h"
#include "rca/log_evidence.h"
#include "rca/metric_evidence.h"
#include "rca/microrank.h"

namespace vigil::rca {

namespace {

// Weights of the localizers in the ensemble (one configuration for every
// case set; see docs/rca.md for how they were chosen).
constexpr double kWeightMetrics = 1.0;
constexpr double kWeightTraces = 0.5;
constexpr double kWeightGaps = 0.8;
constexpr double kWeightLogs = 0.5;
constexpr double kWeightChanges = 0.4;
constexpr double kWeightHosts = 0.1;
constexpr double kWeightItemsets = 0.2;
// A change or an itemset only raises a candidate that the metrics, traces or
// logs already suspect this much (normalized score).
constexpr double kSuspected = 0.2;

std::string Fmt(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

struct Candidate {
  std::string service, instance;
  double score = 0;
  double best_part = 0;
  std::string indicator;
  std::vector<Evidence> evidence;
  double suspected = 0;  // max of metrics, traces, logs contributions (normalized)
};

class Board {
 public:
  Candidate& At(const std::string& service, const std::string& instance) {
    const std::string key = instance.empty() ? "svc:" + service : instance;
    auto [it, fresh] = index_.try_emplace(key, cands_.size());
    if (fresh) cands_.push_back({service, instance, 0, 0, "", {}, 0});
    return cands_[it->second];
  }
  // Adds a localizer's normalized contribution (0..1) with its evidence.
  void Add(Candidate& c, double weight, double norm, Evidence e, const std::string& indicator, bool primary) {
    e.score = norm;
    const double part = weight * norm;
    c.score += part;
    if (primary) c.suspected = std::max(c.suspected, norm);
    if (part > c.best_part && !indicator.empty()) {
      c.best_part = part;
      c.indicator = indicator;
    }
    c.evidence.push_back(std::move(e));
  }
  std::vector<Candidate>& all() { return cands_; }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<Candidate> cands_;
};

RankedCause ToCause(const MetricSuspect& s) {
  return {s.service, s.instance, s.indicator, s.score, {}};
}

}  // namespace

Ranking Localize(const CaseData& data, const LocalizeOptions& options) {
  Ranking out;
  MetricWindows w;
  w.abnormal_begin = data.incident_ms;
  w.abnormal_end = data.incident_ms + options.abnormal_ms;
  w.normal_end = data.incident_ms - options.gap_ms;
  w.normal_begin = w.normal_end - options.normal_ms;
  const CallGraph graph = BuildCallGraph(data);
  Board board;

  // Metrics: the chosen method's suspects, and the plain baseline beside it.
  std::vector<MetricChange> changes;
  if (options.use_metrics || options.use_hosts) changes = ScoreMetricChanges(data, w);
  if (options.use_metrics) {
    auto baseline = RankByScore(data, changes);
    for (size_t i = 0; i < baseline.size() && i < options.max_causes; ++i) out.baseline.push_back(ToCause(baseline[i]));
    auto suspects = options.metric_method == LocalizeOptions::MetricMethod::kGraph
                        ? RankOnGraph(data, graph, changes, w)
                        : std::move(baseline);
    const double top = suspects.empty() ? 0 : std::max(suspects.front().score, 5.0);
    for (const auto& s : suspects) {
      if (s.score <= 0) continue;
      Evidence e{"metrics",
                 s.indicator + Fmt(" moved %+.1f robust sd (median %.4g -> %.4g)",
                                   s.abnormal_median >= s.normal_median ? s.raw_score : -s.raw_score,
                                   s.normal_median, s.abnormal_median),
                 {{"robust_sd", s.raw_score}, {"score", s.score}, {"before", s.normal_median}, {"after", s.abnormal_median}},
                 0};
      board.Add(board.At(s.service, s.instance), kWeightMetrics, s.score / top, std::move(e), s.indicator, true);
    }
    if (changes.empty()) out.notes.push_back("metrics: no series with data in both windows");
  }

  // Traces: MicroRank over the abnormal window.
  if (options.use_traces) {
    std::vector<Span> window, normal;
    for (const Span& s : data.spans) {
      const TimestampMs t = s.start_ms();
      if (t >= w.abnormal_begin && t < w.abnormal_end) window.push_back(s);
      if (data.normal_spans.empty() && t >= w.normal_begin && t < w.normal_end) normal.push_back(s);
    }
    const auto& base = data.normal_spans.empty() ? normal : data.normal_spans;
    if (window.empty()) {
      out.notes.push_back("traces: no spans in the abnormal window");
    } else {
      auto mr = RunMicroRank(base, window);
      std::unordered_map<std::string, bool> seen;
      for (const auto& op : mr.operations) {
        if (op.score <= 0) break;
        if (!seen.emplace(op.instance.empty() ? op.service : op.instance, true).second) continue;
        Evidence e{"traces",
                   "operation " + op.operation + Fmt(" in %.0f of the anomalous traces (%.0f normal); Ochiai %.2f",
                                                     op.anomalous_traces, op.normal_traces, op.score),
                   {{"ochiai", op.score},
                    {"anomalous_traces", op.anomalous_traces},
                    {"normal_traces", op.normal_traces},
                    {"slow_spans", op.slow_spans},
                    {"error_spans", op.error_spans}},
                   0};
        board.Add(board.At(op.service, op.instance), kWeightTraces, op.score, std::move(e), "span:" + op.operation,
                  true);
      }
      if (mr.anomalous_traces == 0) out.notes.push_back("traces: no anomalous trace in the abnormal window");
      for (const auto& g : options.use_call_gaps ? RankCallGaps(base, window) : std::vector<GapSuspect>{}) {
        if (g.score < 0.3) break;
        Evidence e{"traces",
                   Fmt("%.0f of %.0f calls into it and ", g.slow_in, g.calls_in) +
                       Fmt("%.0f of %.0f calls out of it spent beyond their baseline between the spans", g.slow_out,
                           g.calls_out) +
                       Fmt(" (typically +%.1f ms): network or egress", g.median_excess_ms),
                   {{"slow_in", g.slow_in}, {"calls_in", g.calls_in}, {"slow_out", g.slow_out},
                    {"calls_out", g.calls_out}, {"median_excess_ms", g.median_excess_ms}},
                   0};
        board.Add(board.At(g.service, g.instance), kWeightGaps, g.score, std::move(e), "call-gap", true);
      }
    }
  }

  // Logs: error templates that rose, per pod.
  if (options.use_logs) {
    auto logs = ScoreErrorLogs(data, w);
    const double top = logs.empty() ? 0 : logs.front().score;
    for (const auto& l : logs) {
      Evidence e{"logs",
                 "error template \"" + l.template_text + "\"" +
                     Fmt(" %.1f/min (was %.1f/min), written by %.0f service(s)", l.abnormal_per_min, l.normal_per_min,
                         l.services_with_template),
                 {{"per_min", l.abnormal_per_min}, {"normal_per_min", l.normal_per_min},
                  {"services_with_template", l.services_with_template}},
                 0};
      board.Add(board.At(l.service, l.instance), kWeightLogs, l.score / top, std::move(e), "log:" + l.template_text, true);
    }
  }

  // Changes and itemsets raise candidates already suspected.
  if (options.use_changes) {
    for (const auto& c : CorrelateChanges(data)) {
      for (auto& cand : board.all()) {
        if (cand.service != c.service || (!c.instance.empty() && cand.instance != c.instance)) continue;
        if (cand.suspected < kSuspected) continue;
        Evidence e{"changes", c.kind + " " + Fmt("%.1f min before the incident: ", c.minutes_before) + c.text,
                   {{"minutes_before", c.minutes_before}}, 0};
        board.Add(cand, kWeightChanges, c.score, std::move(e), "", false);
      }
    }
  }
  if (options.use_logs || options.use_traces) {
    auto itemsets = FailureItemsets(data, w);
    for (const auto& it : itemsets) {
      std::string service, instance;
      for (const auto& [k, v] : it.itemset.items) {
        if (k == "service") service = v;
        if (k == "instance") instance = v;
      }
      const double norm = std::min(1.0, std::log2(std::max(1.0, it.itemset.risk_ratio)) / 4);
      for (auto& cand : board.all()) {
        if ((!instance.empty() && cand.instance != instance) || (!service.empty() && cand.service != service)) continue;
        if ((service.empty() && instance.empty()) || cand.suspected < kSuspected) continue;
        Evidence e{"itemsets", "failing " + it.source + " over-represented at " + it.itemset.ToString() +
                                   Fmt(" (risk ratio %.1f, support %.2f)", it.itemset.risk_ratio, it.itemset.support),
                   {{"risk_ratio", it.itemset.risk_ratio}, {"support", it.itemset.support}, {"lift", it.itemset.lift}},
                   0};
        board.Add(cand, kWeightItemsets, norm, std::move(e), "", false);
      }
    }
  }
  if (options.use_hosts) {
    auto hosts = ScanHosts(data, changes);
    for (const auto& h : hosts) {
      if (h.score < 5) break;
      const double norm = std::min(1.0, h.score / 20);
      for (auto& cand : board.all()) {
        auto it = graph.instance_host.find(cand.instance);
        if (it == graph.instance_host.end() || it->second != h.host || cand.suspected < kSuspected) continue;
        Evidence e{"hosts", "host " + h.host + " abnormal: " + h.indicator + Fmt(" %.1f robust sd", h.metric_score),
                   {{"host_score", h.score}, {"pods", h.pods}}, 0};
        board.Add(cand, kWeightHosts, norm, std::move(e), "", false);
      }
    }
  }

  auto& cands = board.all();
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  for (auto& c : cands) {
    if (out.causes.size() >= options.max_causes || c.score <= 0) break;
    std::stable_sort(c.evidence.begin(), c.evidence.end(),
                     [](const Evidence& a, const Evidence& b) { return a.score > b.score; });
    out.causes.push_back({c.service, c.instance, c.indicator, c.score, std::move(c.evidence)});
  }
  return out;
}

std::string RankingToJson(const Ranking& r, double compute_ms) {
  using json = nlohmann::json;
  json ranking = json::array();
  for (const auto& c : r.causes) {
    json ev = json::array();
    for (const auto& e : c.evidence) {
      json nums = json::object();
      for (const auto& [k, v] : e.numbers) nums[k] = std::isfinite(v) ? json(v) : json(nullptr);
      ev.push_back({{"localizer", e.localizer}, {"text", e.text}, {"score", e.score}, {"numbers", nums}});
    }
    ranking.push_back({{"service", c.service}, {"instance", c.instance}, {"indicator", c.indicator},
                       {"score", c.score}, {"evidence", ev}});
  }
  json baseline = json::array();
  for (const auto& c : r.baseline) {
    baseline.push_back({{"service", c.service}, {"instance", c.instance}, {"indicator", c.indicator}, {"score", c.score}});
  }
  json out = {{"ranking", ranking}, {"baseline", baseline}, {"notes", r.notes}, {"compute_ms", compute_ms}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::rca
