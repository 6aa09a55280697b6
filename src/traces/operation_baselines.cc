#include "traces/operation_baselines.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace vigil::traces {

namespace {

std::string_view AttrOf(const Span& s, std::string_view key) {
  for (const auto& [k, v] : s.attributes) {
    if (k == key) return v;
  }
  return {};
}

bool Contains(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    bool eq = true;
    for (size_t k = 0; k < word.size() && eq; ++k) {
      eq = std::tolower(static_cast<unsigned char>(text[i + k])) == word[k];
    }
    if (eq) return true;
  }
  return false;
}

bool IsTimeout(const Span& s) {
  if (s.http_status == 408 || s.http_status == 504) return true;
  std::string_view m = AttrOf(s, "status.message");
  return Contains(m, "timeout") || Contains(m, "timed out") || Contains(m, "deadline");
}

// One-sided binomial z-score of k events among n trials at rate p.
double BinomialZ(uint64_t k, uint64_t n, double p) {
  const double nn = static_cast<double>(n);
  const double var = nn * p * (1 - p);
  if (var <= 0) return 0;
  return (static_cast<double>(k) - nn * p) / std::sqrt(var);
}

}  // namespace

OperationBaselines::OperationBaselines(BaselineConfig cfg) : cfg_(cfg) {
  cfg_.bucket_us = std::max<int64_t>(cfg_.bucket_us, 1000);
  cfg_.baseline_slot_us = std::max<int64_t>(cfg_.baseline_slot_us, 1000);
  cfg_.baseline_slots = std::max(cfg_.baseline_slots, 2);
}

void OperationBaselines::Refresh(Operation& op, bool force) {
  const int64_t slot = newest_us_ / cfg_.baseline_slot_us;
  if (!force && op.expect.slot == slot) return;
  Expectation& e = op.expect;
  e = Expectation{};
  e.slot = slot;
  LatencySketch lat;
  op.history.Sum(newest_us_, cfg_.baseline_slot_us * cfg_.baseline_slots, &e.calls, &e.errors, &lat);
  e.warm = e.calls >= cfg_.min_baseline_calls;
  if (e.calls == 0) return;
  e.p50_us = lat.Quantile(0.5);
  e.p99_us = lat.Quantile(cfg_.slow_quantile);
  e.threshold_us = std::max(e.p99_us, cfg_.slow_factor * e.p50_us);
  const double n = static_cast<double>(e.calls);
  // Laplace-smoothed rates: a short clean history does not promise zero.
  e.p_slow = std::max((static_cast<double>(lat.CountAbove(e.threshold_us)) + 1) / (n + 2), 0.002);
  e.p_error = std::max((static_cast<double>(e.errors) + 1) / (n + 2), cfg_.min_error_rate);
}

SpanVerdict OperationBaselines::JudgeSpan(const Span& s, const Operation* op) const {
  SpanVerdict v;
  v.error = s.error;
  v.timeout = s.error && IsTimeout(s);
  if (op != nullptr && op->expect.warm) {
    v.threshold_us = op->expect.threshold_us;
    v.slow = static_cast<double>(s.duration_us) > v.threshold_us;
  }
  return v;
}

TraceVerdict OperationBaselines::JudgeTrace(const AssembledTrace& t, const std::vector<const Operation*>& ops) const {
  TraceVerdict out;
  const size_t n = t.spans.size();
  out.spans.resize(n);
  for (size_t i = 0; i < n; ++i) out.spans[i] = JudgeSpan(t.spans[i], ops[i]);
  // A slow (error) span with a slow (error) child is an echo of it.
  std::vector<bool> slow_child(n, false), error_child(n, false);
  for (size_t i = 0; i < n; ++i) {
    const int32_t p = t.parent[i];
    if (p < 0) continue;
    if (out.spans[i].slow) slow_child[static_cast<size_t>(p)] = true;
    if (out.spans[i].error) error_child[static_cast<size_t>(p)] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    SpanVerdict& v = out.spans[i];
    v.origin = (v.slow && !slow_child[i]) || (v.error && !error_child[i]);
    out.anomalous = out.anomalous || v.slow || v.error;
  }
  return out;
}

