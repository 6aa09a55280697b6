// OperationBaselines: per-operation latency and error baselines, the
// judgement of each span of an assembled trace against them, and trace
// anomalies per (service, operation) over short buckets.
//
// Baseline. For every (service, operation) a latency sketch and error
// counts over a sliding history (baseline_slots x baseline_slot_us, 30 min
// by default). A span is *slow* when its duration exceeds the operation's
// expected range: above its baseline p99 and above slow_factor x its p50
// (so that a very tight distribution does not flag noise). This is the
// per-operation expected-latency test MicroRank uses to tell normal from
// abnormal traces (Yu et al., "MicroRank: End-to-End Latency Issue
// Localization with Extended Spectrum Analysis in Microservice
// Environments", WWW 2021), with quantiles from a sketch instead of mean and
// standard deviation, which long-tailed latencies make useless. A span is
// an *error* on error status (an error tag, HTTP 5xx); a *timeout* when
// that error says so (HTTP 408/504, "timeout", "timed out", "deadline").
//
// Origin, not echo. A slow call makes every caller up the chain slow too,
// and an error propagates the same way. A slow span with a slow child, or
// an error span with an error child, is an echo; only spans without such a
// child are origins. Anomalies count origins, so one slow database call
// gives one anomaly on the operation that waits on the database, not one
// on every service above it.
//
// Buckets. Origins are counted per operation per bucket of bucket_us (span
// start time). When a bucket closes (the span clock passed its end plus
// bucket_grace_us, or Flush) its slow and error counts are compared with
// what the baseline expects from the same number of calls, by a one-sided
// binomial z-score: z = (k - n p) / sqrt(n p (1 - p)). An anomaly needs
// z >= z_threshold, at least min_events origins and a share of at least
// min_fraction of the bucket's calls: at most one latency and one error
// anomaly per operation per bucket, whatever the number of traces (no
// anomaly storm). A bucket that fired does not teach the baseline, so a
// lasting fault does not become normal while it lasts.
//
// Bounded: at most max_operations operations (more are counted, not
// judged); operations idle for a whole history are dropped.
// Not thread-safe: one owner. Time is span time only.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include "core/anomaly.h"
#include "traces/assembler.h"
#include "traces/windowed_stats.h"

namespace vigil::traces {

struct BaselineConfig {
  int64_t bucket_us = 10'000'000;          // anomalies per operation per 10 s
  int64_t bucket_grace_us = 20'000'000;    // a bucket closes 20 s of span time after its end
  int64_t baseline_slot_us = 60'000'000;
  int baseline_slots = 30;                 // 30 min of history
  uint64_t min_baseline_calls = 30;        // judged only once this many calls are known
  double slow_quantile = 0.99;
  double slow_factor = 1.5;                // ... and this many times the median
  double z_threshold = 6;
  uint32_t min_events = 3;
  double min_fraction = 0.05;
  double min_error_rate = 0.001;           // floor of the expected error rate
  size_t max_operations = 20'000;
};

// The verdict on one span of an assembled trace.
struct SpanVerdict {
  bool slow = false, error = false, timeout = false;
  bool origin = false;       // slow or error, and not explained by a child
  double threshold_us = 0;   // the operation's slow threshold (0: not judged yet)
};

struct TraceVerdict {
  std::vector<SpanVerdict> spans;  // parallel to AssembledTrace::spans
  bool anomalous = false;          // any slow or error span
};

// What is known about one operation (GET /api/v1/traces/operations).
struct OperationSummary {
  std::string service, operation;
  uint64_t calls = 0, errors = 0;  // in the baseline history
  double p50_ms = 0, p99_ms = 0, slow_threshold_ms = 0;
  bool warm = false;
};

struct BaselineStats {
  uint64_t spans_judged = 0, slow_spans = 0, error_spans = 0, origin_spans = 0;
  uint64_t buckets_closed = 0, anomalies = 0, operations_refused = 0;
  size_t operations = 0, bytes = 0;
};

class OperationBaselines {
 public:
  explicit OperationBaselines(BaselineConfig cfg = {});

  // Judges a trace's spans against the current baselines and counts them in
  // their buckets. Anomalies of buckets closed by the advancing span clock
  // are appended to `anomalies`.
  TraceVerdict AddTrace(const AssembledTrace& trace, std::vector<Anomaly>* anomalies);
  // Judges without counting (for readers of stored traces).
  TraceVerdict Judge(const AssembledTrace& trace) const;
  // Closes every open bucket (input stopped, or shutdown).
  void Flush(std::vector<Anomaly>* anomalies);

  std::vector<OperationSummary> Operations() const;
  BaselineStats stats() const;

 private:
  struct Bucket {
    uint64_t calls = 0, slow = 0, errors = 0, timeouts = 0, echoes = 0;
    LatencySketch latency;
    uint64_t error_calls = 0;  // all error spans (echoes too), for the baseline
    std::string peer;          // peer.service of an origin span, as evidence
  };
  // What the history says, cached: it changes only when a bucket closes
  // into it or when time moves to a new history slot.
  struct Expectation {
    bool warm = false;
    uint64_t calls = 0, errors = 0;
    double threshold_us = 0, p50_us = 0, p99_us = 0, p_slow = 0, p_error = 0;
    int64_t slot = -1;  // history slot it was computed at
  };
  struct Operation {
    std::string service, operation;
    WindowedCallStats history;
    Expectation expect;
    std::map<int64_t, Bucket> buckets;  // by bucket index
    int64_t last_us = 0;
    Operation(const BaselineConfig& c, std::string s, std::string o)
        : service(std::move(s)), operation(std::move(o)), history(c.baseline_slot_us, c.baseline_slots) {}
  };

  void Refresh(Operation& op, bool force);
  SpanVerdict JudgeSpan(const Span& s, const Operation* op) const;
  TraceVerdict JudgeTrace(const AssembledTrace& t, const std::vector<const Operation*>& ops) const;
  void CloseBucket(Operation& op, int64_t index, Bucket& b, std::vector<Anomaly>* anomalies);
  void CloseDue(std::vector<Anomaly>* anomalies);

  BaselineConfig cfg_;
  // By service '\x1f' operation, looked up through a reused buffer.
  std::unordered_map<std::string, Operation> ops_;
  std::string key_;
  int64_t newest_us_ = 0;
  int64_t last_close_us_ = 0;
  BaselineStats stats_;
};

}  // namespace vigil::traces
