// Floors on vigil's own accuracy, on small subsets so that CTest stays fast.
// The floors sit a little below the measured figures (docs/detection.md);
// a detector change that loses accuracy fails here.
#include "cli/kpi_runs.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::string SharedData() {
  const char* env = std::getenv("VIGIL_SHARED_DATA");
  return env != nullptr ? env : VIGIL_SHARED_DATA;
}

TEST(EvalNabFloor, KnownCauseAndArtificialSeries) {
  // Measured 65.8 / 57.7 / 71.9 (standard / low FP / low FN) on these 13 files
  // with a report discounted by the series' earlier ones at least as strong
  // (round nab7; 66.0 / 57.5 / 72.0 without; the full corpus gains 2.7 /
  // 1.3 / 2.2), a run of records reported once, at its peak
  // (round nab6; 65.1 / 55.2 / 71.4 with every record reported; 66.3 / 57.9
  // / 72.2 before learning-phase alarms ranked at the alarm risk), whose KNN
  // novelty view ranks series without a
  // period (round nab5; 63.5 / 56.1 / 69.0 ranked by the surprise alone;
  // 73.3 / 62.5 / 80.9 with round nab3's eval-only vote on every series,
  // 128 KiB each; see docs/detection.md).
  auto run = RunNab(SharedData() + "/nab", {"realKnownCause", "artificialWithAnomaly"}, KpiDetectorConfig{});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->files.size(), 13u);
  EXPECT_GE(run->profiles[0].normalized, 64.5);
  EXPECT_GE(run->profiles[1].normalized, 56.0);
  EXPECT_GE(run->profiles[2].normalized, 70.5);
}

TEST(NabScoreMapper, ARunOfRecordsIsOneDetectionAtItsPeak) {
  // Evidence rising over four points (a sustained view building up), then
  // falling back: one report, with the peak, on the first point that is no
  // new record; nothing while the run rises, nothing afterwards.
  NabScoreMapper mapper;
  std::vector<double> reported;
  for (double u : {0.5, 0.4, 0.3, 2.0, 3.0, 4.5, 6.0, 5.0, 1.0, 0.5}) {
    KpiVerdict v;
    v.ready = true;
    v.surprise = u;
    reported.push_back(mapper.Map(v));
  }
  // The first point is a record of an empty memory: its run ends at once.
  EXPECT_GT(reported[1], 0.0);
  for (int i : {0, 2, 3, 4, 5, 6, 8, 9}) EXPECT_EQ(reported[i], 0.0) << i;
  EXPECT_DOUBLE_EQ(reported[7], 6.0 / (4.0 + 6.0));
}

TEST(NabScoreMapper, ARecurringReportIsDiscountedByItsEarlierOnes) {
  // Three equal isolated spikes, far apart (beyond the record memory): the
  // first is reported at its evidence, the second less one earlier report
  // (1.5 log10 2), the third less two (1.5 log10 3); a weaker fourth spike,
  // within the margin of the earlier ones, counts them too, and a fifth
  // far stronger one counts none.
  NabScoreMapper mapper;
  std::vector<double> reported;
  for (double spike : {6.0, 6.0, 6.0, 5.6, 9.0}) {
    for (int i = 0; i < 150; ++i) {
      KpiVerdict v;
      v.ready = true;
      v.surprise = i == 0 ? spike : 0.1;
      const double r = mapper.Map(v);
      if (r > 0) reported.push_back(4 * r / (1 - r));  // back from the squashed score
    }
  }
  ASSERT_EQ(reported.size(), 5u);
  EXPECT_NEAR(reported[0], 6.0, 1e-9);
  EXPECT_NEAR(reported[1], 6.0 - 1.5 * std::log10(2.0), 1e-9);
  EXPECT_NEAR(reported[2], 6.0 - 1.5 * std::log10(3.0), 1e-9);
  EXPECT_NEAR(reported[3], 5.6 - 1.5 * std::log10(4.0), 1e-9);
  EXPECT_NEAR(reported[4], 9.0, 1e-9);
}

TEST(EvalKpi, ObviousSpikesAreFoundWithVigilsOwnThreshold) {
  const std::string path = ::testing::TempDir() + "/kpi_eval_test.csv";
  {
    std::ofstream out(path);
    out << "timestamp,value,label,KPI ID\n";
    for (int k = 0; k < 2; ++k) {
      for (int i = 0; i < 3000; ++i) {
        const bool anomaly = i > 700 && (i % 700 == 650 || i % 700 == 651);  // after the learning phase
        const double noise = std::sin(i * 12.9898 + k) * 0.5;
        const double v = 10 + 3 * std::sin(2 * M_PI * i / 1440.0) + noise + (anomaly ? 15 : 0);
        out << 1500000000 + i * 60 << "," << v << "," << (anomaly ? 1 : 0) << ",kpi" << k << "\n";
      }
    }
  }
  auto run = RunKpi(path, KpiDetectorConfig{});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->series.size(), 2u);
  EXPECT_EQ(run->overall.segments, 6);
  EXPECT_GE(run->overall.best_f1_pa, 0.9);
  // Measured 0.632 at vigil's own alarms (0.727 before round kpi4): on
  // these two-day series the profiler finds and drops short spurious
  // periods (600 / 767 / 799 / 1535 points), and each switch restarts the
  // mean views, whose young tails then raise a false alarm or two on the
  // raw daily swing (docs/detection.md, round kpi4).
  EXPECT_GE(run->overall.f1_pa, 0.6);
  std::remove(path.c_str());
}

TEST(EvalKpi, BadCsvNamesTheLineAndField) {
  const std::string path = ::testing::TempDir() + "/kpi_eval_bad.csv";
  {
    std::ofstream out(path);
    out << "timestamp,value,label,KPI ID\n1500000000,1,0,a\n1500000060,abc,0,a\n";
  }
  auto run = RunKpi(path, KpiDetectorConfig{});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find(":3: field \"value\""), std::string::npos) << run.status().message();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vigil
