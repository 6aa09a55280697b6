#include "engine/trace_pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "engine/bounded_queue.h"
#include "traces/assembler.h"

namespace vigil {

namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kShareTopologyEvery = std::chrono::seconds(2);

struct RingSpan {
  Span span;
  int32_t parent = -1;      // index within its trace
  uint32_t pos = 0, len = 1;  // position in its trace, spans in its trace
  bool slow = false, error = false, origin = false;
};

}  // namespace

struct TracePipeline::Impl {
  TraceSettings cfg;
  const Clock* clock;
  AnomalySink anomaly_sink;
  TopologySink topology_sink;
  BoundedQueue<std::vector<Span>> queue;
  std::atomic<uint64_t> in_flight{0};

  mutable std::mutex state_mu;  // the algorithms (written by the worker, read by the API)
  traces::TraceAssembler assembler;
  traces::ServiceGraph graph;
  traces::OperationBaselines baselines;
  std::set<std::pair<std::string, std::string>> shared_edges;

  mutable std::mutex ring_mu;
  std::deque<RingSpan> ring;
  int64_t ring_newest_us = 0;

  std::thread worker;
  std::atomic<bool> running{false};
  std::atomic<bool> close_requested{false};
  std::atomic<uint64_t> accepted{0}, refused{0}, anomalies{0}, anomalies_dropped{0}, anomalous_traces{0},
      edges_shared{0};

