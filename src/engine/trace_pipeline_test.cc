#include "engine/trace_pipeline.h"

#include <mutex>

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000;  // µs

Span MakeSpan(uint64_t trace, uint64_t id, uint64_t parent, const std::string& service, const std::string& op,
              SpanKind kind, int64_t start_us, int64_t dur_us, bool error = false) {
  Span s;
  s.trace_id = {0, trace};
  s.span_id = id;
  s.parent_span_id = parent;
  s.service = service;
  s.instance = service + "-0";
  s.operation = op;
  s.kind = kind;
  s.start_us = start_us;
  s.duration_us = dur_us;
  s.error = error;
  return s;
}

// web -> api, with api failing on every call from t_fail on.
void AddTraces(SpanBatch* b, uint64_t first, int n, int64_t t, bool fail) {
  for (int i = 0; i < n; ++i) {
    const uint64_t tr = first + static_cast<uint64_t>(i);
    const int64_t s = t + i * 100'000;
    b->spans.push_back(MakeSpan(tr, 1, 0, "web", "GET /", SpanKind::kServer, s, 3000, fail));
    b->spans.push_back(MakeSpan(tr, 2, 1, "web", "call api", SpanKind::kClient, s + 100, 2500, fail));
    b->spans.push_back(MakeSpan(tr, 3, 2, "api", "Get", SpanKind::kServer, s + 200, 2000, fail));
  }
}

struct Sinks {
  std::mutex mu;
  std::vector<Anomaly> anomalies;
  std::vector<std::pair<std::string, std::string>> edges;
};

TEST(TracePipelineTest, AssemblesGraphsRingsAndReportsAnomalies) {
  SimulatedClock clock(kT0 / 1000);
  Sinks sinks;
  TraceSettings cfg;
  cfg.idle_timeout_ms = 1000;
  cfg.recent_spans = 1000;
  cfg.min_baseline_calls = 20;
  TracePipeline p(
      cfg, &clock,
      [&](std::vector<Anomaly> a) {
        std::lock_guard<std::mutex> lock(sinks.mu);
        for (auto& x : a) sinks.anomalies.push_back(std::move(x));
        return Status::Ok();
      },
      [&](const std::vector<std::pair<std::string, std::string>>& e) {
        std::lock_guard<std::mutex> lock(sinks.mu);
        sinks.edges.insert(sinks.edges.end(), e.begin(), e.end());
      });
  p.Start();
  SpanBatch b;
  AddTraces(&b, 1, 600, kT0, false);  // a minute of normal calls
  auto out = p.Ingest(&b);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->accepted, 1800u);
  EXPECT_TRUE(b.spans.empty());
  AddTraces(&b, 1000, 300, kT0 + 60'000'000, true);  // then 30 s of errors
  ASSERT_TRUE(p.Ingest(&b).ok());
  p.Flush(true);

  traces::GraphSnapshot g = p.Topology(traces::GraphLevel::kService, 900'000);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].from_service, "web");
  EXPECT_EQ(g.edges[0].to_service, "api");
  EXPECT_EQ(g.edges[0].figures.calls, 900u);
  EXPECT_EQ(g.edges[0].figures.errors, 300u);

  // The ring holds the newest whole traces up to its bound.
  std::vector<RecentSpan> recent = p.RecentSpans(0, INT64_MAX);
  EXPECT_LE(recent.size(), 1000u);
  EXPECT_GE(recent.size(), 900u);
  EXPECT_EQ(recent.size() % 3, 0u);
  EXPECT_EQ(recent.back().span.trace_id.lo, 1299u);
  auto window = p.RecentSpans(kT0 / 1000 + 60'000, kT0 / 1000 + 60'999);
  EXPECT_EQ(window.size(), 30u);  // the 10 traces started in that second
  auto tr = p.FindTrace({0, 1200});
  ASSERT_TRUE(tr.ok());
  ASSERT_EQ(tr->size(), 3u);
  EXPECT_EQ((*tr)[2].parent, 1);
  EXPECT_TRUE((*tr)[2].origin);   // api's failure is the origin
  EXPECT_FALSE((*tr)[0].origin);  // web's is its echo
  EXPECT_FALSE(p.FindTrace({0, 5}).ok());  // aged out of the ring

  {
    std::lock_guard<std::mutex> lock(sinks.mu);
    ASSERT_FALSE(sinks.anomalies.empty());
    for (const Anomaly& a : sinks.anomalies) {
      EXPECT_EQ(a.labels.Get("service"), "api") << a.labels.ToString();
      EXPECT_EQ(a.pattern, "error_burst");
    }
    EXPECT_LE(sinks.anomalies.size(), 4u);  // one per 10 s bucket of the 30 s burst
    ASSERT_EQ(sinks.edges.size(), 1u);
    EXPECT_EQ(sinks.edges[0], std::make_pair(std::string("web"), std::string("api")));
  }
  std::string metrics;
  p.RenderMetrics(&metrics);
  EXPECT_NE(metrics.find("vigil_trace_spans_accepted_total 2700"), std::string::npos);
  p.Stop();
}

TEST(TracePipelineTest, FullQueueRefusesWholeBatches) {
  SimulatedClock clock(0);
  TraceSettings cfg;
  cfg.queue_spans = 1000;
  TracePipeline p(cfg, &clock, [](std::vector<Anomaly>) { return Status::Ok(); }, nullptr);
  // Not started: nothing drains the queue.
  SpanBatch b;
  AddTraces(&b, 1, 300, kT0, false);
  ASSERT_TRUE(p.Ingest(&b).ok());
  AddTraces(&b, 1000, 100, kT0, false);
  auto r = p.Ingest(&b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.spans.size(), 300u);  // nothing taken
  EXPECT_EQ(p.stats().requests_refused_full, 1u);
}

}  // namespace
}  // namespace vigil
