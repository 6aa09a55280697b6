#include "incidents/correlator.h"

#include <string>

#include <gtest/gtest.h>

#include "core/clock.h"

namespace vigil {
namespace {

constexpr TimestampMs kT0 = 1'795'334'000'000;

Labels NodeSeries(const std::string& instance, const std::string& cpu, const std::string& mode) {
  return *Labels::FromPairs({{"__name__", "node_cpu_seconds_total"},
                             {"instance", instance},
                             {"job", "node"},
                             {"cpu", cpu},
                             {"mode", mode}});
}

class Timeline {
 public:
  Timeline() : clock_(kT0) {}
  // An anomaly of `labels` now, with a fresh id.
  Anomaly Make(const Labels& labels, double score, double value = 0.98, double expected = 0.02) {
    Anomaly a;
    a.id = ++next_id_;
    a.labels = labels;
    a.series = SeriesIdOf(labels);
    a.ts_ms = clock_.NowMs();
    a.value = value;
    a.expected = expected;
    a.lower = expected - 0.05;
    a.upper = expected + 0.05;
    a.score = score;
    a.direction = value >= expected ? Direction::kUp : Direction::kDown;
    a.detector = "robust_median_mad";
    a.pattern = "spike";
    a.is_rate = true;
    return a;
  }
  void Advance(TimestampMs ms) { clock_.Advance(ms); }
  TimestampMs now() const { return clock_.NowMs(); }

 private:
  SimulatedClock clock_;
  int64_t next_id_ = 0;
};

Labels PodSeries(const std::string& service, const std::string& pod, const std::string& metric,
                 const std::string& peer = "") {
  std::vector<Label> l = {{"__name__", metric}, {"service", service}, {"instance", pod}};
  if (!peer.empty()) l.push_back({"peer", peer});
  return *Labels::FromPairs(std::move(l));
}

// Three strong anomalies of `pod` (two series), enough to open an incident.
std::vector<IncidentChange> Burst(IncidentCorrelator& c, Timeline& t, const std::string& service,
                                  const std::string& pod, const std::string& peer = "") {
  std::vector<IncidentChange> out;
  const std::string metric = peer.empty() ? "latency_seconds" : "rpc_client_duration_seconds";
  for (int i = 0; i < 3; ++i) {
    auto ch = c.OnAnomaly(t.Make(PodSeries(service, pod, i == 1 ? "errors_total" : metric, i == 1 ? "" : peer), 30));
    for (auto& x : ch) out.push_back(std::move(x));
    t.Advance(1000);
  }
  return out;
}

TEST(IncidentCorrelator, PodsOfOneServiceShareAnIncident) {
  Timeline t;
  IncidentCorrelator c({});
  auto first = Burst(c, t, "cart", "cart-1");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].kind, IncidentChange::Kind::kOpened);
  c.SetIncidentId(first[0].incident.entity, 7);
  auto second = Burst(c, t, "cart", "cart-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_EQ(second[0].incident.id, 7);
  ASSERT_EQ(second[0].incident.members.size(), 1u);
  EXPECT_EQ(second[0].incident.members[0], "instance=\"cart-2\",service=\"cart\"");
  ASSERT_FALSE(second[0].timeline.empty());
  EXPECT_EQ(second[0].timeline[0].kind, "joined");
  EXPECT_NE(second[0].timeline[0].text.find("another entity of cart"), std::string::npos);
  EXPECT_EQ(second[0].anomaly_ids.size(), 3u);
  EXPECT_EQ(c.open_count(), 1u);
  // A later anomaly of the member joins the same incident at once.
  auto later = c.OnAnomaly(t.Make(PodSeries("cart", "cart-2", "latency_seconds"), 9));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].incident.id, 7);
  EXPECT_EQ(c.FindOpen("instance=\"cart-2\",service=\"cart\"")->id, 7);
  // Resolution frees the member: its next trouble is a new incident.
  auto resolved = c.Tick(t.now() + 10 * 60 * 1000);
  ASSERT_EQ(resolved.size(), 1u);
  t.Advance(60 * 60 * 1000);
  auto fresh = Burst(c, t, "cart", "cart-2");
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].kind, IncidentChange::Kind::kOpened);
  EXPECT_TRUE(fresh[0].incident.members.empty());
}