  Impl(const TraceSettings& s, const Clock* c, AnomalySink a, TopologySink t)
      : cfg(s),
        clock(c),
        anomaly_sink(std::move(a)),
        topology_sink(std::move(t)),
        queue(s.queue_spans),
        assembler({.max_open_traces = s.max_open_traces,
                   .max_open_spans = s.max_open_spans,
                   .max_spans_per_trace = s.max_spans_per_trace,
                   .idle_timeout_us = s.idle_timeout_ms * 1000}),
        graph({.slot_us = 30'000'000,
               .slots = static_cast<int>(std::max<int64_t>(2, (s.graph_window_ms + 29'999) / 30'000)),
               .max_edges = s.max_edges,
               .max_nodes = s.max_edges}),
        baselines({.bucket_us = s.bucket_ms * 1000,
                   .bucket_grace_us = s.idle_timeout_ms * 1000 + s.bucket_ms * 1000,
                   .min_baseline_calls = s.min_baseline_calls,
                   .z_threshold = s.z_threshold,
                   .max_operations = s.max_operations}) {}

  // Graph, baselines and ring for closed traces (state_mu held); anomalies
  // are collected for the caller to hand on outside the lock.
  void Consume(std::vector<traces::AssembledTrace>& closed, std::vector<Anomaly>* found) {
    if (closed.empty()) return;
    std::vector<RingSpan> out;
    for (auto& t : closed) {
      graph.AddTrace(t);
      traces::TraceVerdict v = baselines.AddTrace(t, found);
      if (v.anomalous) anomalous_traces.fetch_add(1, std::memory_order_relaxed);
      const uint32_t len = static_cast<uint32_t>(t.spans.size());
      for (uint32_t i = 0; i < len; ++i) {
        RingSpan r;
        r.span = std::move(t.spans[i]);
        r.parent = t.parent[i];
        r.pos = i;
        r.len = len;
        r.slow = v.spans[i].slow;
        r.error = v.spans[i].error;
        r.origin = v.spans[i].origin;
        out.push_back(std::move(r));
      }
    }
    closed.clear();
    std::lock_guard<std::mutex> lock(ring_mu);
    for (auto& r : out) {
      ring_newest_us = std::max(ring_newest_us, r.span.end_us());
      ring.push_back(std::move(r));
    }
    // Whole traces leave from the front: by count, then by age.
    const int64_t oldest_us = ring_newest_us - cfg.recent_window_ms * 1000;
    while (!ring.empty() && (ring.size() > cfg.recent_spans || ring.front().span.end_us() < oldest_us)) {
      const uint32_t n = ring.front().len - ring.front().pos;
      for (uint32_t i = 0; i < n && !ring.empty(); ++i) ring.pop_front();
    }
  }

  void Hand(std::vector<Anomaly>& found) {
    if (found.empty()) return;
    const size_t n = found.size();
    anomalies.fetch_add(n, std::memory_order_relaxed);
    Status s = anomaly_sink(std::move(found));
    if (!s.ok()) {
      anomalies_dropped.fetch_add(n, std::memory_order_relaxed);
      spdlog::warn("{} trace anomalies dropped: {}", n, s.ToString());
    }
    found.clear();
  }

  void ShareTopology() {
    if (!topology_sink) return;
    std::vector<std::pair<std::string, std::string>> fresh;
    {
      std::lock_guard<std::mutex> lock(state_mu);
      for (auto& e : graph.ServiceEdges(graph.max_window_us())) {
        if (shared_edges.size() >= cfg.max_edges) break;
        if (shared_edges.insert(e).second) fresh.push_back(std::move(e));
      }
    }
    if (fresh.empty()) return;
    edges_shared.fetch_add(fresh.size(), std::memory_order_relaxed);
    topology_sink(fresh);
  }

  void CloseOpen(std::vector<Anomaly>* found) {
    std::vector<traces::AssembledTrace> closed;
    std::lock_guard<std::mutex> lock(state_mu);
    assembler.CloseAll(&closed);
    Consume(closed, found);
    baselines.Flush(found);
  }

  void Run() {
    std::vector<Span> batch;
    std::vector<traces::AssembledTrace> closed;
    std::vector<Anomaly> found;
    auto last_span = Steady::now();
    auto last_share = Steady::now();
    bool idle_closed = true;
    for (;;) {
      bool got = queue.Pop(&batch, std::chrono::milliseconds(100));
      if (got) {
        {
          std::lock_guard<std::mutex> lock(state_mu);
          for (Span& s : batch) assembler.Add(std::move(s), &closed);
          assembler.Advance(assembler.watermark_us(), &closed);
          Consume(closed, &found);
        }
        batch.clear();
        Hand(found);
        last_span = Steady::now();
        idle_closed = false;
        in_flight.fetch_sub(1);
      } else if (!running.load() && queue.used() == 0) {
        break;
      }
      const auto now = Steady::now();
      const bool idle = !idle_closed && now - last_span >= std::chrono::milliseconds(cfg.idle_flush_ms);
      const bool asked = close_requested.load();
      if (idle || asked) {
        CloseOpen(&found);
        Hand(found);
        idle_closed = true;
      }
      if (now - last_share >= kShareTopologyEvery || idle || asked) {
        last_share = now;
        ShareTopology();
      }
      if (asked) close_requested.store(false);
    }
    CloseOpen(&found);
    Hand(found);
    ShareTopology();
  }

  // Copies whole traces [first, first + len) of the ring to `out`.
  static void CopyTrace(const std::deque<RingSpan>& ring, size_t first, size_t len, std::vector<RecentSpan>* out) {
    const int32_t base = static_cast<int32_t>(out->size());
    for (size_t k = 0; k < len; ++k) {
      const RingSpan& r = ring[first + k];
      out->push_back({r.span, r.parent < 0 ? -1 : base + r.parent, r.slow, r.error, r.origin});
    }
  }
};

TracePipeline::TracePipeline(const TraceSettings& settings, const Clock* clock, AnomalySink anomalies,
                             TopologySink topology)
    : impl_(std::make_unique<Impl>(settings, clock, std::move(anomalies), std::move(topology))) {}

TracePipeline::~TracePipeline() { Stop(); }

void TracePipeline::Start() {
  if (impl_->running.exchange(true)) return;
  impl_->worker = std::thread([d = impl_.get()] { d->Run(); });
}

void TracePipeline::Stop() {
  impl_->running.store(false);
  impl_->queue.Close();
  if (impl_->worker.joinable()) impl_->worker.join();
}

Result<TraceIngestOutcome> TracePipeline::Ingest(SpanBatch* batch) {
  auto& d = *impl_;
  TraceIngestOutcome out;
  const size_t n = batch->spans.size();
  if (n == 0) return out;
  if (!d.queue.TryReserve(n)) {
    d.refused.fetch_add(1, std::memory_order_relaxed);
    return Status::ResourceExhausted("trace queue is full (" + std::to_string(d.queue.used()) + " spans queued)");
  }
  d.in_flight.fetch_add(1);
  d.queue.PushReserved(std::move(batch->spans), n);
  batch->spans.clear();
  d.accepted.fetch_add(n, std::memory_order_relaxed);
  out.accepted = n;
  return out;
}

void TracePipeline::Flush(bool close_open) {
  auto& d = *impl_;
  while (d.queue.used() > 0 || d.in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (!close_open) return;
  if (!d.running.load() || !d.worker.joinable()) {
    std::vector<Anomaly> found;
    d.CloseOpen(&found);
    d.Hand(found);
    return;
  }
  d.close_requested.store(true);
  while (d.close_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

std::vector<RecentSpan> TracePipeline::RecentSpans(TimestampMs from_ms, TimestampMs to_ms, size_t limit) const {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock(d.ring_mu);
  // Whole traces overlapping [from, to], newest first until the limit.
  std::vector<std::pair<size_t, size_t>> picked;
  size_t total = 0;
  size_t end = d.ring.size();
  while (end > 0) {
    const RingSpan& last = d.ring[end - 1];
    const size_t first = end - 1 - last.pos;
    const size_t len = last.len;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t k = first; k < end; ++k) {
      lo = std::min(lo, d.ring[k].span.start_us);
      hi = std::max(hi, d.ring[k].span.end_us());
    }
    if (lo / 1000 <= to_ms && hi / 1000 >= from_ms) {
      if (total + len > limit) break;
      picked.emplace_back(first, len);
      total += len;
    }
    end = first;
  }
  std::vector<RecentSpan> out;
  out.reserve(total);
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) Impl::CopyTrace(d.ring, it->first, it->second, &out);
  return out;
}

Result<std::vector<RecentSpan>> TracePipeline::FindTrace(TraceId id) const {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock(d.ring_mu);
  std::vector<RecentSpan> out;
  for (size_t i = 0; i < d.ring.size(); i += d.ring[i].len - d.ring[i].pos) {
    if (d.ring[i].span.trace_id == id) Impl::CopyTrace(d.ring, i, d.ring[i].len - d.ring[i].pos, &out);
  }
  if (out.empty()) return Status::NotFound("trace not in the recent ring (unknown, still assembling, or aged out)");
  return out;
}

traces::GraphSnapshot TracePipeline::Topology(traces::GraphLevel level, int64_t window_ms) const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->graph.Snapshot(level, window_ms * 1000);
}

std::vector<traces::OperationSummary> TracePipeline::Operations() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->baselines.Operations();
}

