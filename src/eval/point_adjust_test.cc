#include "eval/point_adjust.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::vector<bool> Bits(const std::string& s) {
  std::vector<bool> out;
  for (char c : s) out.push_back(c == '1');
  return out;
}

TEST(PointAdjust, AlarmWithinSevenPointsDetectsWholeSegment) {
  //                      segment of 10 starting at 2; alarm at its 8th point (index 9 = start + 7)
  auto labels = Bits("001111111111000");
  auto alarms = Bits("000000000100000");
  Counts c = PointAdjustCounts(labels, alarms, 7);
  EXPECT_EQ(c.tp, 10);
  EXPECT_EQ(c.fn, 0);
  EXPECT_EQ(c.fp, 0);
}

TEST(PointAdjust, LateAlarmCountsNothing) {
  auto labels = Bits("001111111111000");
  auto alarms = Bits("000000000010000");  // start + 8: too late, and is not even a point-wise TP
  Counts c = PointAdjustCounts(labels, alarms, 7);
  EXPECT_EQ(c.tp, 0);
  EXPECT_EQ(c.fn, 10);
  EXPECT_EQ(c.fp, 0);
  // Without the delay rule it is a detection.
  EXPECT_EQ(PointAdjustCounts(labels, alarms, -1).tp, 10);
}

TEST(PointAdjust, FalseAlarmsCountPointWise) {
  auto labels = Bits("0011000");
  auto alarms = Bits("1010011");
  Counts c = PointAdjustCounts(labels, alarms, 7);
  EXPECT_EQ(c.tp, 2);
  EXPECT_EQ(c.fp, 3);
  EXPECT_NEAR(c.F1(), 4.0 / 7.0, 1e-12);
}

TEST(PointAdjust, PaKInterpolatesBetweenAdjustedAndPointWise) {
  auto labels = Bits("0111110");
  auto alarms = Bits("0100000");  // 1 of 5 = 20 %
  EXPECT_EQ(PaKCounts(labels, alarms, 0).tp, 5);
  EXPECT_EQ(PaKCounts(labels, alarms, 20).tp, 5);
  EXPECT_EQ(PaKCounts(labels, alarms, 50).tp, 1);
  EXPECT_EQ(PaKCounts(labels, alarms, 100).tp, 1);
  EXPECT_EQ(PointCounts(labels, alarms).tp, 1);
  EXPECT_EQ(PointCounts(labels, alarms).fn, 4);
}

TEST(PointAdjust, EventWiseCountsRunsOfAlarms) {
  auto labels = Bits("00111000001100");
  auto alarms = Bits("11010000110000");  // one false run (0..1), one true run touching seg 1, one touching seg 2
  Counts c = EventCounts(labels, alarms);
  EXPECT_EQ(c.tp, 1);  // seg 1 hit at index 3; seg 2 (10,11) not hit (alarms at 8,9)
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.fp, 2);  // run 0..1 and run 8..9
}

TEST(PointAdjust, BestF1SweepsOneSharedThreshold) {
  KpiSeriesResult a{Bits("0001111000"), {0.1, 0.2, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.5, 0.1}, Bits("0000100000")};
  KpiSeriesResult b{Bits("0000000110"), {0.1, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1}, Bits("0000000010")};
  // t = 0.9: tp 4, fn 2 -> 0.8. t = 0.7: tp 6, fp 0 -> 1.0. t = 0.6: fp 1.
  BestF1 best = BestPointAdjustF1({&a, &b}, 7);
  EXPECT_NEAR(best.f1, 1.0, 1e-12);
  EXPECT_EQ(best.threshold, 0.7);
  KpiScore s = ScoreKpi({&a, &b});
  EXPECT_NEAR(s.best_f1_pa, 1.0, 1e-12);
  EXPECT_NEAR(s.f1_pa, 1.0, 1e-12);
  EXPECT_NEAR(s.f1, 2.0 * 2 / (2 * 2 + 4), 1e-12);  // 2 point hits, 4 missed points
  EXPECT_EQ(s.segments, 2);
}

}  // namespace
}  // namespace vigil
