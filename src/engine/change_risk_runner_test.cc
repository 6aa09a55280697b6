#include "engine/change_risk_runner.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/capacity_watch.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "ingest/write_batch.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

class KpiWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil-kpiwatch-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    cfg_.data_dir = dir_.string();
    cfg_.detector_threads = 2;
    cfg_.snapshot_interval_ms = 3600'000;
    cfg_.limits.window_points = 2000;
    auto e = Engine::Open(cfg_, &clock_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    ASSERT_TRUE(engine_->Start().ok());
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  void Push(std::vector<Label> labels, std::vector<Sample> samples) {
    WriteBatch b;
    b.sample_count = samples.size();
    b.series.push_back(TimeSeries{*Labels::FromPairs(std::move(labels)), std::move(samples)});
    auto r = engine_->Ingest(&b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_->Flush();
  }

  fs::path dir_;
  ServeConfig cfg_;
  SimulatedClock clock_{1'700'000'000'000};
  std::unique_ptr<Engine> engine_;
};

std::vector<Sample> Steps(TimestampMs from, TimestampMs to, double before, double after, TimestampMs change,
                          uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, 0.01);
  std::vector<Sample> s;
  for (TimestampMs t = from; t < to; t += 10'000) s.push_back({t, (t < change ? before : after) + nd(rng)});
  return s;
}

TEST_F(KpiWatchTest, ChangeRiskReportIsPendingThenReady) {
  const TimestampMs t0 = clock_.NowMs();
  ChangeRiskSettings s;  // before 30m, gap 1m, after 8m
  ChangeRiskRunner runner(engine_.get(), s);
  Push({{"__name__", "latency"}, {"service", "shop"}, {"host", "a"}}, Steps(t0 - 1'800'000, t0 + 600'000, 1, 2, t0, 1));
  Push({{"__name__", "latency"}, {"service", "shop"}, {"host", "b"}}, Steps(t0 - 1'800'000, t0 + 600'000, 1, 1, t0, 2));
  Push({{"__name__", "latency"}, {"service", "other"}, {"host", "a"}}, Steps(t0 - 1'800'000, t0 + 600'000, 1, 5, t0, 3));

  Event deploy{.id = 7, .ts_ms = t0, .kind = "deploy", .labels = *Labels::FromPairs({{"service", "shop"}}), .text = ""};
  Event note{.id = 8, .ts_ms = t0, .kind = "note", .labels = deploy.labels, .text = ""};
  runner.OnEvents({deploy, note});
  EXPECT_FALSE(runner.Get(8).has_value());
  EXPECT_EQ(runner.Tick(t0 - 120'000), 0u);
  auto e = runner.Get(7);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->ready);
  EXPECT_EQ(e->ready_at_ms, t0 + 540'000);
  EXPECT_EQ(runner.Tick(t0 + 300'000), 0u);  // before captured, after still open
  EXPECT_EQ(runner.Get(7)->series, 2u);       // service=other is not this change's
  EXPECT_EQ(runner.Tick(t0 + 540'000), 1u);
  e = runner.Get(7);
  ASSERT_TRUE(e->ready);
  EXPECT_EQ(e->report.risk, RiskSeverity::kHigh) << e->report.summary;
  EXPECT_EQ(e->report.kpis_compared, 2u);
  ASSERT_FALSE(e->report.items.empty());
  EXPECT_EQ(e->report.items.front().severity, RiskSeverity::kHigh);
  bool host_a = false;
  for (const auto& it : e->report.items) {
    if (it.entity == "host=a") {
      host_a = true;
      EXPECT_EQ(it.severity, RiskSeverity::kHigh);
      EXPECT_NEAR(it.evidence.before_median, 1, 0.05);
      EXPECT_NEAR(it.evidence.after_median, 2, 0.05);
      // The deploy itself (the minute around t0) is outside both windows.
      EXPECT_EQ(it.evidence.before_n, 175u);
      EXPECT_EQ(it.evidence.after_n, 49u);
    }
    if (it.entity == "host=b") {
      EXPECT_EQ(it.severity, RiskSeverity::kNone) << it.explanation;
    }
  }
  EXPECT_TRUE(host_a);
}

TEST_F(KpiWatchTest, ChangeRiskKeepsABoundedNumberOfReports) {
  ChangeRiskSettings s;
  s.max_reports = 3;
  ChangeRiskRunner runner(engine_.get(), s);
  std::vector<Event> events;
  for (int64_t i = 1; i <= 5; ++i) events.push_back(Event{.id = i, .ts_ms = 0, .kind = "config", .labels = {}, .text = ""});
  runner.OnEvents(events);
  EXPECT_FALSE(runner.Get(2).has_value());
  EXPECT_TRUE(runner.Get(3).has_value());
  EXPECT_TRUE(runner.Get(5).has_value());
  // No scope label: ready with nothing compared, not stuck pending.
  runner.Tick(1'000'000);
  EXPECT_TRUE(runner.Get(5)->ready);
  EXPECT_EQ(runner.Get(5)->report.kpis_compared, 0u);
}

TEST_F(KpiWatchTest, CapacityWatchRaisesOncePerRepeat) {
  const TimestampMs t0 = clock_.NowMs();
  // Ends at about 88, rising 1 per hour, with noise (a series that only ever
  // rises is analysed as a counter, i.e. as its rate).
  std::vector<Sample> disk;
  std::mt19937 rng(5);
  std::normal_distribution<double> nd(0, 0.2);
  for (int i = 0; i < 300; ++i) disk.push_back({t0 - (299 - i) * 300'000LL, 63 + i / 12.0 + nd(rng)});
  Push({{"__name__", "disk_used"}, {"host", "db"}}, disk);
  Push({{"__name__", "disk_used"}, {"host", "idle"}}, Steps(t0 - 300 * 300'000LL, t0, 20, 20, 0, 4));
  DetectSettings d;
  d.capacity_interval_ms = 60'000;
  d.capacity.push_back(CapacityRule{.match = "disk_used", .threshold = 90, .horizon_ms = 6 * 3'600'000});
  CapacityWatch watch(engine_.get(), d);
  auto a = watch.Tick(t0);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels.Get("host"), "db");
  EXPECT_EQ(a[0].detector, CapacityWatch::kDetector);
  EXPECT_EQ(a[0].pattern, "capacity_risk");
  EXPECT_GT(a[0].score, 6);
  EXPECT_TRUE(watch.Tick(t0 + 1000).empty());       // within the interval
  EXPECT_TRUE(watch.Tick(t0 + 120'000).empty());    // still at risk, within repeat
  EXPECT_EQ(watch.Tick(t0 + 3'700'000).size(), 1u);  // repeat passed
}

TEST(DetectConfig, ParsesCapacityAndChangeRisk) {
  auto c = ParseServeConfig(R"(
detect:
  capacity_interval: 30s
  capacity:
    - {match: 'disk_used{host="a"}', threshold: 90, horizon: 7d}
    - {match: free_bytes, threshold: 1e9, horizon: 2d, direction: down, repeat: 30m}
  change_risk: {before: 20m, gap: 30s, after: 5m, kinds: [deploy], max_series: 50}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->detect.capacity.size(), 2u);
  EXPECT_EQ(c->detect.capacity[0].horizon_ms, 7 * 86'400'000LL);
  EXPECT_EQ(c->detect.capacity[1].direction, "down");
  EXPECT_EQ(c->detect.capacity[1].repeat_ms, 1'800'000);
  EXPECT_EQ(c->detect.capacity_interval_ms, 30'000);
  EXPECT_EQ(c->detect.change_risk.after_ms, 300'000);
  EXPECT_EQ(c->detect.change_risk.kinds, std::vector<std::string>{"deploy"});

  for (const char* bad : {"detect: {capacity: [{match: 'x{', threshold: 1}]}",
                          "detect: {capacity: [{threshold: 1}]}",
                          "detect: {capacity: [{match: x, threshold: 1, direction: sideways}]}",
                          "detect: {capacity: [{match: x, threshold: 1, colour: red}]}",
                          "detect: {change_risk: {before: 1m, gap: 2m}}",
                          "detect: {capacity: {match: x}}"}) {
    auto r = ParseServeConfig(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("detect"), std::string::npos) << r.status().message();
    }
  }
}

}  // namespace
}  // namespace vigil
