#include "detect/counter_rate.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "core/sample.h"

namespace vigil {
namespace {

constexpr TimestampMs kT0 = 1'700'000'000'000;

TEST(LooksLikeCounter, FollowsPrometheusNamingConventions) {
  EXPECT_TRUE(LooksLikeCounter("node_cpu_seconds_total"));
  EXPECT_TRUE(LooksLikeCounter("http_requests_total"));
  EXPECT_TRUE(LooksLikeCounter("node_network_receive_bytes_total"));
  EXPECT_TRUE(LooksLikeCounter("http_request_duration_seconds_count"));
  EXPECT_TRUE(LooksLikeCounter("http_request_duration_seconds_sum"));
  EXPECT_TRUE(LooksLikeCounter("http_request_duration_seconds_bucket"));
  EXPECT_FALSE(LooksLikeCounter("node_load1"));
  EXPECT_FALSE(LooksLikeCounter("node_memory_MemFree_bytes"));
  EXPECT_FALSE(LooksLikeCounter("total"));
  EXPECT_FALSE(LooksLikeCounter("node_vmstat_pgfault"));
  EXPECT_FALSE(LooksLikeCounter("subtotal_bytes"));
  EXPECT_FALSE(LooksLikeCounter(""));
}

TEST(CounterRate, PerSecondRate) {
  CounterRate r;
  EXPECT_FALSE(r.Update(kT0, 100).has_value());
  auto v = r.Update(kT0 + 2000, 120);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 10.0);
  v = r.Update(kT0 + 2500, 121);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 2.0);
}

TEST(CounterRate, NodeCpuSecondsLikeValues) {
  // node_cpu_seconds_total{mode="idle"} of a mostly idle core scraped every
  // second, then a busy loop: idle rate drops from ~0.99 to ~0.
  CounterRate idle;
  double total = 183'456.71;
  TimestampMs t = kT0;
  idle.Update(t, total);
  for (int i = 0; i < 20; ++i) {
    t += 1000;
    total += 0.99;
    auto v = idle.Update(t, total);
    ASSERT_TRUE(v.has_value());
    EXPECT_NEAR(*v, 0.99, 1e-6);
  }
  for (int i = 0; i < 5; ++i) {
    t += 1000;
    total += 0.01;
    auto v = idle.Update(t, total);
    ASSERT_TRUE(v.has_value());
    EXPECT_NEAR(*v, 0.01, 1e-6);
  }
}

TEST(CounterRate, CounterResetCountsTheNewValueAsIncrease) {
  CounterRate r;
  r.Update(kT0, 5000);
  auto v = r.Update(kT0 + 1000, 30);  // the exporter restarted and has counted 30 since
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 30.0);
  v = r.Update(kT0 + 2000, 40);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 10.0);
}

TEST(CounterRate, IgnoresDuplicateAndOutOfOrderSamples) {
  CounterRate r;
  r.Update(kT0, 10);
  r.Update(kT0 + 1000, 20);
  EXPECT_FALSE(r.Update(kT0 + 1000, 25).has_value());  // duplicate timestamp
  EXPECT_FALSE(r.Update(kT0 + 500, 15).has_value());   // out of order
  auto v = r.Update(kT0 + 2000, 30);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 10.0);  // measured from the last accepted sample (20 at +1000)
}

TEST(CounterRate, StaleMarkerRestartsTheSeries) {
  CounterRate r;
  r.Update(kT0, 10);
  EXPECT_FALSE(r.Update(kT0 + 1000, StaleMarker()).has_value());
  EXPECT_FALSE(r.has_previous());
  EXPECT_FALSE(r.Update(kT0 + 60000, 5000).has_value());  // no rate across the gap
  auto v = r.Update(kT0 + 61000, 5010);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 10.0);
}

