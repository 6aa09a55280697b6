#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "traces/assembler.h"
#include "traces/latency_sketch.h"
#include "traces/operation_baselines.h"
#include "traces/service_graph.h"

namespace vigil::traces {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000;  // µs

Span MakeSpan(uint64_t trace, uint64_t id, uint64_t parent, const std::string& service, const std::string& op,
              SpanKind kind, int64_t start_us, int64_t dur_us, bool error = false, const std::string& instance = "") {
  Span s;
  s.trace_id = {0, trace};
  s.span_id = id;
  s.parent_span_id = parent;
  s.service = service;
  s.instance = instance.empty() ? service + "-0" : instance;
  s.operation = op;
  s.kind = kind;
  s.start_us = start_us;
  s.duration_us = dur_us;
  s.error = error;
  return s;
}

TEST(LatencySketchTest, QuantilesWithinRelativeAccuracyAndMergeExact) {
  LatencySketch a, b, all;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(20'000.0), 0.8);
  std::vector<int64_t> xs;
  for (int i = 0; i < 20000; ++i) {
    int64_t x = static_cast<int64_t>(d(rng)) + 1;
    xs.push_back(x);
    (i % 2 ? a : b).Add(x);
    all.Add(x);
  }
  std::sort(xs.begin(), xs.end());
  for (double q : {0.5, 0.9, 0.95, 0.99}) {
    double truth = static_cast<double>(xs[static_cast<size_t>(q * (xs.size() - 1))]);
    EXPECT_NEAR(all.Quantile(q) / truth, 1.0, 0.021) << q;
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.Quantile(0.99), all.Quantile(0.99));
  EXPECT_LT(all.bytes(), 4096u);  // compact: a few hundred 8-byte buckets for a wide distribution
  EXPECT_EQ(all.CountAbove(1e12), 0u);
  EXPECT_EQ(all.CountAbove(0), all.count());
}

TEST(AssemblerTest, OutOfOrderSpansCloseWhenIdleInSpanTime) {
  TraceAssembler asm_({.idle_timeout_us = 5'000'000});
  std::vector<AssembledTrace> closed;
  // Trace 1's child arrives before its root, trace 2 interleaves.
  asm_.Add(MakeSpan(1, 2, 1, "checkout", "charge", SpanKind::kClient, kT0 + 100, 500), &closed);
  asm_.Add(MakeSpan(2, 10, 0, "web", "GET /", SpanKind::kServer, kT0 + 50, 100), &closed);
  asm_.Add(MakeSpan(1, 3, 2, "payments", "Charge", SpanKind::kServer, kT0 + 150, 400), &closed);
  asm_.Add(MakeSpan(1, 1, 0, "checkout", "POST /checkout", SpanKind::kServer, kT0, 1000), &closed);
  asm_.Advance(asm_.watermark_us(), &closed);
  EXPECT_TRUE(closed.empty());
  EXPECT_EQ(asm_.stats().open_traces, 2u);
  // Time moves on (another trace's span): both go idle and close, oldest first.
  asm_.Add(MakeSpan(3, 20, 0, "web", "GET /", SpanKind::kServer, kT0 + 7'000'000, 100), &closed);
  asm_.Advance(asm_.watermark_us(), &closed);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].id.lo, 2u);
  const AssembledTrace& t = closed[1];
  ASSERT_EQ(t.spans.size(), 3u);
  EXPECT_EQ(t.spans[0].operation, "POST /checkout");  // sorted by start
  EXPECT_EQ(t.parent[0], -1);
  EXPECT_EQ(t.parent[1], 0);
  EXPECT_EQ(t.parent[2], 1);
  EXPECT_EQ(t.start_us, kT0);
  EXPECT_EQ(t.end_us, kT0 + 1000);
  asm_.CloseAll(&closed);
  EXPECT_EQ(closed.size(), 3u);
  EXPECT_EQ(asm_.stats().open_spans, 0u);
}

TEST(AssemblerTest, LateSpansGetTheStreamsIdleTimeNotTheirOwn) {
  TraceAssembler asm_({.idle_timeout_us = 5'000'000});
  std::vector<AssembledTrace> closed;
  asm_.Add(MakeSpan(9, 1, 0, "web", "GET /", SpanKind::kServer, kT0 + 60'000'000, 100), &closed);
  // A backfill of a minute-old trace, one service at a time.
  asm_.Add(MakeSpan(1, 1, 0, "checkout", "POST /checkout", SpanKind::kServer, kT0, 1000), &closed);
  asm_.Advance(asm_.watermark_us(), &closed);
  EXPECT_TRUE(closed.empty());
  asm_.Add(MakeSpan(1, 2, 1, "payments", "Charge", SpanKind::kServer, kT0 + 100, 500), &closed);
  asm_.Add(MakeSpan(9, 2, 1, "web", "render", SpanKind::kInternal, kT0 + 66'000'000, 100), &closed);
  asm_.Advance(asm_.watermark_us(), &closed);
  ASSERT_EQ(closed.size(), 1u);  // trace 1 (trace 9 just got a span)
  EXPECT_EQ(closed[0].id.lo, 1u);
  EXPECT_EQ(closed[0].spans.size(), 2u);  // whole, not two fragments
}

