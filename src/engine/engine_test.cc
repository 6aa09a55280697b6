#include "engine/engine.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "engine/selector.h"
#include "ingest/remote_write.h"
#include "ingest/write_batch.h"
#include "store/sqlite_store.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil-engine-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    cfg_.data_dir = dir_.string();
    cfg_.detector_threads = 2;
    cfg_.detector.window = 60;
    cfg_.detector.warmup = 10;
    cfg_.incidents.min_anomalies = 2;
    cfg_.incidents.resolve_after_ms = 5000;
    cfg_.snapshot_interval_ms = 3600'000;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Engine> Open(bool start = true) {
    auto e = Engine::Open(cfg_, &clock_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (start) {
      EXPECT_TRUE((*e)->Start().ok());
    }
    return std::move(*e);
  }

  static TimeSeries Series(std::vector<Label> labels, std::vector<Sample> samples) {
    return TimeSeries{*Labels::FromPairs(std::move(labels)), std::move(samples)};
  }

  static IngestOutcome Push(Engine& e, std::vector<TimeSeries> series) {
    WriteBatch b;
    for (auto& s : series) b.sample_count += s.samples.size();
    b.series = std::move(series);
    auto r = e.Ingest(&b);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IngestOutcome{};
  }

  // Waits (real time) for `pred`, up to 10 s.
  template <typename Pred>
  static bool WaitFor(Pred pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // The open incidents once there is one (real time, up to 10 s; empty if none).
  static std::vector<Incident> WaitForOpenIncidents(Engine& e) {
    std::vector<Incident> open;
    WaitFor([&] {
      IncidentQuery q;
      q.state = IncidentState::kOpen;
      open = *e.store()->ListIncidents(q);
      return !open.empty();
    });
    return open;
  }

  fs::path dir_;
  ServeConfig cfg_;
  SimulatedClock clock_{1'700'000'000'000};
};

std::vector<Sample> Noisy(TimestampMs start, int n, double level, double noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, noise);
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back({start + i * 1000, level + d(rng)});
  return out;
}

TEST_F(EngineTest, StepOpensIncidentThatResolves) {
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  std::vector<Label> labels = {{"__name__", "latency_ms"}, {"instance", "a:1"}, {"job", "api"}};
  Push(*e, {Series(labels, Noisy(t0, 100, 50, 1, 1))});
  Push(*e, {Series({{"__name__", "other"}, {"instance", "b:1"}}, Noisy(t0, 100, 5, 0.1, 2))});
  std::vector<Sample> jump;
  for (int i = 0; i < 10; ++i) jump.push_back({t0 + (100 + i) * 1000, 500});
  Push(*e, {Series(labels, jump)});
  clock_.Set(t0 + 110 * 1000);
  e->Flush();

  const std::vector<Incident> open = WaitForOpenIncidents(*e);
  ASSERT_FALSE(open.empty());
  ASSERT_EQ(open.size(), 1u) << "only the jumping entity has an incident";
  EXPECT_EQ(open[0].entity_labels.Get("instance"), "a:1");
  EXPECT_NE(open[0].title.find("latency_ms"), std::string::npos) << open[0].title;
  ASSERT_FALSE(open[0].series.empty());
  AnomalyQuery aq;
  aq.incident_id = open[0].id;
  auto anomalies = *e->store()->ListAnomalies(aq);
  ASSERT_GE(anomalies.size(), 2u);
  EXPECT_EQ(anomalies[0].direction, Direction::kUp);
  EXPECT_GT(anomalies[0].upper, anomalies[0].expected);
  EXPECT_LT(anomalies[0].upper, 500);
  EXPECT_FALSE(anomalies[0].detector.empty());

  // Quiet for longer than resolve_after: the incident resolves.
  clock_.Set(t0 + 120 * 1000);
  ASSERT_TRUE(WaitFor([&] {
    auto inc = *e->store()->GetIncident(open[0].id);
    return inc && inc->state == IncidentState::kResolved;
  }));
  auto timeline = *e->store()->Timeline(open[0].id);
  ASSERT_GE(timeline.size(), 2u);
  EXPECT_EQ(timeline.back().kind, "resolved");
}