TraceVerdict OperationBaselines::Judge(const AssembledTrace& t) const {
  std::vector<const Operation*> ops(t.spans.size(), nullptr);
  std::string key;
  for (size_t i = 0; i < t.spans.size(); ++i) {
    key.assign(t.spans[i].service);
    key.push_back('\x1f');
    key.append(t.spans[i].operation);
    auto it = ops_.find(key);
    if (it != ops_.end()) ops[i] = &it->second;
  }
  return JudgeTrace(t, ops);
}

TraceVerdict OperationBaselines::AddTrace(const AssembledTrace& t, std::vector<Anomaly>* anomalies) {
  newest_us_ = std::max(newest_us_, t.end_us);
  const size_t n = t.spans.size();
  std::vector<Operation*> ops(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    const Span& s = t.spans[i];
    key_.assign(s.service);
    key_.push_back('\x1f');
    key_.append(s.operation);
    auto it = ops_.find(key_);
    if (it == ops_.end()) {
      if (ops_.size() >= cfg_.max_operations) {
        ++stats_.operations_refused;
        continue;
      }
      it = ops_.emplace(key_, Operation(cfg_, s.service, s.operation)).first;
    }
    Refresh(it->second, false);
    ops[i] = &it->second;
  }
  TraceVerdict verdict = JudgeTrace(t, std::vector<const Operation*>(ops.begin(), ops.end()));
  for (size_t i = 0; i < n; ++i) {
    Operation* op = ops[i];
    if (op == nullptr) continue;
    const Span& s = t.spans[i];
    const SpanVerdict& v = verdict.spans[i];
    ++stats_.spans_judged;
    if (v.slow) ++stats_.slow_spans;
    if (v.error) ++stats_.error_spans;
    if (v.origin) ++stats_.origin_spans;
    op->last_us = std::max(op->last_us, s.end_us());
    Bucket& b = op->buckets[s.start_us / cfg_.bucket_us];
    ++b.calls;
    b.latency.Add(s.duration_us);
    if (v.error) ++b.error_calls;
    if (v.origin) {
      if (v.slow) ++b.slow;
      if (v.error) ++b.errors;
      if (v.error && v.timeout) ++b.timeouts;
      if (b.peer.empty()) b.peer = std::string(AttrOf(s, "peer.service"));
    } else if (v.slow || v.error) {
      ++b.echoes;
    }
  }
  if (newest_us_ / cfg_.bucket_us != last_close_us_ / cfg_.bucket_us) {
    last_close_us_ = newest_us_;
    CloseDue(anomalies);
  }
  return verdict;
}

void OperationBaselines::CloseDue(std::vector<Anomaly>* anomalies) {
  const int64_t history_us = cfg_.baseline_slot_us * cfg_.baseline_slots;
  for (auto it = ops_.begin(); it != ops_.end();) {
    Operation& op = it->second;
    for (auto b = op.buckets.begin(); b != op.buckets.end();) {
      if ((b->first + 1) * cfg_.bucket_us + cfg_.bucket_grace_us > newest_us_) break;
      CloseBucket(op, b->first, b->second, anomalies);
      b = op.buckets.erase(b);
    }
    if (op.buckets.empty() && op.last_us < newest_us_ - history_us) {
      it = ops_.erase(it);
    } else {
      ++it;
    }
  }
}

void OperationBaselines::Flush(std::vector<Anomaly>* anomalies) {
  for (auto& [key, op] : ops_) {
    for (auto& [index, b] : op.buckets) CloseBucket(op, index, b, anomalies);
    op.buckets.clear();
  }
}