TEST(IncidentCorrelator, CallersJoinThroughPeerLabelsAndKnownCalls) {
  Timeline t;
  IncidentCorrelator c({});
  // checkout's series name its calls to payments: a learned call.
  c.CountSeries(PodSeries("checkout", "co-1", "rpc_client_duration_seconds", "payments"));
  c.AddCall("frontend", "checkout");
  auto root = Burst(c, t, "payments", "pay-1");
  ASSERT_EQ(root.size(), 1u);
  // A caller whose evidence names payments as its peer.
  auto caller = Burst(c, t, "checkout", "co-1", "payments");
  ASSERT_EQ(caller.size(), 1u);
  EXPECT_EQ(caller[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_NE(caller[0].timeline[0].text.find("checkout calls payments"), std::string::npos);
  // frontend calls checkout (declared), which is now in the incident.
  auto front = Burst(c, t, "frontend", "fe-1");
  ASSERT_EQ(front.size(), 1u);
  EXPECT_EQ(front[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_NE(front[0].timeline[0].text.find("frontend calls checkout"), std::string::npos);
  EXPECT_EQ(front[0].incident.members.size(), 2u);
  // An unrelated service opens its own incident.
  auto other = Burst(c, t, "search", "s-1");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].kind, IncidentChange::Kind::kOpened);
  EXPECT_EQ(c.open_count(), 2u);
}

TEST(IncidentCorrelator, InstrumentedCallsNeedPeerEvidence) {
  Timeline t;
  IncidentCorrelator c({});
  // frontend's series measure its calls to cart: vigil sees those calls.
  c.CountSeries(PodSeries("frontend", "fe-1", "rpc_client_duration_seconds", "cart"));
  // frontend's calls to cart are slow: an incident naming cart as a peer.
  auto caller = Burst(c, t, "frontend", "fe-1", "cart");
  ASSERT_EQ(caller.size(), 1u);
  ASSERT_EQ(caller[0].kind, IncidentChange::Kind::kOpened);
  // cart itself then shows trouble: the cause joins the symptom's incident.
  auto root = Burst(c, t, "cart", "cart-1");
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_NE(root[0].timeline[0].text.find("calls to cart are affected"), std::string::npos);

  // A second system: search's own trouble beginning a minute or more
  // after its caller's, while the caller's calls to it look normal (no
  // peer anomaly), is a fault of its own.
  Timeline t2;
  IncidentCorrelator d({});
  d.CountSeries(PodSeries("frontend", "fe-1", "rpc_client_duration_seconds", "search"));
  ASSERT_EQ(Burst(d, t2, "frontend", "fe-1").size(), 1u);
  t2.Advance(IncidentConfig{}.evidence_window_ms);
  auto other = Burst(d, t2, "search", "s-1");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].kind, IncidentChange::Kind::kOpened);
}