TEST_F(EngineTest, SustainedErrorsOnAZeroBaselineOpenAnIncident) {
  // A method that starts failing on a third of its calls: its 5xx counter,
  // flat for 100 s, climbs by 5 a second, while nothing else of the service
  // moves. A departure from zero scores at most 1.5x the threshold (9,
  // below open_score 12: it joins incidents, it does not open one); on a
  // series that counts failures, once it has lasted 2 * sparse_confirm_points
  // it may score 12 and page. The same shape on disk writes does not.
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  std::vector<Label> errors = {{"__name__", "http_server_requests_total"}, {"code", "5xx"}, {"instance", "api-0"}};
  std::vector<Label> writes = {{"__name__", "disk_writes_total"}, {"instance", "db-0"}};
  std::vector<Sample> flat, climbing;
  for (int i = 0; i < 100; ++i) flat.push_back({t0 + i * 1000, 1000});
  for (int i = 0; i < 10; ++i) climbing.push_back({t0 + (100 + i) * 1000, 1000 + 5.0 * (i + 1)});
  Push(*e, {Series(errors, flat), Series(writes, flat)});
  Push(*e, {Series(errors, climbing), Series(writes, climbing)});
  clock_.Set(t0 + 110 * 1000);
  e->Flush();

  const std::vector<Incident> open = WaitForOpenIncidents(*e);
  ASSERT_FALSE(open.empty());
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].entity_labels.Get("instance"), "api-0");
  auto anomalies = *e->store()->ListAnomalies(AnomalyQuery{});
  double errors_max = 0, writes_max = 0;
  for (const auto& a : anomalies) {
    double& m = a.labels.Get("instance") == "api-0" ? errors_max : writes_max;
    m = std::max(m, a.score);
  }
  EXPECT_GE(errors_max, cfg_.incidents.open_score);
  EXPECT_GT(writes_max, 0) << "the disk writes are reported";
  EXPECT_LT(writes_max, cfg_.incidents.open_score) << "but do not open an incident";
}

TEST_F(EngineTest, CountersAreAnalysedAsRates) {
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  std::vector<Sample> s;
  double v = 1000;
  for (int i = 0; i < 20; ++i) {
    s.push_back({t0 + i * 1000, v});
    v += 2;  // 2 per second
    if (i == 10) v = 0;  // a reset
  }
  Push(*e, {Series({{"__name__", "requests_total"}, {"job", "x"}}, s)});
  e->Flush();
  auto sel = *SeriesSelector::Parse("requests_total");
  auto found = e->FindSeries(sel, 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].is_counter);
  SeriesInfo info;
  std::vector<Sample> pts;
  ASSERT_TRUE(e->Points(found[0].id, INT64_MIN, INT64_MAX, &info, &pts));
  ASSERT_GE(pts.size(), 15u);
  for (const auto& p : pts) {
    EXPECT_GE(p.value, 0) << "a counter reset must not give a negative rate";
    EXPECT_LE(p.value, 2.0 + 1e-9);
  }
  EXPECT_NEAR(pts.back().value, 2.0, 1e-9);
}

TEST_F(EngineTest, StaleMarkerEndsActivity) {
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  auto samples = Noisy(t0, 5, 1, 0.1, 3);
  samples.push_back({t0 + 5000, StaleMarker()});
  Push(*e, {Series({{"__name__", "g"}}, samples)});
  e->Flush();
  auto found = e->FindSeries(*SeriesSelector::Parse("g"), 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].stale);
  EXPECT_EQ(found[0].points, 5u) << "the marker is not a value";
  EXPECT_EQ(e->stats().stale_markers.load(), 1u);
}

TEST_F(EngineTest, OutOfOrderAndDuplicatesAreReported) {
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  Push(*e, {Series({{"__name__", "g"}}, {{t0, 1}, {t0 + 1000, 2}})});
  auto r = Push(*e, {Series({{"__name__", "g"}}, {{t0 + 1000, 2}, {t0 + 500, 3}, {t0 + 1000, 5}, {t0 + 2000, 4}})});
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.duplicates, 1u) << "an exact resend is idempotent";
  EXPECT_EQ(r.rejected, 2u) << "an older sample and one with the same time but another value are refused";
  ASSERT_FALSE(r.reasons.empty());
  EXPECT_NE(r.reasons[0].find("not newer"), std::string::npos) << r.reasons[0];
}