int64_t TracePipeline::max_window_ms() const { return impl_->graph.max_window_us() / 1000; }

TracePipelineStats TracePipeline::stats() const {
  auto& d = *impl_;
  TracePipelineStats s;
  s.spans_accepted = d.accepted.load();
  s.requests_refused_full = d.refused.load();
  s.anomalies = d.anomalies.load();
  s.anomalies_dropped = d.anomalies_dropped.load();
  s.anomalous_traces = d.anomalous_traces.load();
  s.topology_edges_shared = d.edges_shared.load();
  s.queue_spans = d.queue.used();
  {
    std::lock_guard<std::mutex> lock(d.state_mu);
    traces::AssemblerStats a = d.assembler.stats();
    s.traces_closed = a.traces_closed;
    s.traces_closed_early = a.traces_closed_early;
    s.spans_dropped_trace_full = a.spans_dropped_trace_full;
    s.duplicate_spans = a.duplicate_spans;
    s.open_traces = a.open_traces;
    s.open_spans = a.open_spans;
  }
  std::lock_guard<std::mutex> lock(d.ring_mu);
  s.recent_spans = d.ring.size();
  return s;
}

void TracePipeline::RenderMetrics(std::string* out) const {
  TracePipelineStats s = stats();
  traces::ServiceGraphStats g;
  traces::BaselineStats b;
  {
    std::lock_guard<std::mutex> lock(impl_->state_mu);
    g = impl_->graph.stats();
    b = impl_->baselines.stats();
  }
  auto line = [&](const char* name, const char* type, const char* help, double v) {
    char num[32];
    std::snprintf(num, sizeof num, "%.17g", v);
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + num + "\n";
  };
  auto u = [](uint64_t v) { return static_cast<double>(v); };
  line("vigil_trace_spans_accepted_total", "counter", "Spans accepted by the trace decoders and queued.", u(s.spans_accepted));
  line("vigil_trace_requests_refused_full_total", "counter", "Span posts answered 503 because the trace queue was full.", u(s.requests_refused_full));
  line("vigil_trace_queue_spans", "gauge", "Spans waiting for assembly.", u(s.queue_spans));
  line("vigil_trace_open_traces", "gauge", "Traces in the assembly window.", u(s.open_traces));
  line("vigil_trace_open_spans", "gauge", "Spans in the assembly window.", u(s.open_spans));
  line("vigil_trace_traces_closed_total", "counter", "Traces assembled and analysed.", u(s.traces_closed));
  line("vigil_trace_traces_closed_early_total", "counter", "Traces closed before going idle to respect traces.max_open_traces / max_open_spans.", u(s.traces_closed_early));
  line("vigil_trace_spans_dropped_trace_full_total", "counter", "Spans dropped because their trace reached traces.max_spans_per_trace.", u(s.spans_dropped_trace_full));
  line("vigil_trace_duplicate_spans_total", "counter", "Spans received twice (same trace, id, service and kind).", u(s.duplicate_spans));
  line("vigil_trace_anomalous_traces_total", "counter", "Assembled traces with a slow or error span.", u(s.anomalous_traces));
  line("vigil_trace_anomalies_total", "counter", "Trace anomalies (per operation per bucket) raised.", u(s.anomalies));
  line("vigil_trace_anomalies_dropped_total", "counter", "Trace anomalies dropped because the anomaly queue was full.", u(s.anomalies_dropped));
  line("vigil_trace_recent_spans", "gauge", "Spans in the ring of recent traces.", u(s.recent_spans));
  line("vigil_trace_graph_edges", "gauge", "Service-level edges of the dependency graph.", u(g.service_edges));
  line("vigil_trace_graph_instance_edges", "gauge", "Instance-level edges of the dependency graph.", u(g.instance_edges));
  line("vigil_trace_graph_edges_refused_total", "counter", "Edges not kept because traces.max_edges was reached.", u(g.edges_refused));
  line("vigil_trace_graph_late_calls_total", "counter", "Calls older than the graph window when their trace closed.", u(g.late_calls));
  line("vigil_trace_graph_bytes", "gauge", "Approximate memory of the dependency graph.", u(g.bytes));
  line("vigil_trace_operations", "gauge", "Operations with a baseline.", u(b.operations));
  line("vigil_trace_operations_refused_total", "counter", "Spans of operations beyond traces.max_operations (not judged).", u(b.operations_refused));
  line("vigil_trace_baseline_bytes", "gauge", "Approximate memory of the per-operation baselines.", u(b.bytes));
  line("vigil_trace_topology_edges_shared_total", "counter", "Discovered service edges handed to the alert correlator's topology.", u(s.topology_edges_shared));
}

}  // namespace vigil
