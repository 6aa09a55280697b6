#include "rca/microrank.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "rca/metric_evidence.h"

namespace vigil::rca {

namespace {

std::string OpKey(const std::string& service, const std::string& operation) { return service + '\x1f' + operation; }

struct Threshold {
  double limit_us = 0;
};

std::unordered_map<std::string, Threshold> Baselines(const std::vector<Span>& spans, const MicroRankOptions& o) {
  std::unordered_map<std::string, std::vector<double>> durations;
  for (const Span& s : spans) durations[OpKey(s.service, s.operation)].push_back(static_cast<double>(s.duration_us));
  std::unordered_map<std::string, Threshold> out;
  for (auto& [key, d] : durations) {
    if (d.size() < 3) continue;
    double med = Median(d);
    double sd = std::max(RobustSd(d), 0.05 * med);
    out[key].limit_us = std::max(med + o.threshold_sd * sd, med * o.min_threshold_ratio);
  }
  return out;
}

struct TraceView {
  std::vector<int> ops;  // unique operation nodes
  bool anomalous = false;
};

// Personalized PageRank over operations and traces of one set; returns the
// operations' weights.
std::vector<double> PageRank(const std::vector<TraceView>& traces, const std::vector<int>& members,
                             const std::vector<std::vector<int>>& op_calls, const std::vector<std::vector<int>>& op_traces,
                             size_t n_ops, bool favour_short, const MicroRankOptions& o) {
  const size_t nt = members.size();
  std::vector<double> pref(nt, 0);
  double total = 0;
  for (size_t i = 0; i < nt; ++i) {
    double k = static_cast<double>(std::max<size_t>(1, traces[static_cast<size_t>(members[i])].ops.size()));
    pref[i] = favour_short ? 1.0 / k : k;
    total += pref[i];
  }
  for (double& p : pref) p /= total > 0 ? total : 1;
  // Each operation's traces within this set, as positions in `members`.
  std::vector<int> local(traces.size(), -1);
  for (size_t i = 0; i < nt; ++i) local[static_cast<size_t>(members[i])] = static_cast<int>(i);
  std::vector<std::vector<int>> op_local(n_ops);
  for (size_t op = 0; op < n_ops; ++op) {
    for (int t : op_traces[op]) {
      if (local[static_cast<size_t>(t)] >= 0) op_local[op].push_back(local[static_cast<size_t>(t)]);
    }
  }

  std::vector<double> op_rank(n_ops, 0), tr_rank(pref), op_next(n_ops), tr_next(nt);
  for (int it = 0; it < o.iterations; ++it) {
    std::fill(op_next.begin(), op_next.end(), 0);
    std::fill(tr_next.begin(), tr_next.end(), 0);
    double dangling = 0;
    for (size_t i = 0; i < nt; ++i) {
      const auto& ops = traces[static_cast<size_t>(members[i])].ops;
      if (ops.empty()) {
        dangling += tr_rank[i];
        continue;
      }
      double share = tr_rank[i] / static_cast<double>(ops.size());
      for (int op : ops) op_next[static_cast<size_t>(op)] += share;
    }
    for (size_t op = 0; op < n_ops; ++op) {
      if (op_rank[op] == 0) continue;
      const size_t deg = op_calls[op].size() + op_local[op].size();
      if (deg == 0) {
        dangling += op_rank[op];
        continue;
      }
      double share = op_rank[op] / static_cast<double>(deg);
      for (int c : op_calls[op]) op_next[static_cast<size_t>(c)] += share;
      for (int l : op_local[op]) tr_next[static_cast<size_t>(l)] += share;
    }
    for (size_t op = 0; op < n_ops; ++op) op_rank[op] = o.damping * op_next[op];
    for (size_t i = 0; i < nt; ++i) tr_rank[i] = o.damping * tr_next[i] + (1 - o.damping + o.damping * dangling) * pref[i];
  }
  return op_rank;
}

}  // namespace

MicroRankResult RunMicroRank(const std::vector<Span>& baseline, const std::vector<Span>& window,
                             const MicroRankOptions& o) {
  MicroRankResult result;
  auto limits = Baselines(baseline, o);

  // Operation nodes: (instance or service, operation).
  std::unordered_map<std::string, int> op_index;
  std::vector<OperationSuspect> ops;
  auto node = [&](const Span& s) {
    const std::string& who = s.instance.empty() ? s.service : s.instance;
    auto [it, fresh] = op_index.try_emplace(who + '\x1f' + s.operation, static_cast<int>(ops.size()));
    if (fresh) ops.push_back({s.service, s.instance, s.operation, 0, 0, 0, 0, 0, 0, 0});
    return it->second;
  };

  std::unordered_map<TraceId, int, TraceIdHash> trace_index;
  std::vector<TraceView> traces;
  std::unordered_map<uint64_t, int> span_op;
  std::vector<int> span_node(window.size());
  for (size_t i = 0; i < window.size(); ++i) {
    const Span& s = window[i];
    auto [it, fresh] = trace_index.try_emplace(s.trace_id, static_cast<int>(traces.size()));
    if (fresh) traces.emplace_back();
    TraceView& t = traces[static_cast<size_t>(it->second)];
    int op = node(s);
    span_node[i] = op;
    span_op[s.span_id] = op;
    t.ops.push_back(op);
    bool slow = false;
    auto lim = limits.find(OpKey(s.service, s.operation));
    if (lim != limits.end() && static_cast<double>(s.duration_us) > lim->second.limit_us) slow = true;
    if (slow) ++ops[static_cast<size_t>(op)].slow_spans;
    if (s.error) ++ops[static_cast<size_t>(op)].error_spans;
    t.anomalous |= slow || s.error;
  }
  const size_t n_ops = ops.size();
  std::vector<std::vector<int>> op_calls(n_ops), op_traces(n_ops);
  for (size_t i = 0; i < window.size(); ++i) {
    auto p = span_op.find(window[i].parent_span_id);
    if (window[i].parent_span_id != 0 && p != span_op.end() && p->second != span_node[i]) {
      op_calls[static_cast<size_t>(p->second)].push_back(span_node[i]);
    }
  }
  for (auto& c : op_calls) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
  }
  std::vector<int> anomalous, normal;
  for (size_t t = 0; t < traces.size(); ++t) {
    auto& v = traces[t].ops;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    for (int op : v) {
      op_traces[static_cast<size_t>(op)].push_back(static_cast<int>(t));
      if (traces[t].anomalous) {
        ++ops[static_cast<size_t>(op)].anomalous_traces;
      } else {
        ++ops[static_cast<size_t>(op)].normal_traces;
      }
    }
    (traces[t].anomalous ? anomalous : normal).push_back(static_cast<int>(t));
  }
  result.anomalous_traces = anomalous.size();
  result.normal_traces = normal.size();
  if (anomalous.empty()) return result;

  auto pa = PageRank(traces, anomalous, op_calls, op_traces, n_ops, true, o);
  auto pn = PageRank(traces, normal, op_calls, op_traces, n_ops, false, o);
  const double na = static_cast<double>(anomalous.size());
  for (size_t op = 0; op < n_ops; ++op) {
    OperationSuspect& s = ops[op];
    double ef = pa[op] * s.anomalous_traces, nf = pa[op] * (na - s.anomalous_traces);
    double ep = pn[op] * s.normal_traces;
    s.ef = ef;
    s.ep = ep;
    if (ef <= 0) continue;
    if (o.formula == MicroRankOptions::Formula::kOchiai) {
      s.score = ef / std::sqrt((ef + nf) * (ef + ep));
    } else {
      s.score = ef * ef / std::max(1e-12, ep + nf);
    }
  }
  std::stable_sort(ops.begin(), ops.end(), [](const OperationSuspect& a, const OperationSuspect& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.slow_spans + a.error_spans > b.slow_spans + b.error_spans;
  });
  result.operations = std::move(ops);
  return result;
}

}  // namespace vigil::rca
