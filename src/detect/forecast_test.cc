#include "detect/forecast.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "detect/capacity.h"
#include "detect/forecast_accuracy.h"
#include "detect/forecast_csv.h"
#include "detect/forecast_series.h"

namespace vigil {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<double> Seasonal(size_t n, int period, double noise, double slope, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, 1);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t) {
    y[t] = 100 + slope * static_cast<double>(t) + 10 * std::sin(2 * kPi * static_cast<double>(t) / period) +
           noise * nd(rng);
  }
  return y;
}

std::vector<Sample> AsSamples(const std::vector<double>& y, TimestampMs start, TimestampMs step) {
  std::vector<Sample> s;
  for (size_t i = 0; i < y.size(); ++i) s.push_back({start + static_cast<TimestampMs>(i) * step, y[i]});
  return s;
}

TEST(HoltWinters, TracksAPerfectSeasonExactly) {
  auto y = Seasonal(24 * 10, 24, 0, 0, 1);
  HoltWintersParams p;
  p.trend = TrendKind::kNone;
  p.season = SeasonKind::kAdditive;
  p.period = 24;
  p.alpha = 0.2;
  p.gamma = 0.1;
  HoltWinters hw(p);
  hw.Initialize(y);
  for (double v : y) hw.Update(v);
  for (int h = 1; h <= 48; ++h) {
    double truth = 100 + 10 * std::sin(2 * kPi * static_cast<double>(y.size() + h - 1) / 24);
    EXPECT_NEAR(hw.Forecast(h), truth, 1e-6) << h;
  }
}

TEST(HoltWinters, DampedTrendFlattensLinearDoesNot) {
  HoltWintersParams p;
  p.trend = TrendKind::kDamped;
  p.phi = 0.9;
  HoltWinters damped(p);
  p.trend = TrendKind::kLinear;
  HoltWinters linear(p);
  std::vector<double> y;
  for (int i = 0; i < 50; ++i) y.push_back(i);
  damped.Initialize(y);
  linear.Initialize(y);
  for (double v : y) {
    damped.Update(v);
    linear.Update(v);
  }
  EXPECT_NEAR(linear.Forecast(100), 149, 1.0);
  // Gardner-McKenzie: the damped trend adds at most b * phi / (1 - phi).
  EXPECT_LT(damped.Forecast(100), 49 + 9.5);
  EXPECT_GT(damped.Forecast(100), damped.Forecast(1));
}

TEST(SeasonPeriod, FoundByAutocorrelation) {
  EXPECT_EQ(DetectSeasonPeriod(Seasonal(24 * 20, 24, 2, 0, 2), 200), 24);
  EXPECT_EQ(DetectSeasonPeriod(Seasonal(288 * 6, 288, 3, 0.01, 3), 2016), 288);
  std::mt19937 rng(4);
  std::normal_distribution<double> nd(0, 1);
  std::vector<double> noise(2000), walk(2000);
  double w = 0;
  for (size_t i = 0; i < noise.size(); ++i) {
    noise[i] = nd(rng);
    w += nd(rng);
    walk[i] = w;
  }
  EXPECT_EQ(DetectSeasonPeriod(noise, 500), 1);
  EXPECT_EQ(DetectSeasonPeriod(walk, 500), 1);
}

TEST(FitForecastModel, PicksSeasonAndTrendAndBeatsSeasonalNaive) {
  auto y = Seasonal(24 * 30, 24, 1, 0.05, 5);
  ForecastOptions o;
  o.fit_horizon = 48;
  auto m = FitForecastModel(std::span<const double>(y.data(), 24 * 28), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_NE(m->state.params().season, SeasonKind::kNone) << m->Describe();
  EXPECT_NE(m->state.params().trend, TrendKind::kNone) << m->Describe();
  auto f = m->Forecast(48);
  double err = 0, naive = 0;
  for (int h = 1; h <= 48; ++h) {
    double truth = y[24 * 28 + h - 1];
    err += std::fabs(f[h - 1].mean - truth);
    naive += std::fabs(y[24 * 28 + h - 1 - 24 * ((h + 23) / 24)] - truth);
  }
  EXPECT_LT(err, naive);
  // The interval grows with the horizon and covers the truth most of the time.
  EXPECT_GT(f[47].upper - f[47].lower, f[0].upper - f[0].lower);
  int covered = 0;
  for (int h = 1; h <= 48; ++h) {
    double truth = y[24 * 28 + h - 1];
    covered += truth >= f[h - 1].lower && truth <= f[h - 1].upper;
  }
  EXPECT_GE(covered, 40);
}

TEST(FitForecastModel, RefusesTooLittleData) {
  std::vector<double> y{1, 2, 3};
  EXPECT_FALSE(FitForecastModel(y, {}).ok());
  std::vector<double> flat(50, 7.0);
  auto m = FitForecastModel(flat, {});
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->At(10).mean, 7.0, 1e-9);
}

