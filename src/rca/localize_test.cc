#include "rca/localize.h"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rca/call_gaps.h"
#include "rca/change_correlation.h"
#include "rca/host_scan.h"
#include "rca/log_evidence.h"
#include "rca/metric_evidence.h"
#include "rca/microrank.h"
#include "rca/rca_eval.h"

namespace vigil::rca {
namespace {

constexpr TimestampMs kT0 = 1767571200000 + 3600000;  // incident
constexpr int64_t kMin = 60000;

// A deterministic wiggle so windows have a spread.
double Noise(int i, int k) { return std::sin(i * 1.7 + k * 0.37) * 0.5; }

MetricSeries Series(const std::string& svc, const std::string& pod, const std::string& ind, double base,
                    double fault_level, int salt, const std::string& host = "node-1") {
  MetricSeries m{svc, pod, host, ind, {}, {}};
  for (int i = -30; i < 6; ++i) {
    m.ts_ms.push_back(kT0 + i * kMin);
    m.values.push_back((i >= 0 ? fault_level : base) + Noise(i, salt));
  }
  return m;
}

// frontend -> cart -> redis; the fault is on redis' CPU, frontend and cart
// latency follow (a symptom propagating upwards).
CaseData ChainCase() {
  CaseData d;
  d.incident_ms = kT0;
  d.dependencies = {{"frontend", "cart"}, {"cart", "redis"}};
  int salt = 0;
  for (const char* s : {"frontend", "cart", "redis"}) {
    const std::string pod = std::string(s) + "-abc123def-xyz12";
    d.metrics.push_back(Series(s, pod, "PodWorkload(Ops)", 100, 100, ++salt));
    d.metrics.push_back(Series(s, pod, "CpuUsageRate(%)", 30, std::string(s) == "redis" ? 95 : 31, ++salt));
  }
  // latency: redis +20 sd, cart and frontend +40 sd (they add up what is below)
  d.metrics.push_back(Series("redis", "redis-abc123def-xyz12", "PodServerLatencyP99(s)", 10, 30, ++salt));
  d.metrics.push_back(Series("cart", "cart-abc123def-xyz12", "PodServerLatencyP99(s)", 20, 60, ++salt));
  d.metrics.push_back(Series("frontend", "frontend-abc123def-xyz12", "PodServerLatencyP99(s)", 30, 90, ++salt));
  return d;
}

TEST(MetricEvidence, RobustScoreMeasuresTheMoveInRobustSd) {
  CaseData d = ChainCase();
  MetricWindows w{kT0 - 26 * kMin, kT0 - kMin, kT0, kT0 + 5 * kMin};
  auto changes = ScoreMetricChanges(d, w);
  ASSERT_EQ(changes.size(), d.metrics.size());
  // workload did not move; redis CPU moved by far more than its noise
  EXPECT_LT(changes[0].score, 3);
  EXPECT_GT(changes[5].score, 20);
  EXPECT_NEAR(changes[5].normal_median, 30, 0.6);
  EXPECT_NEAR(changes[5].abnormal_median, 95, 0.6);
}

TEST(MetricEvidence, IndicatorKindsFromNezhaAndPrometheusNames) {
  EXPECT_EQ(KindOfIndicator("PodWorkload(Ops)"), IndicatorKind::kLoad);
  EXPECT_EQ(KindOfIndicator("ClientRequests(Ops)"), IndicatorKind::kClientLoad);
  EXPECT_EQ(KindOfIndicator("PodServerLatencyP99(s)"), IndicatorKind::kLatency);
  EXPECT_EQ(KindOfIndicator("PodSuccessRate(%)"), IndicatorKind::kErrors);
  EXPECT_EQ(KindOfIndicator("CpuUsageRate(%)"), IndicatorKind::kResource);
  EXPECT_EQ(KindOfIndicator("http_server_requests_total{code=\"2xx\"}"), IndicatorKind::kLoad);
  EXPECT_EQ(KindOfIndicator("http_server_requests_total{code=\"5xx\"}"), IndicatorKind::kErrors);
  EXPECT_EQ(KindOfIndicator("rpc_client_requests_total"), IndicatorKind::kClientLoad);
  EXPECT_EQ(KindOfIndicator("rpc_client_errors_total"), IndicatorKind::kErrors);
  EXPECT_EQ(KindOfIndicator("http_server_request_duration_seconds{quantile=\"0.99\"}"), IndicatorKind::kLatency);
  EXPECT_TRUE(IsNodeIndicator("NodeCpuUsageRate(%)"));
  EXPECT_FALSE(IsNodeIndicator("CpuUsageRate(%)"));
}

TEST(MetricEvidence, GraphMethodExplainsCallersLatencyByTheCallee) {
  CaseData d = ChainCase();
  MetricWindows w{kT0 - 26 * kMin, kT0 - kMin, kT0, kT0 + 5 * kMin};
  auto changes = ScoreMetricChanges(d, w);
  CallGraph g = BuildCallGraph(d);
  ASSERT_EQ(g.callees[static_cast<size_t>(g.Index("cart"))].size(), 1u);
  auto by_score = RankByScore(d, changes);
  auto by_graph = RankOnGraph(d, g, changes, w);
  ASSERT_FALSE(by_graph.empty());
  EXPECT_EQ(by_graph[0].service, "redis");
  EXPECT_EQ(by_graph[0].indicator, "CpuUsageRate(%)");
  // the plain score sees every pod capped alike: no graph, no explanation
  EXPECT_EQ(by_score.size(), 3u);
}

TEST(Localize, RanksTheRootWithEvidenceAndSerializes) {
  CaseData d = ChainCase();
  Ranking r = Localize(d);
  ASSERT_FALSE(r.causes.empty());
  EXPECT_EQ(r.causes[0].service, "redis");
  EXPECT_EQ(r.causes[0].instance, "redis-abc123def-xyz12");
  ASSERT_FALSE(r.causes[0].evidence.empty());
  EXPECT_EQ(r.causes[0].evidence[0].localizer, "metrics");
  EXPECT_NE(r.causes[0].evidence[0].text.find("robust sd"), std::string::npos);
  EXPECT_FALSE(r.baseline.empty());
  auto j = nlohmann::json::parse(RankingToJson(r, 1.5));
  EXPECT_EQ(j["ranking"][0]["service"], "redis");
  EXPECT_EQ(j["compute_ms"], 1.5);
  EXPECT_TRUE(j["ranking"][0]["evidence"][0].contains("numbers"));
  EXPECT_EQ(RankOfService(r.causes, "redis"), 1);
  EXPECT_EQ(RankOfService(r.causes, "nowhere"), 0);
}

TEST(Localize, EmptyCaseGivesAnEmptyRankingWithNotes) {
  CaseData d;
  d.incident_ms = kT0;
  Ranking r = Localize(d);
  EXPECT_TRUE(r.causes.empty());
  EXPECT_FALSE(r.notes.empty());
}

Span MakeSpan(uint64_t trace, uint64_t id, uint64_t parent, const std::string& svc, const std::string& op,
              TimestampMs t, int64_t dur_us, bool error = false) {
  Span s;
  s.trace_id = {0, trace};
  s.span_id = id;
  s.parent_span_id = parent;
  s.service = svc;
  s.instance = svc + "-0";
  s.operation = op;
  s.start_us = t * 1000;
  s.duration_us = dur_us;
  s.error = error;
  return s;
}

TEST(MicroRank, SpectrumPointsAtTheSlowLeaf) {
  std::vector<Span> normal, window;
  uint64_t id = 1;
  // two request paths: front -> a, front -> b; b slows down in the window
  for (int i = 0; i < 40; ++i) {
    for (int path = 0; path < 2; ++path) {
      const bool abnormal = i >= 20;
      const TimestampMs t = kT0 + (abnormal ? 1 : -30) * kMin + i * 1000;
      const uint64_t trace = static_cast<uint64_t>(i * 2 + path + 1);
      const std::string leaf = path == 0 ? "a" : "b";
      const int64_t leaf_us = (abnormal && path == 1) ? 90000 : 10000 + (i % 5) * 100;
      auto& into = abnormal ? window : normal;
      const uint64_t root = id++;
      into.push_back(MakeSpan(trace, root, 0, "front", "GET /" + leaf, t, leaf_us + 2000));
      into.push_back(MakeSpan(trace, id++, root, leaf, "work", t, leaf_us));
    }
  }
  auto r = RunMicroRank(normal, window);
  EXPECT_EQ(r.anomalous_traces, 20u);
  ASSERT_FALSE(r.operations.empty());
  EXPECT_TRUE(r.operations[0].service == "b" || r.operations[0].operation == "GET /b") << r.operations[0].service;
  // front's "GET /a" never failed: it must rank below every b operation
  double a_score = -1, b_score = -1;
  for (const auto& op : r.operations) {
    if (op.service == "b") b_score = op.score;
    if (op.service == "a") a_score = op.score;
  }
  EXPECT_GT(b_score, a_score);
  // DStar2 agrees on the leaf
  MicroRankOptions dstar;
  dstar.formula = MicroRankOptions::Formula::kDStar2;
  auto d2 = RunMicroRank(normal, window, dstar);
  ASSERT_FALSE(d2.operations.empty());
  EXPECT_TRUE(d2.operations[0].service == "b" || d2.operations[0].operation == "GET /b") << d2.operations[0].service;
  EXPECT_GT(d2.operations[0].score, 1.0);  // not a ratio bounded by 1 like Ochiai
}

TEST(CallGaps, DelayedEgressShowsBetweenTheSpans) {
  // web and api both call db; in the window every call into db waits 80 ms
  // between the caller's span and db's own (unchanged) span.
  std::vector<Span> normal, window;
  uint64_t id = 1;
  for (int i = 0; i < 60; ++i) {
    const bool abnormal = i >= 30;
    for (const char* caller : {"web", "api"}) {
      const TimestampMs t = kT0 + (abnormal ? 1 : -20) * kMin + i * 1000;
      const int64_t db_us = 3000 + (i % 7) * 50;
      const int64_t gap_us = abnormal ? 80000 : 400 + (i % 5) * 20;
      auto& into = abnormal ? window : normal;
      const uint64_t parent = id++;
      into.push_back(MakeSpan(static_cast<uint64_t>(i * 2 + (caller[0] == 'w') + 1), parent, 0, caller, "call db", t,
                              db_us + gap_us));
      into.push_back(MakeSpan(static_cast<uint64_t>(i * 2 + (caller[0] == 'w') + 1), id++, parent, "db", "query", t, db_us));
    }
  }
  auto gaps = RankCallGaps(normal, window);
  ASSERT_FALSE(gaps.empty());
  EXPECT_EQ(gaps[0].service, "db");
  EXPECT_EQ(gaps[0].slow_in, 60);
  EXPECT_GT(gaps[0].score, 0.9);
  EXPECT_NEAR(gaps[0].median_excess_ms, 79.6, 0.5);
  // no gap grew: nothing to report
  EXPECT_TRUE(RankCallGaps(normal, normal).empty());
}

TEST(MetricEvidence, CalleeSeenDegradingByAllItsCallersIsBlamed) {
  // a and b call x (and a also calls y); both callers' client latency rises,
  // x's own server latency does not: the link to x is the common cause.
  CaseData d;
  d.incident_ms = kT0;
  d.dependencies = {{"a", "x"}, {"b", "x"}, {"a", "y"}};
  int salt = 0;
  for (const char* s : {"a", "b", "x", "y"}) {
    const std::string pod = std::string(s) + "-abc123def-xyz12";
    const bool caller = s[0] == 'a' || s[0] == 'b';
    d.metrics.push_back(Series(s, pod, "PodWorkload(Ops)", 100, 100, ++salt));
    d.metrics.push_back(Series(s, pod, "PodServerLatencyP99(s)", 10, 10, ++salt));
    if (caller) d.metrics.push_back(Series(s, pod, "PodClientLatencyP99(s)", 10, 40, ++salt));
  }
  MetricWindows w{kT0 - 26 * kMin, kT0 - kMin, kT0, kT0 + 5 * kMin};
  auto changes = ScoreMetricChanges(d, w);
  auto ranked = RankOnGraph(d, BuildCallGraph(d), changes, w);
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked[0].service, "x");
  EXPECT_NE(ranked[0].indicator.find("callers (a, b)"), std::string::npos) << ranked[0].indicator;
  // the plain score blames the callers
  auto plain = RankByScore(d, changes);
  EXPECT_TRUE(plain[0].service == "a" || plain[0].service == "b");
}

TEST(LogEvidence, NewErrorTemplateOnOnePodBeatsAnEchoOnMany) {
  CaseData d;
  d.incident_ms = kT0;
  for (int i = 0; i < 5; ++i) {
    const TimestampMs t = kT0 + i * kMin;
    d.logs.push_back({t, "db", "db-0", "", true, MaskLogLine("ERROR disk full writing /var/lib/db/1234.log")});
    for (const char* s : {"web", "api", "cart"}) {
      d.logs.push_back({t, s, std::string(s) + "-0", "", true, "ERROR upstream returned 503"});
    }
  }
  for (int i = -20; i < 0; ++i) d.logs.push_back({kT0 + i * kMin, "web", "web-0", "", true, "ERROR upstream returned 503"});
  MetricWindows w{kT0 - 26 * kMin, kT0 - kMin, kT0, kT0 + 5 * kMin};
  auto logs = ScoreErrorLogs(d, w);
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs[0].instance, "db-0");
  EXPECT_EQ(logs[0].template_text, "ERROR disk full writing <*>");
}