// Two services on a measured call whose trouble began within one evidence
// window of each other are one event (a load burst reaching both, a fast
// fault), although the caller's calls have not shown it yet: their peer
// anomalies often come seconds after the services' own. One incident.
// (A traffic burst on the simulated Sock Shop opened one incident per
// service before: docs/design.md.)
TEST(IncidentCorrelator, ServicesOnAMeasuredCallThatBeginTogetherShareAnIncident) {
  Timeline t;
  IncidentCorrelator c({});
  c.CountSeries(PodSeries("frontend", "fe-1", "rpc_client_duration_seconds", "search"));
  ASSERT_EQ(Burst(c, t, "frontend", "fe-1").size(), 1u);
  t.Advance(IncidentConfig{}.evidence_window_ms - 4000);  // search's first anomaly: 59 s after frontend's
  auto callee = Burst(c, t, "search", "s-1");
  ASSERT_EQ(callee.size(), 1u);
  EXPECT_EQ(callee[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_NE(callee[0].timeline[0].text.find("search is called by frontend and began failing with it"), std::string::npos)
      << callee[0].timeline[0].text;
  EXPECT_EQ(c.open_count(), 1u);
}

TEST(IncidentCorrelator, KnownCallsRelateOnlyYoungIncidents) {
  Timeline t;
  IncidentConfig cfg;
  cfg.resolve_after_ms = 60 * 60 * 1000;  // keep the first incident open
  IncidentCorrelator c(cfg);
  c.AddCall("frontend", "payments");
  ASSERT_EQ(Burst(c, t, "payments", "pay-1").size(), 1u);
  t.Advance(cfg.group_window_ms + 1000);
  auto late = Burst(c, t, "frontend", "fe-1");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].kind, IncidentChange::Kind::kOpened);  // a new fault, not the old one spreading
}

TEST(IncidentCorrelator, GroupingCanBeTurnedOff) {
  Timeline t;
  IncidentConfig cfg;
  cfg.group_labels.clear();
  IncidentCorrelator c(cfg);
  ASSERT_EQ(Burst(c, t, "cart", "cart-1").size(), 1u);
  auto second = Burst(c, t, "cart", "cart-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, IncidentChange::Kind::kOpened);
}

TEST(IncidentCorrelator, RestoreKeepsMembers) {
  Timeline t;
  IncidentCorrelator c({});
  auto first = Burst(c, t, "cart", "cart-1");
  c.SetIncidentId(first[0].incident.entity, 3);
  auto second = Burst(c, t, "cart", "cart-2");
  IncidentCorrelator restored({});
  restored.Restore({second[0].incident});
  auto ch = restored.OnAnomaly(t.Make(PodSeries("cart", "cart-2", "latency_seconds"), 30));
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].incident.id, 3);
  // A third pod of the restored service still joins.
  auto third = Burst(restored, t, "cart", "cart-3");
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].incident.id, 3);
  EXPECT_EQ(third[0].incident.members.size(), 2u);
}

