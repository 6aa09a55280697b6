// KpiDetector: the detector suite of one series, chosen by its KpiProfile,
// and the single object that both `vigil detect` and the daemon run.
//
// Life of a series:
//  1. Learning: the first `profile_after` points are buffered while a robust
//     level already judges them; then the profiler measures the buffer,
//     builds the detectors it picks and replays the buffer into them.
//  2. Every point: each enabled detector produces a residual in robust
//     standard deviations (z); the combined score is the largest of them
//     (detectors whose scores live on other scales are mapped to z first).
//     An innovation view (the residual whitened by its lag-1
//     autocorrelation) sees abrupt changes in autocorrelated noise; a drift
//     view (Page's CUSUM of those innovations) sees a run of moderate ones.
//     The alarm threshold on the combined score comes from SPOT (extreme
//     value theory), times the feedback sensitivity. The calibrated
//     surprise (the fitted tails of the point and sustained views) alarms
//     too, at the start of a surprising stretch (`by_surprise`).
//  3. Explanation: expected value and band from the primary baseline
//     (seasonal when ready, else Holt-Winters, else level), the detectors
//     that fired, and a pattern label.
//  4. Adaptation: an excursion lasting `rebaseline_after` points (or a
//     change point confirmed by CUSUM / BOCPD) moves every baseline to the
//     new level, so a permanent change does not alarm for a week.
//  5. Re-profiling: a history of at most kHistory block means (the block
//     doubles each time the history fills, until it spans two weeks; then
//     the oldest half is dropped) is profiled each time it fills, so daily
//     and weekly periods are found at one-minute resolution in 1 KiB.
// Gaps longer than `gap_steps` steps raise a separate data-missing signal,
// never an anomaly; the calendar limits analysis to configured windows.
//
// Not thread-safe; one object per series; no clock (time comes with points).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomaly.h"
#include "core/sample.h"
#include "core/status.h"
#include "detect/calendar.h"
#include "detect/change_point.h"
#include "detect/holt_winters.h"
#include "detect/knn_novelty.h"
#include "detect/kpi_parts.h"
#include "detect/kpi_profiler.h"
#include "detect/limits.h"
#include "detect/robust_level.h"
#include "detect/seasonal_profile.h"
#include "detect/spectral_residual.h"
#include "detect/spot.h"
#include "detect/slow_trend.h"

namespace vigil {

struct KpiDetectorConfig {
  int profile_after = 600;      // points buffered before the first profile
  bool reprofile = true;        // re-profile from the block-mean history
  double spot_risk = 1e-4;      // SPOT false-alarm probability per point
  double min_threshold = 5.0;   // the alarm threshold never goes below this z
  double alarm_surprise = 3.2;  // a calibrated surprise (-log10 risk) above this alarms too
  int level_shift_points = 5;   // consecutive alarms in one direction that make a level shift
  int rebaseline_after = 12;    // consecutive excursion points after which the new level is accepted
  int gap_steps = 5;            // a gap of this many steps is "data missing"
  HardLimits hard_limits;       // user-set, optional
  const AnalysisCalendar* calendar = nullptr;  // optional, not owned
};

enum class KpiPattern : uint8_t {
  kNone,
  kSpike,
  kDip,
  kLevelShiftUp,
  kLevelShiftDown,
  kSustainedAfterJump,
  kSlowRise,
  kSlowFall,
  kVarianceChange,
  kMissingData,
};
const char* KpiPatternName(KpiPattern p);

struct KpiVerdict {
  bool ready = false;      // false while learning, outside the calendar, or non-finite input
  bool anomalous = false;
  bool onset = false;      // first anomalous point of an excursion (what the daemon reports)
  bool by_surprise = false;  // anomalous by the calibrated surprise alone (not the score threshold)
  double expected = 0, lower = 0, upper = 0;
  double score = 0;        // combined score in robust sds
  double surprise = 0;     // -log10 P(score this large) under the series' own fitted tail (SPOT)
  double novelty = 0;      // the KNN novelty view's: -log10 P(distance this large | past its tail's threshold)
                           // (series without a period; 0 when not judged)
  double threshold = 0;    // the alarm threshold applied to score
  Direction direction = Direction::kUp;
  uint32_t fired = 0;      // DetectorBit mask of the detectors beyond the threshold
  KpiPattern pattern = KpiPattern::kNone;
  int64_t missing_ms = 0;  // > 0: the data-missing signal (length of the gap before this point)
  // How unusual the point is, for ranking points (NAB, the KPI check's best
  // threshold): the residual views' surprise plus the novelty view's, the
  // -log10 of the product of their tail probabilities, so that a point
  // ranks high when both see it, or one sees it strongly (round nab3's
  // vote, now the suite's own output).
  double Evidence() const { return ready ? surprise + novelty : 0.0; }
};

class KpiDetector {
 public:
  explicit KpiDetector(const KpiDetectorConfig& cfg = {});
  KpiVerdict Update(TimestampMs ts, double value);