TEST(CounterRate, SnapshotRoundTrip) {
  CounterRate r;
  r.Update(kT0, 10);
  std::string blob;
  r.AppendTo(&blob);
  std::string_view in = blob;
  auto back = CounterRate::Parse(&in);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(in.empty());
  auto v = back->Update(kT0 + 1000, 13);
  ASSERT_TRUE(v.has_value());
  EXPECT_DOUBLE_EQ(*v, 3.0);

  std::string_view cut(blob.data(), blob.size() - 1);
  auto bad = CounterRate::Parse(&cut);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
}

TEST(MonotonicityTracker, CounterWithoutSuffixIsRecognised) {
  // node_vmstat_pgfault: grows every scrape.
  MonotonicityTracker t;
  double v = 9'876'543;
  SeriesKind k = SeriesKind::kUndecided;
  for (int i = 0; i < 19; ++i) {
    k = t.Observe(v += 1500 + 10 * (i % 4));
    EXPECT_EQ(k, SeriesKind::kUndecided) << i;
  }
  EXPECT_EQ(t.Observe(v += 1500), SeriesKind::kCounter);
}

TEST(MonotonicityTracker, RarelyIncrementedCounterIsRecognised) {
  // node_netstat_Tcp_OutRsts: a small counter that moves now and then.
  MonotonicityTracker t;
  for (int i = 0; i < 30; ++i) t.Observe(2);
  EXPECT_EQ(t.kind(), SeriesKind::kUndecided);
  t.Observe(3);
  for (int i = 0; i < 10; ++i) t.Observe(3);
  EXPECT_EQ(t.kind(), SeriesKind::kUndecided);
  t.Observe(4);
  EXPECT_EQ(t.kind(), SeriesKind::kCounter);
}

TEST(MonotonicityTracker, ConstantSeriesIsNeverACounter) {
  MonotonicityTracker t;
  for (int i = 0; i < 1000; ++i) t.Observe(16'777'216);
  EXPECT_EQ(t.kind(), SeriesKind::kUndecided);
}

TEST(MonotonicityTracker, GaugeThatDecreasesIsAGaugeForGood) {
  MonotonicityTracker t;
  double v = 1000;
  for (int i = 0; i < 30; ++i) t.Observe(v += 10);
  EXPECT_EQ(t.kind(), SeriesKind::kCounter);  // looked like one so far
  EXPECT_EQ(t.Observe(v - 50), SeriesKind::kGauge);  // a gauge: it went down, not to zero
  for (int i = 0; i < 100; ++i) t.Observe(v += 10);
  EXPECT_EQ(t.kind(), SeriesKind::kGauge);
}

TEST(MonotonicityTracker, ResetToNearZeroIsAllowedButNotOften) {
  MonotonicityTracker t;
  double v = 500;
  for (int i = 0; i < 10; ++i) t.Observe(v += 5);
  t.Observe(2);  // process restart
  v = 2;
  for (int i = 0; i < 15; ++i) t.Observe(v += 5);
  EXPECT_EQ(t.kind(), SeriesKind::kCounter);

  MonotonicityTracker sawtooth;
  for (int i = 0; i < 100; ++i) sawtooth.Observe(i % 4 == 3 ? 0 : 10 * (i % 4));
  EXPECT_NE(sawtooth.kind(), SeriesKind::kCounter);
}

TEST(MonotonicityTracker, NegativeValuesMeanGauge) {
  MonotonicityTracker t;
  EXPECT_EQ(t.Observe(-1), SeriesKind::kGauge);
}

TEST(MonotonicityTracker, SnapshotRoundTrip) {
  MonotonicityTracker t;
  for (int i = 0; i < 12; ++i) t.Observe(i * 3);
  std::string blob;
  t.AppendTo(&blob);
  std::string_view in = blob;
  auto back = MonotonicityTracker::Parse(&in);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->points(), 12);
  for (int i = 12; i < 25; ++i) {
    EXPECT_EQ(t.Observe(i * 3), back->Observe(i * 3));
  }
  EXPECT_EQ(back->kind(), SeriesKind::kCounter);
}

}  // namespace
}  // namespace vigil
