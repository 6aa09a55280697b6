// Runs vigil's KPI detector suite over evaluation corpora and scores it:
// the code behind `vigil eval nab` and `vigil eval kpi` (kept out of the
// command files so that a unit test can assert a floor on a subset).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "detect/kpi_detector.h"
#include "eval/nab_scorer.h"
#include "eval/point_adjust.h"

namespace vigil {

// The NAB anomaly score of one record, in [0, 1): the suite's own ranking
// score (KpiVerdict::Evidence: its residual views' surprise plus its KNN
// novelty view's on series without a period), squashed, reported once per
// run of records of the last kMemory points: at the first point after the
// run that is no new record, with the run's peak less a discount for the
// series' earlier reports at least as strong; see docs/detection.md.
class NabScoreMapper {
 public:
  // v: the suite's verdict on the series' next value.
  double Map(const KpiVerdict& v);

  static constexpr int64_t kMemory = 100;
  static constexpr double kRecurrenceWeight = 1.5;  // decades per decade of earlier reports
  static constexpr double kRecurrenceMargin = 0.5;  // an earlier report this far below still counts

 private:
  // The run's peak less the recurrence discount; remembers the peak.
  double RecurrenceDiscounted(double peak);

  std::deque<std::pair<int64_t, double>> recent_;  // decreasing maxima of the last kMemory points
  int64_t index_ = 0;
  double run_peak_ = 0;     // the largest Evidence of the current run of records
  bool in_run_ = false;     // the previous point was a record
  std::vector<double> reports_;  // every earlier report's peak, ascending (one file: eval only)
};

struct NabRun {
  std::vector<NabProfileResult> profiles;  // standard, reward_low_FP_rate, reward_low_FN_rate
  std::vector<std::string> files;
  std::vector<size_t> windows;             // per file
  std::vector<size_t> alarms;              // vigil's own alarm onsets per file
};
// `only`: keep files whose name contains one of these (empty = all).
// dump_dir: when not empty, writes <dump_dir>/<category>_<file> with the
// NAB score and the surprise of every row (for looking at which files lose
// points).
Result<NabRun> RunNab(const std::string& dir, const std::vector<std::string>& only, const KpiDetectorConfig& cfg,
                      const std::string& dump_dir = "");

struct KpiRun {
  KpiScore overall;
  std::map<std::string, KpiScore> series;
};
// dump_dir: when not empty, writes <dump_dir>/<KPI ID>.csv with every point's
// value, label, surprise, combined score, threshold and alarm.
Result<KpiRun> RunKpi(const std::string& path, const KpiDetectorConfig& cfg, const std::string& dump_dir = "");

}  // namespace vigil