  const KpiProfile& profile() const { return cold_->profile; }
  bool profiled() const { return profiled_; }
  // Feedback on a reported anomaly: a false alarm raises the threshold of
  // this series (x1.25, at most x4), a confirmed one lowers it (x0.9, at
  // least x0.5). Deterministic, so replaying the feedback log rebuilds it.
  void Feedback(bool false_alarm) { sensitivity_ = static_cast<float>(NextSensitivity(sensitivity_, false_alarm)); }
  static double NextSensitivity(double s, bool false_alarm);
  double sensitivity() const { return sensitivity_; }
  // Sets the sensitivity directly (replaying stored feedback); clamped to [0.5, 4].
  void SetSensitivity(double s);
  // The expected value and band the current model gives for time ts (for
  // drawing the band under a chart). False before the first verdict.
  bool BandAt(TimestampMs ts, double* expected, double* lower, double* upper) const;
  // Approximate bytes of state held (for the memory budget).
  size_t StateBytes() const;
  // Starts loading the heap parts the next Update touches (seasonal and
  // Holt-Winters slots, BOCPD, the novelty rings), for a caller that drives
  // many series in turn: their state is cold (a million series' state is
  // gigabytes), so the caller asks for the next series' parts while this one
  // runs, as the engine's shards do, and the misses overlap instead of
  // queueing. It reads only this object (the slots' positions and the parts
  // block's address: no pointer inside a part, round arena), so a caller
  // that also prefetches the object one series earlier never waits here.
  // The object itself is the caller's to prefetch. It also loads the cold
  // block's history or trend lines when the next point reads them (known
  // from counters in this object). Of the novelty view's rings it loads
  // only the bytes the next point writes when that point compares no
  // window (KpiParts::NoteNextPoint, round hot2).
  // No effect on results.
  void PrefetchParts() const;

  // Snapshot of the whole learned state (profile, baselines, tails, learning
  // buffer), one length-prefixed blob; the configuration is not in it (it
  // comes from the constructor). ParseFrom always consumes one blob: a blob
  // from a build whose state layout differs leaves the detector fresh and
  // sets *restored = false (the series relearns); a damaged one is an error.
  void AppendTo(std::string* out) const;
  Status ParseFrom(std::string_view* in, bool* restored);

 private:
  void Build(const KpiProfile& p);
  // Also returns the floor and level it judged with and, where the seasonal
  // profile was the primary baseline, its expected value (Learn's too).
  KpiVerdict Judge(TimestampMs ts, double x, double* judged_floor, double* judged_level, bool* judged_profile,
                   double* profile_expected);
  // The point view's tail surprise (of the combined score) as it ranks:
  // discounted (see .cc); the surprise alarm judges it undiscounted.
  static double PointSurprise(double surprise);
  // Updates the sustained views with the (deseasonalised) value d and the
  // point's |residual| / scale; returns the larger of their surprises.
  double SustainedViews(double d, double ratio, double floor, double* sustained, double* variance);
  // The medium view's deviation in slow-level scales, counted only while the
  // short-term mean agrees with it (an excursion that ended is not news).
  double MediumViewZ(double scale) const;
  // Restarts the two mean views (slow level, means, tails) on a new input.
  void RestartMeanViews(bool on_profile);
  // Updates the innovation view with the primary residual z (in robust sds)
  // and the drift view with the innovation; returns the larger surprise
  // (the innovation view's is 0 while the residuals are not autocorrelated).
  double InnovationView(double z);
  // Updates the drift view (Page's CUSUM of the innovations u, in their
  // sds); returns its surprise.
  double DriftView(double u);
  // Updates the weekday view with the deseasonalised value d at ts (on a
  // daily profile); returns its surprise (0 while it learns). Ranking only.
  double WeekdayView(TimestampMs ts, double d, double floor);
  void RestartWeekdayView();
  // profile_expected: the seasonal profile's expected value at ts, when
  // Judge computed it (else null).
  void Learn(TimestampMs ts, double x, bool anomalous, double floor, const double* profile_expected);
  // True for a score alarm that continues an excursion (an alarm within
  // the current run): the point view's tail does not learn it.
  bool ContinuesExcursion(const KpiVerdict& v) const;
  void Rebaseline(TimestampMs ts, double x);
  double Floor() const;

