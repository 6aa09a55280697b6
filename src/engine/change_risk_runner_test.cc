#include "engine/change_risk_runner.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/capacity_watch.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/entity_watch.h"
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

TEST_F(KpiWatchTest, EntityWatchFlagsAHostWhoseMetricsDecouple) {
  const TimestampMs t0 = clock_.NowMs();
  std::mt19937 rng(9);
  std::normal_distribution<double> nd(0, 1);
  // Per host: requests, cpu and latency follow one load factor.
  auto host_rows = [&](int from, int n, bool broken) {
    std::vector<std::vector<Sample>> s(3);
    for (int i = from; i < from + n; ++i) {
      TimestampMs ts = t0 + i * 10'000LL;
      double load = 100 + 20 * std::sin(i / 15.0) + 2 * nd(rng);
      s[0].push_back({ts, load + nd(rng)});
      // Broken: cpu moves against the load, inside its usual range.
      s[1].push_back({ts, 0.5 * (broken ? 200 - load : load) + nd(rng)});
      s[2].push_back({ts, 20 + 0.1 * load + 0.3 * nd(rng)});
    }
    return s;
  };
  auto push = [&](const std::string& host, const std::vector<std::vector<Sample>>& s) {
    const char* names[] = {"requests", "cpu", "latency"};
    for (size_t j = 0; j < 3; ++j) Push({{"__name__", names[j]}, {"host", host}}, s[j]);
  };
  push("h1", host_rows(0, 300, false));
  push("h2", host_rows(0, 300, false));
  MultivariateSettings ms;
  ms.entity_label = "host";
  EntityWatch watch(engine_.get(), ms);
  EXPECT_TRUE(watch.Check(t0).empty());  // first check: the newest row, normal
  push("h1", host_rows(300, 5, true));
  push("h2", host_rows(300, 5, false));
  auto a = watch.Check(t0 + 310 * 10'000LL);
  ASSERT_FALSE(a.empty());
  size_t cpu = 0;
  for (const auto& x : a) {
    EXPECT_EQ(x.labels.Get("host"), "h1") << x.labels.ToString();
    EXPECT_EQ(x.detector, EntityWatch::kDetector);
    EXPECT_EQ(x.pattern, "joint_anomaly");
    cpu += x.labels.MetricName() == "cpu";
  }
  EXPECT_GE(cpu, 4u);  // the decoupled metric is named, row after row
  EXPECT_TRUE(watch.Check(t0 + 311 * 10'000LL).empty());  // nothing new to judge
  // Off without an entity label.
  EntityWatch off(engine_.get(), MultivariateSettings{});
  EXPECT_TRUE(off.Tick(t0 + 400 * 10'000LL).empty());
}

TEST(DetectConfig, ParsesCapacityAndChangeRisk) {
  auto c = ParseServeConfig(R"(
detect:
  capacity_interval: 30s
  capacity:
    - {match: 'disk_used{host="a"}', threshold: 90, horizon: 7d}
    - {match: free_bytes, threshold: 1e9, horizon: 2d, direction: down, repeat: 30m}
  change_risk: {before: 20m, gap: 30s, after: 5m, kinds: [deploy], max_series: 50}
  multivariate: {entity_label: instance, interval: 30s, max_metrics: 16}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->detect.capacity.size(), 2u);
  EXPECT_EQ(c->detect.capacity[0].horizon_ms, 7 * 86'400'000LL);
  EXPECT_EQ(c->detect.capacity[1].direction, "down");
  EXPECT_EQ(c->detect.capacity[1].repeat_ms, 1'800'000);
  EXPECT_EQ(c->detect.capacity_interval_ms, 30'000);
  EXPECT_EQ(c->detect.change_risk.after_ms, 300'000);
  EXPECT_EQ(c->detect.change_risk.kinds, std::vector<std::string>{"deploy"});
  EXPECT_EQ(c->detect.multivariate.entity_label, "instance");
  EXPECT_EQ(c->detect.multivariate.max_metrics, 16u);

  for (const char* bad : {"detect: {capacity: [{match: 'x{', threshold: 1}]}",
                          "detect: {capacity: [{threshold: 1}]}",
                          "detect: {capacity: [{match: x, threshold: 1, direction: sideways}]}",
                          "detect: {capacity: [{match: x, threshold: 1, colour: red}]}",
                          "detect: {change_risk: {before: 1m, gap: 2m}}",
                          "detect: {capacity: {match: x}}",
                          "detect: {multivariate: {max_metrics: 1}}"}) {
    auto r = ParseServeConfig(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("detect"), std::string::npos) << r.status().message();
    }
  }
}

}  // namespace
}  // namespace vigil
