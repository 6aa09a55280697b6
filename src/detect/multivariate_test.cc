#include "detect/multivariate.h"

#include <cmath>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "detect/multivariate_smd.h"

namespace vigil {
namespace {

// Rows of d metrics: metric 0 and 1 follow one factor, the rest are noise.
std::vector<std::vector<double>> Correlated(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, 1);
  std::vector<std::vector<double>> rows;
  for (size_t r = 0; r < n; ++r) {
    double f = nd(rng);
    std::vector<double> row(d);
    row[0] = 10 + f + 0.1 * nd(rng);
    row[1] = 50 + 2 * f + 0.2 * nd(rng);
    for (size_t i = 2; i < d; ++i) row[i] = nd(rng);
    rows.push_back(row);
  }
  return rows;
}

TEST(ShrunkCovariance, ABrokenRelationScoresHighAndIsExplained) {
  auto m = ShrunkCovarianceModel::Fit(Correlated(2000, 6, 1));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Each metric within 1.2 sd of its mean, but metric 0 up while 1 is down.
  std::vector<double> broken{10 + 1.2, 50 - 2.4, 0, 0, 0, 0};
  std::vector<double> normal{10 + 1.2, 50 + 2.4, 0, 0, 0, 0};
  std::vector<double> c;
  double s_broken = m->Score(broken, &c);
  double s_normal = m->Score(normal);
  EXPECT_GT(s_broken, 50 * s_normal) << s_broken << " vs " << s_normal;
  EXPECT_GT(s_broken, 100);
  EXPECT_NEAR(std::accumulate(c.begin(), c.end(), 0.0), s_broken, 1e-6 * s_broken);
  EXPECT_GT(c[0] + c[1], 0.95 * s_broken);
}

TEST(ShrunkCovariance, ShrinksMoreWhenRowsAreFew) {
  auto few = ShrunkCovarianceModel::Fit(Correlated(15, 30, 2));  // fewer rows than metrics
  ASSERT_TRUE(few.ok()) << few.status().ToString();
  auto many = ShrunkCovarianceModel::Fit(Correlated(5000, 30, 3));
  ASSERT_TRUE(many.ok());
  EXPECT_GT(few->shrinkage(), many->shrinkage());
  EXPECT_GT(few->shrinkage(), 0.0);
  EXPECT_LE(few->shrinkage(), 1.0);
  // Constant metrics do not break the fit.
  auto rows = Correlated(100, 4, 4);
  for (auto& r : rows) r[3] = 7;
  auto flat = ShrunkCovarianceModel::Fit(rows);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_TRUE(std::isfinite(flat->Score(rows[0])));
  EXPECT_FALSE(ShrunkCovarianceModel::Fit({{1, 2}}).ok());
  EXPECT_FALSE(ShrunkCovarianceModel::Fit({{1, 2}, {1}}).ok());
}

TEST(EntityDetector, StreamsFlagsJointAnomaliesAndDoesNotLearnThem) {
  MultivariateConfig cfg;
  cfg.refit_every = 200;
  EntityDetector det(5, cfg);
  auto train = Correlated(1000, 5, 5);
  ASSERT_TRUE(det.Train(train).ok());
  auto test = Correlated(2000, 5, 6);
  size_t false_alarms = 0, hits = 0;
  for (size_t t = 0; t < test.size(); ++t) {
    bool injected = t >= 1000 && t < 1050;
    if (injected) test[t][1] = 50 - 2 * (test[t][0] - 10);  // relation inverted
    auto v = det.Update(test[t]);
    ASSERT_TRUE(v.ready);
    if (injected) {
      hits += v.anomalous;
      if (v.anomalous) {
        ASSERT_FALSE(v.top.empty());
        EXPECT_TRUE(v.top[0].metric == 0 || v.top[0].metric == 1) << v.top[0].metric;
      }
    } else {
      false_alarms += v.anomalous;
    }
  }
  EXPECT_GE(hits, 35u);  // inverted rows near the mean are indistinguishable
  EXPECT_LE(false_alarms, 10u);
  EXPECT_FALSE(det.Update(std::vector<double>{1, 2}).ready);  // wrong width
  EXPECT_FALSE(det.Train({{1, 2}}).ok());
}

TEST(SmdFormat, ParsesRowsAndLabelsWithPreciseErrors) {
  auto m = ParseSmdMatrix("0.1,0.2,0\n0.3,0.4,1\r\n\n");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_DOUBLE_EQ((*m)[1][1], 0.4);
  auto bad = ParseSmdMatrix("0.1,0.2\n0.3,x\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2, column 2"), std::string::npos) << bad.status().message();
  auto ragged = ParseSmdMatrix("1,2\n1,2,3\n");
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("line 2"), std::string::npos);
  auto l = ParseSmdLabels("0\n1\n1.0\n");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<int>{0, 1, 1}));
  EXPECT_FALSE(ParseSmdLabels("0\n2\n").ok());
}

TEST(SmdScoring, PointAdjustPaKAndEvents) {
  //                     0  1  2  3  4  5  6  7  8  9
  std::vector<int> labels{0, 1, 1, 1, 1, 0, 0, 1, 1, 0};
  std::vector<double> s{0, 0, 0, 9, 0, 9, 0, 0, 0, 0};
  // Plain: tp 1 (3), fp 1 (5), fn 5.
  SmdCounts plain = CountAdjusted(s, labels, 1, -1);
  EXPECT_EQ(plain.tp, 1u);
  EXPECT_EQ(plain.fp, 1u);
  EXPECT_EQ(plain.fn, 5u);
  // Point adjust: the first segment (1..4) is all detected.
  SmdCounts pa = CountAdjusted(s, labels, 1, 0);
  EXPECT_EQ(pa.tp, 4u);
  EXPECT_EQ(pa.fn, 2u);
  // PA%K with K = 50: 1 of 4 points is 25% -> not adjusted.
  EXPECT_EQ(CountAdjusted(s, labels, 1, 50).tp, 1u);
  EXPECT_EQ(CountAdjusted(s, labels, 1, 25).tp, 4u);
  // Events: one of two segments found, one flagged run (at 5) outside.
  SmdCounts ev = CountEvents(s, labels, 1);
  EXPECT_EQ(ev.tp, 1u);
  EXPECT_EQ(ev.fn, 1u);
  EXPECT_EQ(ev.fp, 1u);
  auto best = BestThreshold(s, labels, 0, false);
  EXPECT_DOUBLE_EQ(best.f1, 0.75);  // flagging everything: tp 6, fp 4, better than pa
  auto all = ScoreSmd(s, labels);
  EXPECT_DOUBLE_EQ(all.pa_k.at(0).f1, all.f1_pa.f1);
  EXPECT_GE(all.f1_pa.f1, all.f1.f1);
}

}  // namespace
}  // namespace vigil