  KpiDetectorConfig cfg_;
  // The six SPOT tails' configuration (q = spot_risk, 200 initial scores,
  // floor = min_threshold), kept once instead of in every tail (round hot2).
  SpotParams spot_params_;
  static constexpr size_t kHistory = 192;
  void AddHistory(TimestampMs ts, double x);
  // Stores a block mean in the history (int16 steps of hist_step from
  // hist_offset; a mean beyond the steps' range coarsens the step).
  void PushHistory(double mean);
  void Reprofile();
  // Sets the profile (the cold block's) and its hot copies.
  void SetProfile(const KpiProfile& p);
  // The learning buffers' capacity after n points (as Update grows them).
  size_t LearningCapacity(size_t n) const;

  // The state a point does not touch, in one heap block per series (round
  // hot, docs/detection.md): a caller that drives many series streams every
  // byte of this object per point (the bench's array, the engine's
  // prefetch of a series' state), so what only the learning phase, a
  // history block's end (1 point in 128 at one-minute steps), a trend
  // block's end (1 in 60) or a re-profile reads is kept out of it.
  // PrefetchParts loads the history or trend part when the next point
  // closes such a block. Always allocated (a moved-from detector has none
  // and may only be destroyed or assigned to).
  struct Cold {
    // Block means for re-profiling, as int16 steps (round nab5: half the
    // bytes of floats, which pays for the KNN novelty view's RSS;
    // re-profiling takes only the period and trend from them, and a step is
    // at most 1/16384 of the means' range).
    std::vector<int16_t> hist;
    TimestampMs hist_first_ts = 0;
    float hist_offset = 0, hist_step = 0;  // a block mean is hist_offset + q hist_step (step 0: none stored yet)
    // The trend test's blocks (its partial block is summed in trend_sum_ /
    // trend_in_ here: its own in_block / sum stay 0 but in AppendTo).
    TrendTest trend;
    KpiProfile profile;
    std::vector<TimestampMs> buf_ts;  // first-profile buffer (empty afterwards)
    std::vector<float> buf_values;
  };
  std::unique_ptr<Cold> cold_;
  // What each point reads of the profile (copies of cold_->profile's).
  double prof_resolution_ = 0, prof_scale_ = 0;
  int64_t prof_step_ms_ = 0, prof_period_ms_ = 0;  // (prof_detectors_ after limits_: no padding)
  // The trend test's partial block (TrendTest::Update's per-point part).
  int32_t trend_in_ = 0, trend_block_ = 1;
  double trend_sum_ = 0;
  int32_t hist_block_ = 1, hist_acc_n_ = 0;  // (a block spans at most two weeks: 2^31 points is ~68 years of seconds)
  double hist_acc_ = 0;