TEST(IncidentCorrelator, RestoredPeersStillBringTheCauseIn) {
  // checkout's evidence names payments (its client latency to payments):
  // when payments itself turns anomalous it joins checkout's incident. After
  // a restart that holds only if the peers are read back from the stored
  // anomalies.
  Timeline t;
  IncidentCorrelator c({});
  std::vector<Anomaly> stored;
  IncidentChange opened;
  for (int i = 0; i < 3; ++i) {
    stored.push_back(t.Make(PodSeries("checkout", "co-1", i == 1 ? "errors_total" : "rpc_client_duration_seconds",
                                      i == 1 ? "" : "payments"),
                            30));
    for (auto& ch : c.OnAnomaly(stored.back())) opened = ch;
    t.Advance(1000);
  }
  ASSERT_EQ(opened.kind, IncidentChange::Kind::kOpened);
  opened.incident.id = 5;

  IncidentCorrelator forgetful({});
  forgetful.Restore({opened.incident});
  auto alone = Burst(forgetful, t, "payments", "pay-1");
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].kind, IncidentChange::Kind::kOpened) << "without its peers the incident cannot relate payments";

  IncidentCorrelator restored({});
  restored.Restore({opened.incident});
  restored.RestorePeers(opened.incident.entity, stored);
  auto cause = Burst(restored, t, "payments", "pay-1");
  ASSERT_EQ(cause.size(), 1u);
  EXPECT_EQ(cause[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_EQ(cause[0].incident.id, 5);
  restored.RestorePeers("service=\"nobody\"", stored);  // no open incident: nothing happens
}

TEST(IncidentCorrelator, EntityKeys) {
  IncidentCorrelator c({});
  Labels el;
  EXPECT_EQ(c.EntityOf(NodeSeries("h:9100", "0", "user"), &el), "instance=\"h:9100\",job=\"node\"");
  EXPECT_EQ(el.size(), 2u);
  EXPECT_EQ(el.Get("instance"), "h:9100");
  auto svc = *Labels::FromPairs({{"__name__", "latency_ms"}, {"service", "checkout"}, {"route", "/pay"}});
  EXPECT_EQ(c.EntityOf(svc, &el), "service=\"checkout\"");
  auto bare = *Labels::FromPairs({{"__name__", "queue_depth"}, {"shard", "3"}});
  EXPECT_EQ(c.EntityOf(bare, &el), "queue_depth");
  EXPECT_EQ(el.Get("__name__"), "queue_depth");
  auto quoted = *Labels::FromPairs({{"__name__", "x"}, {"host", "a\"b"}});
  EXPECT_EQ(c.EntityOf(quoted, nullptr), "host=\"a\\\"b\"");
}

TEST(IncidentCorrelator, OpensOnlyWithEnoughEvidence) {
  Timeline t;
  IncidentCorrelator c({});
  auto user0 = NodeSeries("h:9100", "0", "user");
  auto idle0 = NodeSeries("h:9100", "0", "idle");
  EXPECT_TRUE(c.OnAnomaly(t.Make(user0, 30)).empty());
  t.Advance(1000);
  EXPECT_TRUE(c.OnAnomaly(t.Make(idle0, 40, 0.01, 0.98)).empty());
  EXPECT_EQ(c.pending_entities(), 1u);
  EXPECT_EQ(c.open_count(), 0u);
  t.Advance(1000);
  auto changes = c.OnAnomaly(t.Make(user0, 55));
  ASSERT_EQ(changes.size(), 1u);
  const IncidentChange& ch = changes[0];
  EXPECT_EQ(ch.kind, IncidentChange::Kind::kOpened);
  EXPECT_EQ(ch.incident.id, 0);
  EXPECT_EQ(ch.incident.state, IncidentState::kOpen);
  EXPECT_EQ(ch.incident.entity, "instance=\"h:9100\",job=\"node\"");
  EXPECT_EQ(ch.incident.opened_ms, kT0);  // when the trouble started
  EXPECT_EQ(ch.incident.anomaly_count, 3);
  EXPECT_DOUBLE_EQ(ch.incident.max_score, 55);
  EXPECT_EQ(ch.anomaly_ids, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(ch.incident.series.size(), 2u);
  EXPECT_EQ(ch.incident.series[0].name, user0.ToString());  // strongest first
  EXPECT_EQ(ch.incident.series[0].anomalies, 2);
  EXPECT_EQ(ch.incident.title,
            "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} up (rate 0.98/s, expected 0.02) on "
            "instance=\"h:9100\",job=\"node\"");
  ASSERT_GE(ch.timeline.size(), 3u);
  EXPECT_EQ(ch.timeline[0].kind, "opened");
  EXPECT_EQ(ch.timeline[1].kind, "anomaly");
  EXPECT_EQ(ch.timeline[1].ref_id, 1);
  EXPECT_EQ(c.pending_entities(), 0u);
  EXPECT_EQ(c.open_count(), 1u);
}

TEST(IncidentCorrelator, EvidenceOutsideTheWindowDoesNotCount) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  EXPECT_TRUE(c.OnAnomaly(t.Make(s, 20)).empty());
  t.Advance(40000);
  EXPECT_TRUE(c.OnAnomaly(t.Make(s, 20)).empty());
  t.Advance(30000);  // the first is now 70 s old
  EXPECT_TRUE(c.OnAnomaly(t.Make(s, 20)).empty());
  t.Advance(10000);
  EXPECT_EQ(c.OnAnomaly(t.Make(s, 20)).size(), 1u);
}

TEST(IncidentCorrelator, MinSeriesRequiresDistinctSeries) {
  Timeline t;
  IncidentConfig cfg;
  cfg.min_series = 2;
  IncidentCorrelator c(cfg);
  auto a = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(c.OnAnomaly(t.Make(a, 20)).empty());
    t.Advance(1000);
  }
  auto changes = c.OnAnomaly(t.Make(NodeSeries("h:9100", "1", "user"), 20));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].incident.anomaly_count, 6);
}