TEST(LogEvidence, MaskKeepsWordsAndMasksVariables) {
  EXPECT_EQ(MaskLogLine("GET /cart 200 12ms request_id=00ab12\nstack"), "GET /cart <*> <*> request_id=<*>");
}

TEST(ChangeCorrelation, RecentDeployScoresHigher) {
  CaseData d;
  d.incident_ms = kT0;
  auto ev = [](TimestampMs t, const char* svc) {
    Event e;
    e.ts_ms = t;
    e.kind = "deploy";
    e.labels = *Labels::FromPairs({{"service", svc}});
    return e;
  };
  d.events = {ev(kT0 - 2 * kMin, "cart"), ev(kT0 - 25 * kMin, "web"), ev(kT0 - 90 * kMin, "db")};
  auto c = CorrelateChanges(d);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].service, "cart");
  EXPECT_GT(c[0].score, c[1].score);
  EXPECT_NEAR(c[0].minutes_before, 2, 1e-9);
}

TEST(HostScan, HostWhosePodsAllMovedRanksFirst) {
  CaseData d;
  d.incident_ms = kT0;
  int salt = 0;
  for (int p = 0; p < 3; ++p) {
    d.metrics.push_back(Series("s" + std::to_string(p), "a-" + std::to_string(p), "CpuUsageRate(%)", 20, 60, ++salt, "hot"));
    d.metrics.push_back(Series("s" + std::to_string(p), "b-" + std::to_string(p), "CpuUsageRate(%)", 20, 20, ++salt, "cool"));
  }
  MetricWindows w{kT0 - 26 * kMin, kT0 - kMin, kT0, kT0 + 5 * kMin};
  auto hosts = ScanHosts(d, ScoreMetricChanges(d, w));
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].host, "hot");
  EXPECT_GT(hosts[0].score, 10);
  EXPECT_LT(hosts[1].score, 3);
}

TEST(RcaEval, TopKCountsDistinctServices) {
  std::vector<RankedCause> causes = {{"a", "a-1", "", 3, {}}, {"a", "a-2", "", 2, {}}, {"b", "b-1", "", 1, {}}};
  EXPECT_EQ(RankOfService(causes, "b"), 2);
  EXPECT_EQ(RankOfInstance(causes, "b-1"), 3);
  TopKScore s;
  s.Add(1);
  s.Add(3);
  s.Add(0);
  EXPECT_DOUBLE_EQ(s.Ac(1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.Ac(3), 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.Avg5(), (1.0 / 3 + 1.0 / 3 + 2.0 / 3 + 2.0 / 3 + 2.0 / 3) / 5);
}

}  // namespace
}  // namespace vigil::rca