  RobustLevel level_{0.05f, 0.02f};
  RobustLevel season_offset_{0.05f, 0.02f};  // level of (x - seasonal expected)
  SeasonalProfile seasonal_;
  HoltWintersResidual hw_;
  // The spectral residual, BOCPD and the KNN novelty view (each only on
  // some profiles), in one heap block (KpiParts). The novelty view lives in
  // the heap memory the seasonal profile and Holt-Winters slots take on
  // seasonal series (the two are never built together), ~1.1 KiB. It only
  // ranks (KpiVerdict::Evidence): it raises no alarm.
  KpiParts parts_;
  Cusum cusum_;
  float bocpd_acc_ = 0;
  int bocpd_n_ = 0;
  LearnedLimits limits_;
  uint32_t prof_detectors_ = 0;  // (a copy of cold_->profile.detectors)
  SpotTail spot_;
  // Sustained views, each with its own EVT tail: the short-term (~4 points)
  // and medium-term (~100 points) means of the deseasonalised value against
  // a slow robust level (level shifts, slow excursions), and the short-term
  // mean of the smaller of two consecutive |residual|s (variance). The two
  // mean views' tails rebase their SPOT threshold t (spot.h): their scores
  // are strongly autocorrelated, so the 200 scores of the initial
  // calibration are a poor sample (NAB +3, KPI check +0.01-0.02,
  // docs/detection.md).
  RobustLevel slow_{0.002f, 0.002f};
  float short_mean_ = 0, short_dev_ = 0, medium_mean_ = 0, prev_ratio_ = 0;
  SpotTail spot_shift_, spot_var_, spot_medium_;
  // The innovation view (InnovationView): the primary residual z whitened
  // by its lag-1 autocorrelation, with its own EVT tail.
  float innov_prev_ = 0, innov_c0_ = 0, innov_c1_ = 0, innov_scale_ = 0;  // clipped z_{t-1}, E[z^2], E[z_t z_{t-1}], mean |e|
  SpotTail spot_innov_;
  // The drift view (DriftView): Page's one-sided sums of the innovations
  // (never signalling on their own: h infinite), judged by their own tail.
  Cusum drift_{1.0f, std::numeric_limits<float>::infinity()};
  SpotTail spot_drift_;
  // The weekday view (WeekdayView, daily-period series only, ranking only):
  // the mean of each weekday's deseasonalised deviation, in 1/1000s of the
  // slow scale (int16: 14 B), the sum of the current day's deviations, a
  // two-day EWMA of the deviation less its weekday's mean, and that EWMA's
  // mean square (a slow variance).
  int16_t wd_mean_[7] = {0, 0, 0, 0, 0, 0, 0};
  float day_sum_ = 0, wd_ewma_ = 0, wd_var_ = 0;
  uint16_t day_n_ = 0, wd_count_ = 0;  // points in the current day; EWMA values the variance saw (saturating)
  uint8_t day_wd_ = 0xff;              // weekday of the current day (0xff: none yet)
  uint8_t wd_seen_ = 0;                // bit w: weekday w has a mean

  // (Small fields grouped by size: the budget of 4 KiB per series is tight.)
  TimestampMs last_ts_ = 0;
  double run_sum_ = 0;           // of the raw values in the run
  float sensitivity_ = 1.0f;
  // The last re-baseline's moves of the level, the seasonal offset and
  // Holt-Winters, kept for kRevertWindow points: a value back at the old
  // baseline undoes them (RevertJump).
  float jump_level_ = 0, jump_offset_ = 0, jump_hw_ = 0;
  int run_ = 0;                  // consecutive alarms
  int quiet_ = 1 << 20;          // consecutive normal points since the last alarm
  int alarm_quiet_ = 1 << 20;    // the same for reported alarms (surprise alarms included)
  Direction run_dir_ = Direction::kUp;
  int16_t surprise_run_ = 0;     // consecutive points whose surprise alone reached the alarm level
  int16_t after_jump_points_ = 0;
  uint16_t since_jump_ = 0xffff;
  bool profiled_ = false;
  bool have_last_ = false;
  bool short_started_ = false;  // the sustained views have their first value
  bool views_on_profile_ = false;  // the mean views' input is the value less the seasonal profile (else the raw value)
  uint8_t innov_n_ = 0;         // residuals the innovation view saw, up to its warm-up
  bool after_jump_ = false;      // a level shift was accepted recently
  int8_t trend_state_ = 0;       // +1 / -1 while a slow trend episode is reported
  void RestartChangeEvidence();
  bool RevertJump(TimestampMs ts, double x);
};

}  // namespace vigil