TEST(IncidentCorrelator, LaterAnomaliesJoinAndCarryTheStoredId) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  const std::string entity = "instance=\"h:9100\",job=\"node\"";
  c.SetIncidentId(entity, 17);
  t.Advance(5000);
  auto load = *Labels::FromPairs({{"__name__", "node_load1"}, {"instance", "h:9100"}, {"job", "node"}});
  auto changes = c.OnAnomaly(t.Make(load, 80, 3.5, 0.1));
  ASSERT_EQ(changes.size(), 1u);
  const auto& ch = changes[0];
  EXPECT_EQ(ch.kind, IncidentChange::Kind::kUpdated);
  EXPECT_EQ(ch.incident.id, 17);
  EXPECT_EQ(ch.incident.anomaly_count, 4);
  EXPECT_EQ(ch.anomaly_ids, (std::vector<int64_t>{4}));
  EXPECT_EQ(ch.incident.series[0].name, load.ToString());
  EXPECT_NE(ch.incident.title.find("node_load1"), std::string::npos);  // the strongest series names it
  EXPECT_NE(ch.incident.title.find("up (rate 3.5/s, expected 0.1)"), std::string::npos);
  ASSERT_EQ(ch.timeline.size(), 1u);  // a new series joined
  EXPECT_EQ(ch.timeline[0].incident_id, 17);
  // The same series again: no new timeline line.
  t.Advance(1000);
  auto again = c.OnAnomaly(t.Make(load, 70, 3.6, 0.1));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].timeline.empty());
  EXPECT_EQ(again[0].incident.series[0].anomalies, 2);
}

TEST(IncidentCorrelator, TwoEntitiesStaySeparate) {
  Timeline t;
  IncidentCorrelator c({});
  auto a = NodeSeries("a:9100", "0", "user");
  auto b = NodeSeries("b:9100", "0", "user");
  c.OnAnomaly(t.Make(a, 20));
  c.OnAnomaly(t.Make(b, 20));
  c.OnAnomaly(t.Make(a, 20));
  c.OnAnomaly(t.Make(b, 20));
  EXPECT_EQ(c.open_count(), 0u);
  auto ca = c.OnAnomaly(t.Make(a, 20));
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].incident.entity, "instance=\"a:9100\",job=\"node\"");
  EXPECT_EQ(ca[0].incident.anomaly_count, 3);
  auto cb = c.OnAnomaly(t.Make(b, 20));
  ASSERT_EQ(cb.size(), 1u);
  EXPECT_EQ(cb[0].incident.entity, "instance=\"b:9100\",job=\"node\"");
  EXPECT_EQ(c.open_count(), 2u);
}

TEST(IncidentCorrelator, ResolvesAfterQuietPeriod) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  c.SetIncidentId("instance=\"h:9100\",job=\"node\"", 5);
  t.Advance(119000);
  EXPECT_TRUE(c.Tick(t.now()).empty());
  t.Advance(1000);
  auto changes = c.Tick(t.now());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, IncidentChange::Kind::kResolved);
  EXPECT_EQ(changes[0].incident.state, IncidentState::kResolved);
  EXPECT_EQ(changes[0].incident.resolved_ms, t.now());
  EXPECT_EQ(changes[0].incident.id, 5);
  ASSERT_EQ(changes[0].timeline.size(), 1u);
  EXPECT_EQ(changes[0].timeline[0].kind, "resolved");
  EXPECT_EQ(changes[0].timeline[0].text, "resolved: no strong anomaly for 2m");
  EXPECT_EQ(c.open_count(), 0u);
  EXPECT_TRUE(c.Tick(t.now() + 1000).empty());
}

