#include "detect/change_risk.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace vigil {
namespace {

Labels L(std::vector<Label> l) { return *Labels::FromPairs(std::move(l)); }

std::vector<Sample> Noise(TimestampMs start, int n, double level, double sd, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, sd);
  std::vector<Sample> s;
  for (int i = 0; i < n; ++i) s.push_back({start + i * 10'000LL, level + nd(rng)});
  return s;
}

TEST(CompareWindows, MannWhitneyMatchesAHandComputedCase) {
  // after = {4,5,6}, before = {1,2,3}: U = 9 (every after value is larger).
  std::vector<double> before{1, 2, 3}, after{4, 5, 6};
  auto c = CompareWindows(before, after);
  EXPECT_DOUBLE_EQ(c.u_statistic, 9);
  EXPECT_DOUBLE_EQ(c.before_median, 2);
  EXPECT_DOUBLE_EQ(c.after_median, 5);
  EXPECT_DOUBLE_EQ(c.shift, 3);
  EXPECT_LT(c.p_value, 0.1);
  // Identical windows: no shift, p = 1.
  auto same = CompareWindows(before, before);
  EXPECT_DOUBLE_EQ(same.shift, 0);
  EXPECT_GT(same.p_value, 0.9);
  std::vector<double> flat(10, 5.0);
  EXPECT_DOUBLE_EQ(CompareWindows(flat, flat).p_value, 1);
}

TEST(ChangeRisk, FlagsAShiftedHostAndEndpointNotTheSteadyOnes) {
  const TimestampMs before = 0, after = 1'000'000;
  std::vector<KpiWindows> k;
  // Latency on host web-1 doubles after the deploy; web-2 stays.
  k.push_back({L({{"__name__", "http_latency_seconds"}, {"service", "shop"}, {"host", "web-1"}}),
               Noise(before, 60, 0.2, 0.01, 1), Noise(after, 30, 0.4, 0.01, 2)});
  k.push_back({L({{"__name__", "http_latency_seconds"}, {"service", "shop"}, {"host", "web-2"}}),
               Noise(before, 60, 0.2, 0.01, 3), Noise(after, 30, 0.2, 0.01, 4)});
  // Errors of one endpoint up.
  k.push_back({L({{"__name__", "http_errors"}, {"service", "shop"}, {"endpoint", "/pay"}}),
               Noise(before, 60, 1, 0.3, 5), Noise(after, 30, 8, 0.3, 6)});
  // Errors of another endpoint fall: an improvement, not a risk.
  k.push_back({L({{"__name__", "http_errors"}, {"service", "shop"}, {"endpoint", "/cart"}}),
               Noise(before, 60, 5, 0.3, 7), Noise(after, 30, 1, 0.3, 8)});
  // Too short to judge.
  k.push_back({L({{"__name__", "cpu"}, {"service", "shop"}}), Noise(before, 3, 1, 0.1, 9), Noise(after, 30, 1, 0.1, 10)});

  auto r = AssessChangeRisk(k, {});
  EXPECT_EQ(r.risk, RiskSeverity::kHigh) << r.summary;
  EXPECT_EQ(r.kpis_compared, 4u);
  EXPECT_EQ(r.kpis_skipped, 1u);
  auto find = [&](const std::string& level, const std::string& entity) -> const RiskItem* {
    for (const auto& it : r.items) {
      if (it.level == level && it.entity == entity) return &it;
    }
    return nullptr;
  };
  const RiskItem* web1 = find("host", "host=web-1");
  ASSERT_NE(web1, nullptr);
  EXPECT_EQ(web1->severity, RiskSeverity::kHigh) << web1->explanation;
  EXPECT_EQ(web1->direction, "up");
  EXPECT_NEAR(web1->evidence.before_median, 0.2, 0.01);
  EXPECT_NEAR(web1->evidence.after_median, 0.4, 0.01);
  const RiskItem* web2 = find("host", "host=web-2");
  ASSERT_NE(web2, nullptr);
  EXPECT_EQ(web2->severity, RiskSeverity::kNone) << web2->explanation;
  const RiskItem* pay = find("endpoint", "endpoint=/pay");
  ASSERT_NE(pay, nullptr);
  EXPECT_EQ(pay->severity, RiskSeverity::kHigh);
  const RiskItem* cart = find("endpoint", "endpoint=/cart");
  ASSERT_NE(cart, nullptr);
  EXPECT_EQ(cart->severity, RiskSeverity::kNone);
  EXPECT_TRUE(cart->improved);
  // System level: the mean latency of both hosts moved too.
  const RiskItem* sys = nullptr;
  for (const auto& it : r.items) {
    if (it.level == "system" && it.kpi.find("http_latency_seconds") != std::string::npos) sys = &it;
  }
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->entity, "service=shop");
  EXPECT_GE(sys->severity, RiskSeverity::kMedium) << sys->explanation;
  EXPECT_EQ(sys->labels.Get("service"), "shop");
  EXPECT_FALSE(sys->labels.Has("host"));
  // Worst first.
  EXPECT_EQ(r.items.front().severity, RiskSeverity::kHigh);
}

TEST(ChangeRisk, NoiseAloneIsNoRisk) {
  std::vector<KpiWindows> k;
  for (uint32_t i = 0; i < 20; ++i) {
    k.push_back({L({{"__name__", "rps"}, {"service", "a"}, {"instance", "i" + std::to_string(i)}}),
                 Noise(0, 60, 100, 5, 100 + i), Noise(1'000'000, 30, 100, 5, 200 + i)});
  }
  auto r = AssessChangeRisk(k, {});
  EXPECT_LE(r.risk, RiskSeverity::kLow) << r.summary;
  EXPECT_EQ(r.kpis_compared, 20u);
}

TEST(ChangeRisk, SpikesWithoutAConsistentShiftAreNotHigh) {
  auto before = Noise(0, 60, 10, 1, 11);
  auto after = Noise(1'000'000, 30, 10, 1, 12);
  after[3].value = 1000;
  after[9].value = 1000;
  std::vector<KpiWindows> k{{L({{"__name__", "q"}}), before, after}};
  auto r = AssessChangeRisk(k, {});
  EXPECT_EQ(r.risk, RiskSeverity::kNone) << r.summary;
}

}  // namespace
}  // namespace vigil
