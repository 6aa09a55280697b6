// TracePipeline: what `vigil serve` does with spans (docs/traces.md).
//
//   Ingest(SpanBatch) --(bounded queue, 503 when full)--> one trace thread:
//     TraceAssembler (bounded assembly window, span time)
//       -> ServiceGraph (service and instance level, sliding window)
//       -> OperationBaselines (slow / error / timeout spans, origin
//          attribution, one anomaly per operation per bucket)
//          -> the engine's anomaly -> incident path
//       -> the ring of recent spans (bounded by count and span time)
//     and new caller -> callee service edges -> the alert correlator's
//     topology (when traces.topology_to_alerts).
//
// When no span has arrived for idle_flush (wall time), open traces and
// buckets are closed: a quiet system still gets its last anomalies.
// Every accessor is thread-safe; the algorithms run only on the trace thread
// (readers take a mutex briefly to copy a snapshot out).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/anomaly.h"
#include "core/clock.h"
#include "core/span.h"
#include "core/status.h"
#include "engine/config.h"
#include "ingest/span_batch.h"
#include "traces/operation_baselines.h"
#include "traces/service_graph.h"

namespace vigil {

struct TraceIngestOutcome {
  size_t accepted = 0;
};

// One span of the recent ring with the verdict it got when its trace closed.
struct RecentSpan {
  Span span;
  int32_t parent = -1;  // index of its parent within the same trace's spans in the result; -1 none
  bool slow = false, error = false, origin = false;
};

struct TracePipelineStats {
  uint64_t spans_accepted = 0, requests_refused_full = 0, traces_closed = 0, traces_closed_early = 0;
  uint64_t spans_dropped_trace_full = 0, duplicate_spans = 0, anomalies = 0, anomalies_dropped = 0;
  uint64_t anomalous_traces = 0, recent_spans = 0, topology_edges_shared = 0;
  size_t open_traces = 0, open_spans = 0, queue_spans = 0;
};

class TracePipeline {
 public:
  using AnomalySink = std::function<Status(std::vector<Anomaly>)>;
  // Receives service edges (caller, callee) the graph discovered, each once.
  using TopologySink = std::function<void(const std::vector<std::pair<std::string, std::string>>&)>;

  TracePipeline(const TraceSettings& settings, const Clock* clock, AnomalySink anomalies, TopologySink topology);
  ~TracePipeline();

  void Start();
  // Drains the queue, closes open traces and buckets, joins the thread.
  void Stop();

  // Queues the batch's spans (taken from it); ResourceExhausted when the
  // queue cannot take them all (nothing is queued then).
  Result<TraceIngestOutcome> Ingest(SpanBatch* batch);
  // Blocks until queued spans are assembled; with `close_open`, also closes
  // every open trace and bucket (tests, replays).
  void Flush(bool close_open = false);

  // Spans of the recent ring whose start lies in [from_ms, to_ms], grouped
  // by trace (a trace's spans are contiguous, parents resolved), at most
  // `limit` spans (newest traces first when the limit bites).
  std::vector<RecentSpan> RecentSpans(TimestampMs from_ms, TimestampMs to_ms, size_t limit = SIZE_MAX) const;
  // One trace from the recent ring; NotFound when it is not (or no longer) there.
  Result<std::vector<RecentSpan>> FindTrace(TraceId id) const;

  traces::GraphSnapshot Topology(traces::GraphLevel level, int64_t window_ms) const;
  std::vector<traces::OperationSummary> Operations() const;
  int64_t max_window_ms() const;

  TracePipelineStats stats() const;
  void RenderMetrics(std::string* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