TEST(IncidentCorrelator, AnomalyWithinJoinWindowReopensTheSameIncident) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  c.SetIncidentId("instance=\"h:9100\",job=\"node\"", 9);
  t.Advance(120000);
  ASSERT_EQ(c.Tick(t.now()).size(), 1u);
  t.Advance(60000);  // 3 min after the last anomaly: within the 5 min join window
  auto changes = c.OnAnomaly(t.Make(s, 22));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, IncidentChange::Kind::kOpened);
  EXPECT_EQ(changes[0].incident.id, 9);
  EXPECT_EQ(changes[0].incident.state, IncidentState::kOpen);
  EXPECT_EQ(changes[0].incident.resolved_ms, 0);
  EXPECT_EQ(changes[0].incident.anomaly_count, 4);
  EXPECT_EQ(changes[0].timeline[0].kind, "reopened");
  EXPECT_EQ(c.open_count(), 1u);
}

TEST(IncidentCorrelator, LargeEntitiesNeedCorroborationFromTwoSeries) {
  Timeline t;
  IncidentCorrelator c({});
  const std::string entity = "instance=\"h:9100\",job=\"node\"";
  EXPECT_EQ(c.RequiredSeries(entity), 1);
  for (int i = 0; i < 30; ++i) {
    c.CountSeries(*Labels::FromPairs({{"__name__", "m" + std::to_string(i)}, {"instance", "h:9100"}, {"job", "node"}}));
  }
  EXPECT_EQ(c.RequiredSeries(entity), 2);
  auto disk = *Labels::FromPairs({{"__name__", "node_disk_io_time_seconds_total"}, {"instance", "h:9100"}, {"job", "node"}});
  for (int i = 0; i < 10; ++i) {
    t.Advance(1000);
    EXPECT_TRUE(c.OnAnomaly(t.Make(disk, 50)).empty()) << "one series of thirty moving alone";
  }
  auto changes = c.OnAnomaly(t.Make(NodeSeries("h:9100", "0", "user"), 40));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, IncidentChange::Kind::kOpened);
  // A small entity (a service pushing one KPI) still opens on one series.
  auto kpi = *Labels::FromPairs({{"__name__", "checkout_latency"}, {"service", "checkout"}});
  c.CountSeries(kpi);
  std::vector<IncidentChange> opened;
  for (int i = 0; i < 3; ++i) opened = c.OnAnomaly(t.Make(kpi, 30));
  ASSERT_EQ(opened.size(), 1u);
}

TEST(IncidentCorrelator, PageCacheMovesExplainButNeverOpenOrHoldAnIncident) {
  Timeline t;
  IncidentCorrelator c({});
  auto cached = *Labels::FromPairs({{"__name__", "node_memory_Cached_bytes"}, {"instance", "h:9100"}, {"job", "node"}});
  auto buffers = *Labels::FromPairs({{"__name__", "node_memory_Buffers_bytes"}, {"instance", "h:9100"}, {"job", "node"}});
  for (int i = 0; i < 10; ++i) {
    t.Advance(1000);
    EXPECT_TRUE(c.OnAnomaly(t.Make(cached, 40)).empty());
    EXPECT_TRUE(c.OnAnomaly(t.Make(buffers, 40)).empty());
  }
  EXPECT_EQ(c.pending_entities(), 0u);
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 30));
  ASSERT_EQ(c.open_count(), 1u);
  // The page cache keeps moving after the fault: listed, but the incident resolves.
  for (int i = 0; i < 130; ++i) {
    t.Advance(1000);
    auto joined = c.OnAnomaly(t.Make(cached, 40));
    if (c.open_count() == 1u) {
      ASSERT_EQ(joined.size(), 1u);
    }
    c.Tick(t.now());
  }
  EXPECT_EQ(c.open_count(), 0u);
}