void OperationBaselines::CloseBucket(Operation& op, int64_t index, Bucket& b, std::vector<Anomaly>* anomalies) {
  ++stats_.buckets_closed;
  Refresh(op, false);
  const Expectation& e = op.expect;
  const int64_t start_us = index * cfg_.bucket_us;
  auto make = [&](const char* name, const char* pattern) {
    Anomaly a;
    // An empty label value would mean "no label": name the unnamed.
    std::vector<Label> ls = {{"__name__", name},
                             {"operation", op.operation.empty() ? "(unnamed)" : op.operation},
                             {"service", op.service}};
    if (!b.peer.empty()) ls.push_back({"peer_service", b.peer});
    std::sort(ls.begin(), ls.end(), [](const Label& x, const Label& y) { return x.name < y.name; });
    a.labels = Labels::FromSorted(std::move(ls));
    a.series = SeriesIdOf(a.labels);
    a.ts_ms = start_us / 1000;
    a.direction = Direction::kUp;
    a.detector = "trace_baseline";
    a.pattern = pattern;
    return a;
  };
  bool fired_latency = false, fired_errors = false;
  if (e.warm) {
    const double min_k = std::max<double>(cfg_.min_events, cfg_.min_fraction * static_cast<double>(b.calls));
    double z = BinomialZ(b.slow, b.calls, e.p_slow);
    if (static_cast<double>(b.slow) >= min_k && z >= cfg_.z_threshold) {
      // In latency terms, which is what a person reads: the bucket's p95
      // against the usual median, and the slow threshold as the band's top.
      Anomaly a = make("vigil_trace_latency", "slow_operation");
      a.value = b.latency.Quantile(0.95) / 1000;
      a.expected = e.p50_us / 1000;
      a.lower = 0;
      a.upper = e.threshold_us / 1000;
      a.score = std::min(z, 100.0);
      anomalies->push_back(std::move(a));
      fired_latency = true;
    }
    z = BinomialZ(b.errors, b.calls, e.p_error);
    if (static_cast<double>(b.errors) >= min_k && z >= cfg_.z_threshold) {
      const bool timeouts = 2 * b.timeouts >= b.errors;
      Anomaly a = make("vigil_trace_errors", timeouts ? "timeout" : "error_burst");
      a.value = static_cast<double>(b.errors) / static_cast<double>(b.calls);
      a.expected = e.p_error;
      a.lower = 0;
      a.upper = std::min(1.0, e.p_error + cfg_.z_threshold * std::sqrt(e.p_error * (1 - e.p_error) /
                                                                        static_cast<double>(b.calls)));
      a.score = std::min(z, 100.0);
      anomalies->push_back(std::move(a));
      fired_errors = true;
    }
    stats_.anomalies += (fired_latency ? 1 : 0) + (fired_errors ? 1 : 0);
  }
  // What the bucket teaches the baseline: its latencies unless they were
  // anomalous, its error count unless that was.
  LatencySketch none;
  op.history.AddSummary(start_us, fired_latency ? none : b.latency, fired_latency ? 0 : b.calls,
                        fired_latency || fired_errors ? 0 : b.error_calls, newest_us_);
  Refresh(op, true);
}

std::vector<OperationSummary> OperationBaselines::Operations() const {
  std::vector<OperationSummary> out;
  for (const auto& [key, op] : ops_) {
    OperationSummary s;
    s.service = op.service;
    s.operation = op.operation;
    s.calls = op.expect.calls;
    s.errors = op.expect.errors;
    s.p50_ms = op.expect.p50_us / 1000;
    s.p99_ms = op.expect.p99_us / 1000;
    s.slow_threshold_ms = op.expect.threshold_us / 1000;
    s.warm = op.expect.warm;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const OperationSummary& a, const OperationSummary& b) {
    return std::tie(a.service, a.operation) < std::tie(b.service, b.operation);
  });
  return out;
}

BaselineStats OperationBaselines::stats() const {
  BaselineStats s = stats_;
  s.operations = ops_.size();
  size_t b = 0;
  for (const auto& [key, op] : ops_) b += op.history.bytes() + 2 * key.size() + 160;
  s.bytes = b;
  return s;
}

}  // namespace vigil::traces