TEST_F(EngineTest, SeriesLimitRejectsNewSeriesWithReason) {
  cfg_.limits.max_series = 2;
  auto e = Open();
  const TimestampMs t0 = clock_.NowMs();
  auto r = Push(*e, {Series({{"__name__", "a"}}, {{t0, 1}}), Series({{"__name__", "b"}}, {{t0, 1}}),
                     Series({{"__name__", "c"}}, {{t0, 1}, {t0 + 1, 2}})});
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 2u);
  ASSERT_FALSE(r.reasons.empty());
  EXPECT_NE(r.reasons[0].find("limits.max_series=2"), std::string::npos) << r.reasons[0];
  EXPECT_EQ(e->stats().series_limit_hits.load(), 1u);
}

TEST_F(EngineTest, SeriesKnownToTheDecoderComeWithoutLabels) {
  // The remote_write decoder's series cache leaves the labels of a series it
  // recognises empty and hands over its id and Label fields: the engine must
  // create such a series with its full labels and the id of those labels,
  // also when the decoder learnt it from a request this engine refused.
  cfg_.limits.max_series = 1;
  auto limited = Open();
  const TimestampMs t0 = clock_.NowMs();
  auto request = [&](TimestampMs ts) {
    return EncodeRemoteWrite({Series({{"__name__", "x"}, {"job", "j"}}, {{ts, 1}}),
                              Series({{"__name__", "y"}, {"job", "j"}}, {{ts, StaleMarker()}})});
  };
  RemoteWriteDecoder decoder;
  decoder.EnableSeriesCache(100);
  WriteBatch b;
  ASSERT_TRUE(decoder.Decode(request(t0), &b).ok());
  auto r = limited->Ingest(&b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1u);
  ASSERT_FALSE(r->reasons.empty());
  const std::string refused = r->reasons[0];  // x or y, as the shards come
  EXPECT_NE(refused.find("{job=\"j\"}: series limit reached"), std::string::npos) << refused;
  ASSERT_TRUE(decoder.Decode(request(t0 + 1000), &b).ok());
  ASSERT_TRUE(b.LabelsElsewhere(0) && b.LabelsElsewhere(1)) << "both series are cache hits";
  r = limited->Ingest(&b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1u);
  ASSERT_FALSE(r->reasons.empty());
  EXPECT_EQ(r->reasons[0], refused) << "the refused series is named by its labels";
  limited->Stop();

  cfg_.limits.max_series = 100;
  cfg_.data_dir = (dir_ / "second").string();
  auto e = Open();
  ASSERT_TRUE(decoder.Decode(request(t0 + 2000), &b).ok());
  ASSERT_TRUE(b.LabelsElsewhere(0) && b.LabelsElsewhere(1));
  r = e->Ingest(&b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 2u);
  e->Flush();
  for (const char* name : {"x", "y"}) {
    auto found = e->FindSeries(*SeriesSelector::Parse(name), 10);
    ASSERT_EQ(found.size(), 1u) << name;
    const Labels want = *Labels::FromPairs({{"__name__", name}, {"job", "j"}});
    EXPECT_EQ(found[0].labels, want);
    EXPECT_EQ(found[0].id, SeriesIdOf(want));
  }
  EXPECT_TRUE(e->FindSeries(*SeriesSelector::Parse("y"), 10)[0].stale);
}

TEST_F(EngineTest, FullQueueRefusesWholeBatch) {
  cfg_.limits.queue_samples = 2000;
  cfg_.detector_threads = 1;
  auto e = Open(/*start=*/false);  // no detector threads: nothing drains the queue
  const TimestampMs t0 = clock_.NowMs();
  auto first = Push(*e, {Series({{"__name__", "a"}}, Noisy(t0, 1500, 1, 0.1, 4))});
  EXPECT_EQ(first.accepted, 1500u);
  WriteBatch b;
  b.series.push_back(Series({{"__name__", "b"}}, Noisy(t0, 600, 1, 0.1, 5)));
  b.sample_count = 600;
  auto r = e->Ingest(&b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("full"), std::string::npos);
  EXPECT_TRUE(e->FindSeries(*SeriesSelector::Parse("b"), 10).empty()) << "nothing of a refused batch is applied";
  EXPECT_EQ(e->stats().requests_refused_full.load(), 1u);
}