TEST(AssemblerTest, BoundsBiteAndAreCounted) {
  TraceAssembler asm_({.max_open_traces = 2, .max_open_spans = 100, .max_spans_per_trace = 3});
  std::vector<AssembledTrace> closed;
  for (uint64_t tr = 1; tr <= 3; ++tr) {
    for (uint64_t i = 1; i <= 5; ++i) {
      asm_.Add(MakeSpan(tr, i, i - 1, "s", "op", SpanKind::kInternal, kT0 + static_cast<int64_t>(tr * 10 + i), 1), &closed);
    }
  }
  AssemblerStats st = asm_.stats();
  EXPECT_EQ(st.traces_closed_early, 1u);  // trace 1 made room for trace 3
  EXPECT_EQ(st.spans_dropped_trace_full, 6u);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].id.lo, 1u);
  EXPECT_TRUE(closed[0].closed_early);
  EXPECT_TRUE(closed[0].truncated);
  EXPECT_EQ(closed[0].spans.size(), 3u);
}

TEST(AssemblerTest, ZipkinSharedSpansAndDuplicates) {
  std::vector<Span> spans = {
      MakeSpan(1, 1, 0, "web", "GET /cart", SpanKind::kServer, kT0, 1000),
      MakeSpan(1, 2, 1, "web", "get", SpanKind::kClient, kT0 + 10, 900),
      MakeSpan(1, 2, 2, "cart", "get /cart", SpanKind::kServer, kT0 + 20, 800),  // shared server half
      MakeSpan(1, 3, 2, "cart", "redis GET", SpanKind::kClient, kT0 + 30, 100),   // child of the server half
      MakeSpan(1, 3, 2, "cart", "redis GET", SpanKind::kClient, kT0 + 30, 100),   // resent
  };
  uint64_t dups = 0;
  AssembledTrace t = AssembleSpans({0, 1}, spans, &dups);
  EXPECT_EQ(dups, 1u);
  ASSERT_EQ(t.spans.size(), 4u);
  EXPECT_EQ(t.parent[1], 0);
  EXPECT_EQ(t.parent[2], 1);  // the server half hangs under the client half
  EXPECT_EQ(t.parent[3], 2);  // the cart child picks the cart half
}

// frontend -> checkout -> payments, checkout -> postgres (uninstrumented).
AssembledTrace Chain(uint64_t trace, int64_t t, int64_t pay_us, bool pay_error, int pod = 0) {
  std::vector<Span> s = {
      MakeSpan(trace, 1, 0, "frontend", "GET /checkout", SpanKind::kServer, t, pay_us + 3000),
      MakeSpan(trace, 2, 1, "frontend", "POST checkout", SpanKind::kClient, t + 100, pay_us + 2500, pay_error),
      MakeSpan(trace, 3, 2, "checkout", "POST /checkout", SpanKind::kServer, t + 200, pay_us + 2200, pay_error, "checkout-" + std::to_string(pod)),
      MakeSpan(trace, 4, 3, "checkout", "Charge", SpanKind::kClient, t + 300, pay_us + 200, pay_error, "checkout-" + std::to_string(pod)),
      MakeSpan(trace, 5, 4, "payments", "Charge", SpanKind::kServer, t + 350, pay_us, pay_error),
      MakeSpan(trace, 6, 3, "checkout", "SELECT orders", SpanKind::kClient, t + pay_us + 600, 800, false, "checkout-" + std::to_string(pod)),
  };
  s[5].attributes.emplace_back("peer.service", "postgres");
  return AssembleSpans({0, trace}, s);
}