TEST(IncidentCorrelator, WeakEchoesJoinButDoNotHoldTheIncidentOpen) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  auto load = *Labels::FromPairs({{"__name__", "node_load15"}, {"instance", "h:9100"}, {"job", "node"}});
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  c.SetIncidentId("instance=\"h:9100\",job=\"node\"", 4);
  // A slow load average keeps drifting back for minutes: weak anomalies.
  for (int i = 0; i < 150; ++i) {
    t.Advance(1000);
    auto joined = c.OnAnomaly(t.Make(load, 7));
    ASSERT_EQ(joined.size(), 1u);
    EXPECT_EQ(joined[0].kind, IncidentChange::Kind::kUpdated);
    auto resolved = c.Tick(t.now());
    if (!resolved.empty()) {
      EXPECT_EQ(resolved[0].kind, IncidentChange::Kind::kResolved);
      EXPECT_GE(i, 118);
      EXPECT_LE(i, 120) << "resolves resolve_after past the last strong anomaly";
      // Weak anomalies after that do not reopen it either.
      t.Advance(1000);
      EXPECT_TRUE(c.OnAnomaly(t.Make(load, 7)).empty());
      EXPECT_EQ(c.open_count(), 0u);
      return;
    }
  }
  FAIL() << "weak echoes held the incident open";
}

TEST(IncidentCorrelator, AfterTheJoinWindowANewIncidentNeedsNewEvidence) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  c.SetIncidentId("instance=\"h:9100\",job=\"node\"", 9);
  t.Advance(120000);
  c.Tick(t.now());
  t.Advance(200000);
  c.Tick(t.now());
  EXPECT_TRUE(c.OnAnomaly(t.Make(s, 20)).empty());
  EXPECT_TRUE(c.OnAnomaly(t.Make(s, 20)).empty());
  auto changes = c.OnAnomaly(t.Make(s, 20));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, IncidentChange::Kind::kOpened);
  EXPECT_EQ(changes[0].incident.id, 0);
}

TEST(IncidentCorrelator, TickDropsStaleEvidence) {
  Timeline t;
  IncidentCorrelator c({});
  c.OnAnomaly(t.Make(NodeSeries("h:9100", "0", "user"), 20));
  EXPECT_EQ(c.pending_entities(), 1u);
  c.Tick(t.now() + 30000);
  EXPECT_EQ(c.pending_entities(), 1u);
  c.Tick(t.now() + 61000);
  EXPECT_EQ(c.pending_entities(), 0u);
}

TEST(IncidentCorrelator, RestoreResumesOpenIncidents) {
  Timeline t;
  Incident stored;
  stored.id = 31;
  stored.entity = "instance=\"h:9100\",job=\"node\"";
  stored.entity_labels = *Labels::FromPairs({{"instance", "h:9100"}, {"job", "node"}});
  stored.title = "old title";
  stored.opened_ms = t.now() - 60000;
  stored.updated_ms = stored.last_anomaly_ms = t.now() - 30000;
  stored.max_score = 50;
  stored.anomaly_count = 12;
  Incident older = stored;
  older.id = 30;
  older.opened_ms -= 1000;
  IncidentCorrelator c({});
  c.Restore({stored, older});
  EXPECT_EQ(c.open_count(), 1u);
  auto changes = c.OnAnomaly(t.Make(NodeSeries("h:9100", "1", "system"), 20));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, IncidentChange::Kind::kUpdated);
  EXPECT_EQ(changes[0].incident.id, 31);
  EXPECT_EQ(changes[0].incident.anomaly_count, 13);
  EXPECT_EQ(changes[0].incident.title, "old title");  // weaker than its best: title kept
  // The duplicate is resolved at the next tick.
  auto tick = c.Tick(t.now());
  ASSERT_EQ(tick.size(), 1u);
  EXPECT_EQ(tick[0].incident.id, 30);
  EXPECT_EQ(tick[0].kind, IncidentChange::Kind::kResolved);
  EXPECT_EQ(c.open_count(), 1u);
}