TEST_F(EngineTest, DetectorStateSurvivesRestart) {
  const TimestampMs t0 = clock_.NowMs();
  SeriesId id;
  {
    auto e = Open();
    Push(*e, {Series({{"__name__", "g"}, {"job", "j"}}, Noisy(t0, 40, 3, 0.2, 6))});
    e->Flush();
    auto f = e->FindSeries(*SeriesSelector::Parse("g"), 10);
    ASSERT_EQ(f.size(), 1u);
    id = f[0].id;
    e->Stop();
  }
  auto e = Open();
  SeriesInfo info;
  std::vector<Sample> pts;
  ASSERT_TRUE(e->Points(id, INT64_MIN, INT64_MAX, &info, &pts));
  EXPECT_EQ(pts.size(), 40u);
  EXPECT_EQ(info.labels.Get("job"), "j");
  // The restored series keeps its last timestamp: a replay is refused as duplicates.
  auto r = Push(*e, {Series({{"__name__", "g"}, {"job", "j"}}, {{t0 + 39'000, 3}})});
  EXPECT_EQ(r.rejected, 1u);
}

TEST_F(EngineTest, RestartedIncidentStillTakesInTheServiceItsEvidenceNames) {
  // checkout's client latency to payments jumps: an incident on checkout
  // whose evidence names payments. After a restart, payments' own trouble
  // still joins that incident (the peers come back from its anomalies).
  const TimestampMs t0 = clock_.NowMs();
  std::vector<Label> caller = {{"__name__", "rpc_client_duration_seconds"},
                               {"service", "checkout"},
                               {"instance", "co-1"},
                               {"peer", "payments"}};
  std::vector<Label> callee = {{"__name__", "latency_ms"}, {"service", "payments"}, {"instance", "pay-1"}};
  auto step = [](TimestampMs from, int n, double v) {
    std::vector<Sample> out;
    for (int i = 0; i < n; ++i) out.push_back({from + i * 1000, v});
    return out;
  };
  int64_t id = 0;
  {
    auto e = Open();
    Push(*e, {Series(caller, Noisy(t0, 100, 50, 1, 11)), Series(callee, Noisy(t0, 100, 20, 0.5, 12))});
    Push(*e, {Series(caller, step(t0 + 100'000, 10, 500))});
    clock_.Set(t0 + 110'000);
    e->Flush();
    ASSERT_TRUE(WaitFor([&] {
      IncidentQuery q;
      q.state = IncidentState::kOpen;
      auto open = *e->store()->ListIncidents(q);
      if (open.size() == 1) id = open[0].id;
      return open.size() == 1;
    }));
    e->Stop();
  }
  auto e = Open();
  Push(*e, {Series(callee, step(t0 + 110'000, 10, 200))});
  clock_.Set(t0 + 120'000);
  e->Flush();
  ASSERT_TRUE(WaitFor([&] {
    auto inc = *e->store()->GetIncident(id);
    return inc && !inc->members.empty();
  })) << "payments joined the restored incident";
  IncidentQuery q;
  q.state = IncidentState::kOpen;
  EXPECT_EQ(e->store()->ListIncidents(q)->size(), 1u);
  EXPECT_NE((*e->store()->GetIncident(id))->members[0].find("payments"), std::string::npos);
}

TEST_F(EngineTest, KpiSuiteStateSurvivesRestart) {
  // Past the suite's learning phase (600 points): it has a profile, which a
  // restart keeps instead of learning again.
  const TimestampMs t0 = clock_.NowMs();
  SeriesId id;
  SeriesProfileInfo before;
  {
    auto e = Open();
    Push(*e, {Series({{"__name__", "k"}, {"job", "j"}}, Noisy(t0, 700, 3, 0.2, 7))});
    e->Flush();
    auto f = e->FindSeries(*SeriesSelector::Parse("k"), 10);
    ASSERT_EQ(f.size(), 1u);
    id = f[0].id;
    ASSERT_TRUE(e->Profile(id, &before));
    ASSERT_TRUE(before.profiled);
    e->Stop();
  }
  auto e = Open();
  SeriesProfileInfo after;
  ASSERT_TRUE(e->Profile(id, &after));
  EXPECT_TRUE(after.profiled);
  EXPECT_EQ(after.profile.detectors, before.profile.detectors);
  EXPECT_EQ(after.profile.points, before.profile.points);
}

TEST_F(EngineTest, EventsAndAcknowledgementAreDurable) {
  int64_t incident_id = 0;
  {
    auto e = Open();
    Event ev;
    ev.ts_ms = clock_.NowMs();
    ev.kind = "deploy";
    ev.labels = *Labels::FromPairs({{"instance", "a:1"}});
    ev.text = "v2";
    auto ids = e->AddEvents({ev});
    ASSERT_TRUE(ids.ok());
    const TimestampMs t0 = clock_.NowMs();
    std::vector<Label> labels = {{"__name__", "m"}, {"instance", "a:1"}};
    Push(*e, {Series(labels, Noisy(t0, 50, 10, 0.5, 7))});
    std::vector<Sample> jump;
    for (int i = 0; i < 5; ++i) jump.push_back({t0 + (50 + i) * 1000, 1000});
    Push(*e, {Series(labels, jump)});
    e->Flush();
    ASSERT_TRUE(WaitFor([&] {
      auto l = *e->store()->ListIncidents({});
      if (l.empty()) return false;
      incident_id = l[0].id;
      return true;
    }));
    Event later;
    later.ts_ms = clock_.NowMs();
    later.kind = "config";
    later.labels = *Labels::FromPairs({{"instance", "a:1"}});
    later.text = "pool size 50";
    Event elsewhere = later;
    elsewhere.labels = *Labels::FromPairs({{"instance", "b:1"}});
    elsewhere.text = "other host";
    ASSERT_TRUE(e->AddEvents({later, elsewhere}).ok());
    auto acked = e->Acknowledge(incident_id, "alice");
    ASSERT_TRUE(acked.ok()) << acked.status().ToString();
    EXPECT_TRUE(acked->acknowledged);
    auto timeline = *e->store()->Timeline(incident_id);
    bool has_event = false, has_later = false, has_other = false, has_ack = false;
    for (const auto& t : timeline) {
      has_event |= t.kind == "event" && t.text.find("v2") != std::string::npos;
      has_later |= t.kind == "event" && t.text.find("pool size 50") != std::string::npos;
      has_other |= t.text.find("other host") != std::string::npos;
      has_ack |= t.kind == "acknowledged";
    }
    EXPECT_TRUE(has_event) << "a deploy on the entity shows on the incident timeline";
    EXPECT_TRUE(has_later) << "a change arriving while the incident is open joins its timeline";
    EXPECT_FALSE(has_other) << "a change on another entity does not";
    EXPECT_TRUE(has_ack);
  }
  auto e = Open();
  auto inc = *e->store()->GetIncident(incident_id);
  ASSERT_TRUE(inc.has_value());
  EXPECT_TRUE(inc->acknowledged);
  EXPECT_EQ(inc->acknowledged_by, "alice");
  EXPECT_EQ(e->store()->ListEvents({})->size(), 3u);
  EXPECT_FALSE(e->Acknowledge(999999, "x").ok());
}

TEST_F(EngineTest, MetricsRender) {
  auto e = Open();
  std::string m;
  e->RenderMetrics(&m);
  for (const char* name : {"vigil_ingest_samples_total", "vigil_queue_depth_samples{shard=\"0\"}",
                           "vigil_detect_latency_seconds_bucket", "vigil_store_size_bytes",
                           "vigil_ingest_samples_rejected_total{reason=\"queue_full\"}"}) {
    EXPECT_NE(m.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace vigil