TEST(Regularize, FillsGapsAndMarksThem) {
  std::vector<Sample> s{{0, 1}, {60'000, 2}, {180'000, 4}, {240'000, 5}};
  auto r = Regularize(s, 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->step, 60'000);
  ASSERT_EQ(r->values.size(), 5u);
  EXPECT_DOUBLE_EQ(r->values[2], 3.0);
  EXPECT_FALSE(r->observed[2]);
  EXPECT_TRUE(r->observed[3]);
  std::vector<Sample> far{{0, 1}, {1, 1}, {2, 1}, {1'000'000'000, 1}};
  EXPECT_FALSE(Regularize(far, 1000).ok());
}

TEST(CapacityRisk, RisingSeriesCrossesWithOrderedInterval) {
  // 2 days of a disk filling at 1%/hour from 40% with noise, 5-minute steps.
  std::mt19937 rng(6);
  std::normal_distribution<double> nd(0, 0.3);
  std::vector<Sample> s;
  const TimestampMs step = 300'000, start = 1'700'000'000'000;
  for (int i = 0; i < 576; ++i) s.push_back({start + i * step, 40 + i / 12.0 + nd(rng)});
  // At the end: 88%; 90% is about 2 hours later.
  auto r = AssessCapacityRisk(s, 90, 6 * 3'600'000, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->at_risk) << r->explanation;
  ASSERT_TRUE(r->crossing.likely && r->crossing.earliest && r->crossing.latest) << r->explanation;
  TimestampMs end = s.back().ts_ms;
  EXPECT_NEAR(static_cast<double>(*r->crossing.likely - end) / 3'600'000, 2.0, 0.75) << r->explanation;
  EXPECT_LE(*r->crossing.earliest, *r->crossing.likely);
  EXPECT_LE(*r->crossing.likely, *r->crossing.latest);
  EXPECT_EQ(r->crossing.direction, Direction::kUp);

  auto far = AssessCapacityRisk(s, 200, 6 * 3'600'000, {});
  ASSERT_TRUE(far.ok());
  EXPECT_FALSE(far->at_risk);
  EXPECT_FALSE(far->crossing.likely.has_value());

  // A falling series (free space) crossing downwards.
  std::vector<Sample> down;
  for (const auto& x : s) down.push_back({x.ts_ms, 100 - x.value});
  auto d = AssessCapacityRisk(down, 10, 6 * 3'600'000, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->crossing.direction, Direction::kDown);
  EXPECT_TRUE(d->at_risk) << d->explanation;
}

TEST(CapacityRisk, FlatSeriesIsNoRiskAndBadInputIsRefused) {
  std::vector<Sample> s;
  std::mt19937 rng(7);
  std::normal_distribution<double> nd(0, 1);
  for (int i = 0; i < 500; ++i) s.push_back({i * 60'000LL, 50 + nd(rng)});
  auto r = AssessCapacityRisk(s, 90, 3'600'000, {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->at_risk) << r->explanation;
  EXPECT_FALSE(AssessCapacityRisk(s, 90, 0, {}).ok());
  EXPECT_FALSE(AssessCapacityRisk(s, std::nan(""), 3'600'000, {}).ok());
  // A horizon beyond max_horizon_steps coarsens the grid; with too little
  // history left it is refused.
  SeriesForecastOptions o;
  o.max_horizon_steps = 10;
  auto coarse = AssessCapacityRisk(s, 90, 3'600'000, o);
  ASSERT_TRUE(coarse.ok()) << coarse.status().ToString();
  EXPECT_EQ(coarse->forecast.step, 360'000);
  EXPECT_EQ(coarse->forecast.points.size(), 10u);
  EXPECT_EQ(coarse->forecast.ts.back(), s.back().ts_ms + 3'600'000);
  EXPECT_FALSE(AssessCapacityRisk(s, 90, 100 * 3'600'000LL, o).ok());
}

TEST(ForecastAccuracy, SeasonalSeriesBeatsSeasonalNaive) {
  auto y = Seasonal(288 * 12, 288, 1.5, 0.002, 8);
  auto a = EvaluateForecast(AsSamples(y, 0, 300'000), 0.1, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->period, 288);
  EXPECT_LT(a->relative_mae, 1.0) << a->model;
  EXPECT_LT(a->mase, 1.0) << a->model;
  EXPECT_EQ(a->test, 345u);
}

TEST(ForecastCsv, ReadsNabAndNumericTimestamps) {
  auto s = ParseSeriesCsv("timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,21\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].ts_ms, 1396310400000);
  EXPECT_EQ((*s)[1].ts_ms - (*s)[0].ts_ms, 300'000);
  auto n = ParseSeriesCsv("1700000000,1\n1700000060,2,extra\n");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)[1].ts_ms, 1700000060000);
  auto bad = ParseSeriesCsv("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 3"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("abc"), std::string::npos);
}

}  // namespace
}  // namespace vigil