TEST(IncidentCorrelator, Acknowledge) {
  Timeline t;
  IncidentCorrelator c({});
  auto s = NodeSeries("h:9100", "0", "user");
  for (int i = 0; i < 3; ++i) c.OnAnomaly(t.Make(s, 20));
  c.SetIncidentId("instance=\"h:9100\",job=\"node\"", 4);
  auto ack = c.Acknowledge(4, "alice", t.now() + 500);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->kind, IncidentChange::Kind::kUpdated);
  EXPECT_TRUE(ack->incident.acknowledged);
  EXPECT_EQ(ack->incident.acknowledged_by, "alice");
  ASSERT_EQ(ack->timeline.size(), 1u);
  EXPECT_EQ(ack->timeline[0].kind, "acknowledged");
  EXPECT_EQ(ack->timeline[0].text, "acknowledged by alice");
  EXPECT_TRUE(c.FindOpen("instance=\"h:9100\",job=\"node\"")->acknowledged);
  auto missing = c.Acknowledge(99, "bob", t.now());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(c.Acknowledge(0, "bob", t.now()).ok());
}

TEST(IncidentCorrelator, WeakEvidenceAloneDoesNotOpen) {
  Timeline t;
  IncidentCorrelator c({});
  auto reads = *Labels::FromPairs({{"__name__", "node_disk_reads_completed_total"}, {"instance", "h:9100"}, {"job", "node"}});
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(c.OnAnomaly(t.Make(reads, 8.5, 40, 12)).empty());
    t.Advance(1000);
  }
  auto changes = c.OnAnomaly(t.Make(NodeSeries("h:9100", "0", "idle"), 70, 0.0, 0.98));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].incident.anomaly_count, 11);  // the weak ones count once a strong one came
  EXPECT_NE(changes[0].incident.title.find("mode=\"idle\"} down (rate 0/s, expected 0.98)"), std::string::npos)
      << changes[0].incident.title;
}

TEST(IncidentCorrelator, SelfMetricsOfTheExporterAreNotEvidence) {
  Timeline t;
  IncidentCorrelator c({});
  for (const char* collector : {"cpu", "diskstats", "netdev", "zfs"}) {
    auto l = *Labels::FromPairs({{"__name__", "node_scrape_collector_duration_seconds"},
                                 {"collector", collector},
                                 {"instance", "h:9100"},
                                 {"job", "node"}});
    EXPECT_TRUE(c.OnAnomaly(t.Make(l, 100, 0.02, 0.0001)).empty());
  }
  EXPECT_EQ(c.pending_entities(), 0u);
  EXPECT_EQ(c.open_count(), 0u);
}

TEST(IncidentCorrelator, SeriesListIsCappedAndSorted) {
  Timeline t;
  IncidentConfig cfg;
  cfg.max_series = 5;
  IncidentCorrelator c(cfg);
  for (int i = 0; i < 20; ++i) {
    c.OnAnomaly(t.Make(NodeSeries("h:9100", std::to_string(i), "user"), 10 + i));
    t.Advance(100);
  }
  const Incident* inc = c.FindOpen("instance=\"h:9100\",job=\"node\"");
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->anomaly_count, 20);
  ASSERT_EQ(inc->series.size(), 5u);
  for (size_t i = 1; i < inc->series.size(); ++i) EXPECT_GE(inc->series[i - 1].max_score, inc->series[i].max_score);
  EXPECT_DOUBLE_EQ(inc->series[0].max_score, 29);
  EXPECT_DOUBLE_EQ(inc->max_score, 29);
}

}  // namespace
}  // namespace vigil
