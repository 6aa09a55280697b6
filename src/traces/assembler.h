// TraceAssembler: groups spans that arrive in any order (exporters flush
// every few seconds, each service on its own schedule) into whole traces,
// inside a bounded assembly window.
//
// A trace stays open while spans keep arriving for it; it closes once it has
// been idle for `idle_timeout_us` of *span time*: the assembler's clock is
// the newest span end it has seen (its watermark), never the wall clock, so
// a replay assembles exactly like the live run. A trace's last activity is
// the watermark when its latest span arrived (not that span's own end), so
// spans older than the stream (a late exporter, a skewed clock, a backfill)
// still get idle_timeout of stream time to find their trace. The caller
// may also close everything (CloseAll) when its input stops.
//
// Bounds, each counted when it bites: at most max_open_traces traces and
// max_open_spans spans are open (the least recently active trace is closed
// early to make room), at most max_spans_per_trace spans per trace (later
// ones are dropped and the trace is marked truncated).
//
// On close, spans are de-duplicated (a resent span) and each span's parent
// is resolved to an index. Zipkin's shared RPC spans (client and server
// halves with one id; the server half has parent_span_id == span_id) are
// told apart: the server half's parent is the client half, and a child
// whose parent id is shared picks the half of its own service.
//
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/span.h"

namespace vigil::traces {

struct AssemblerConfig {
  size_t max_open_traces = 50'000;
  size_t max_open_spans = 1'000'000;
  size_t max_spans_per_trace = 2'000;
  int64_t idle_timeout_us = 10'000'000;  // 10 s of span time without a new span
};

struct AssembledTrace {
  TraceId id;
  std::vector<Span> spans;
  std::vector<int32_t> parent;  // index of each span's parent in `spans`; -1: none found
  int64_t start_us = 0, end_us = 0;
  bool truncated = false;     // spans beyond max_spans_per_trace were dropped
  bool closed_early = false;  // closed to make room, not because it was idle
};

struct AssemblerStats {
  uint64_t spans_added = 0;
  uint64_t traces_closed = 0;
  uint64_t traces_closed_early = 0;     // bound max_open_traces / max_open_spans
  uint64_t spans_dropped_trace_full = 0;  // bound max_spans_per_trace
  uint64_t duplicate_spans = 0;
  size_t open_traces = 0, open_spans = 0;
};

class TraceAssembler {
 public:
  explicit TraceAssembler(AssemblerConfig cfg = {});

  // Adds one span. Traces closed early to make room are appended to `closed`.
  void Add(Span span, std::vector<AssembledTrace>* closed);
  // Closes every trace idle for idle_timeout_us at span time `now_us`
  // (normally watermark_us(), after a batch of Add calls).
  void Advance(int64_t now_us, std::vector<AssembledTrace>* closed);
  void CloseAll(std::vector<AssembledTrace>* closed);

  // The newest span end seen (µs), 0 before the first span.
  int64_t watermark_us() const { return watermark_us_; }
  AssemblerStats stats() const;
  const AssemblerConfig& config() const { return cfg_; }

 private:
  struct OpenTrace {
    std::vector<Span> spans;
    int64_t activity_us = 0;  // watermark when its latest span arrived
    bool truncated = false;
  };
  struct Due {
    int64_t activity_us;
    TraceId id;
    bool operator>(const Due& o) const { return activity_us > o.activity_us; }
  };

  void Close(std::unordered_map<TraceId, OpenTrace, TraceIdHash>::iterator it, bool early,
             std::vector<AssembledTrace>* closed);
  void CloseOldest(std::vector<AssembledTrace>* closed);
  void CompactQueue();

  AssemblerConfig cfg_;
  std::unordered_map<TraceId, OpenTrace, TraceIdHash> open_;
  // Open traces by activity, oldest first; entries whose activity moved on
  // are stale and skipped (lazy deletion), and the heap is rebuilt when
  // stale entries pile up.
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  int64_t watermark_us_ = 0;
  size_t open_spans_ = 0;
  AssemblerStats stats_;
};

// Resolves parents and drops duplicate spans (exposed for tests and for
// readers of whole traces, e.g. a Jaeger file).
AssembledTrace AssembleSpans(TraceId id, std::vector<Span> spans, uint64_t* duplicates = nullptr);

}  // namespace vigil::traces