TEST(ServiceGraphTest, EdgesNodesRatesAndErrorsAtBothLevels) {
  ServiceGraph g({.slot_us = 10'000'000, .slots = 6});
  for (int i = 0; i < 100; ++i) {
    g.AddTrace(Chain(static_cast<uint64_t>(i + 1), kT0 + i * 100'000, 5000, i % 10 == 0, i % 2));
  }
  GraphSnapshot s = g.Snapshot(GraphLevel::kService, 60'000'000);
  ASSERT_EQ(s.edges.size(), 3u);
  auto edge = [&](const std::string& from, const std::string& to) -> const GraphEdge* {
    for (const auto& e : s.edges) {
      if (e.from_service == from && e.to_service == to) return &e;
    }
    return nullptr;
  };
  const GraphEdge* fc = edge("frontend", "checkout");
  const GraphEdge* cp = edge("checkout", "payments");
  const GraphEdge* cdb = edge("checkout", "postgres");
  ASSERT_TRUE(fc && cp && cdb);
  EXPECT_EQ(fc->figures.calls, 100u);
  EXPECT_EQ(cp->figures.errors, 10u);
  EXPECT_NEAR(cp->figures.error_rate, 0.1, 1e-9);
  EXPECT_NEAR(cp->figures.p50_ms, 5.0, 0.1);
  EXPECT_NEAR(cdb->figures.p99_ms, 0.8, 0.02);
  // 100 calls over the ~10 s the edge has existed.
  EXPECT_NEAR(fc->figures.rate_per_s, 10.0, 0.2);
  ASSERT_EQ(s.nodes.size(), 4u);
  for (const auto& n : s.nodes) {
    EXPECT_EQ(n.figures.calls, 100u) << n.service;
    EXPECT_EQ(n.peer, n.service == "postgres");
  }
  GraphSnapshot inst = g.Snapshot(GraphLevel::kInstance, 60'000'000);
  int to_checkout = 0;
  for (const auto& e : inst.edges) {
    if (e.to_service == "checkout") {
      ++to_checkout;
      EXPECT_EQ(e.figures.calls, 50u);
    }
  }
  EXPECT_EQ(to_checkout, 2);  // frontend-0 -> checkout-0, frontend-0 -> checkout-1
  // The window slides with span time: a minute later only new calls count.
  g.AddTrace(Chain(1000, kT0 + 65'000'000, 5000, false));
  s = g.Snapshot(GraphLevel::kService, 60'000'000);
  ASSERT_EQ(s.edges.size(), 3u);
  EXPECT_EQ(s.edges[0].figures.calls, 1u);
  EXPECT_EQ(g.ServiceEdges(60'000'000).size(), 3u);
}

// Lognormal latencies around `median_us`.
class Traffic {
 public:
  explicit Traffic(uint64_t seed) : rng_(seed) {}
  int64_t Latency(double median_us) { return static_cast<int64_t>(median_us * std::exp(0.25 * n_(rng_))); }

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> n_{0, 1};
};

TEST(OperationBaselinesTest, OneAnomalyOnTheSlowDependencyNotItsCallers) {
  OperationBaselines b;
  Traffic tr(3);
  std::vector<Anomaly> found;
  uint64_t id = 1;
  int64_t t = kT0;
  // 10 minutes of normal traffic, 20 traces/s.
  for (; t < kT0 + 600'000'000; t += 50'000) b.AddTrace(Chain(id++, t, tr.Latency(5000), false), &found);
  EXPECT_TRUE(found.empty()) << found[0].labels.ToString();
  // payments slows down 10x for 30 s.
  for (; t < kT0 + 630'000'000; t += 50'000) {
    TraceVerdict v = b.AddTrace(Chain(id++, t, tr.Latency(50000), false), &found);
    EXPECT_TRUE(v.anomalous);
    EXPECT_TRUE(v.spans[4].origin);   // payments Charge
    EXPECT_FALSE(v.spans[0].origin);  // frontend is slow only because of it
  }
  for (; t < kT0 + 700'000'000; t += 50'000) b.AddTrace(Chain(id++, t, tr.Latency(5000), false), &found);
  b.Flush(&found);
  ASSERT_GE(found.size(), 3u);
  ASSERT_LE(found.size(), 4u);  // one per 10 s bucket (a bucket may straddle the edges)
  for (const Anomaly& a : found) {
    EXPECT_EQ(a.labels.Get("service"), "payments") << a.labels.ToString();
    EXPECT_EQ(a.labels.Get("operation"), "Charge");
    EXPECT_EQ(a.pattern, "slow_operation");
    EXPECT_GE(a.score, 6);
    EXPECT_GT(a.value, a.upper);
  }
  EXPECT_GT(b.stats().origin_spans, 0u);
}

TEST(OperationBaselinesTest, ErrorBurstAndTimeoutsAtTheOrigin) {
  OperationBaselines b;
  Traffic tr(5);
  std::vector<Anomaly> found;
  uint64_t id = 1;
  int64_t t = kT0;
  for (; t < kT0 + 300'000'000; t += 100'000, ++id) b.AddTrace(Chain(id, t, tr.Latency(5000), id % 500 == 0), &found);
  EXPECT_TRUE(found.empty());
  for (; t < kT0 + 320'000'000; t += 100'000, ++id) {
    AssembledTrace c = Chain(id, t, tr.Latency(5000), id % 3 == 0);
    c.spans[4].attributes.emplace_back("status.message", "deadline exceeded");
    b.AddTrace(c, &found);
  }
  b.Flush(&found);
  ASSERT_GE(found.size(), 2u);
  for (const Anomaly& a : found) {
    EXPECT_EQ(a.labels.Get("service"), "payments");
    EXPECT_EQ(a.pattern, "timeout");
    EXPECT_NEAR(a.value, 0.33, 0.1);
  }
  // Baselines are per (service, operation).
  auto ops = b.Operations();
  EXPECT_EQ(ops.size(), 6u);
  for (const auto& o : ops) EXPECT_TRUE(o.warm) << o.service << " " << o.operation;
}

TEST(OperationBaselinesTest, NothingBeforeTheBaselineIsWarm) {
  OperationBaselines b;
  std::vector<Anomaly> found;
  for (int i = 0; i < 20; ++i) b.AddTrace(Chain(static_cast<uint64_t>(i + 1), kT0 + i * 1000, 5000, true), &found);
  b.Flush(&found);
  EXPECT_TRUE(found.empty());
}

}  // namespace
}  // namespace vigil::traces
