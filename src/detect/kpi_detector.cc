#include "detect/kpi_detector.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/byte_codec.h"
#include "detect/fp_select.h"
#include "core/prefetch.h"
#include "detect/snapshot_fields.h"

namespace vigil {

namespace {
constexpr int kLevelWarmup = 30;     // points before the level alone may judge
constexpr double kSrToZ = 2.0;       // spectral residual score 3 (the paper's cut) ~ z 6
constexpr int kBocpdBlock = 4;      // residuals averaged per BOCPD step
constexpr double kSrCandidate = 3.0; // |z| from which the spectral residual is computed
constexpr double kZClip = 8.0;       // residuals fed to CUSUM / BOCPD are clipped here
constexpr int kQuietToEnd = 3;       // normal points that end an excursion
constexpr int kAfterJumpPoints = 60; // alarms this soon after a re-baseline are "sustained after jump"
constexpr int kLimitsWarmup = 500;   // points seen before learned limits may judge
constexpr double kMediumAlpha = 0.01; // weight of a point in the medium-term sustained view (~100 points)
constexpr double kShortAlpha = 0.5; // weight of a point in the short-term views (~ the last 4-8 points)
constexpr double kMediumAgree = 4.0; // the medium view counts up to this multiple of the short mean's deviation (MediumViewZ)
constexpr double kSurpriseAtOnceMargin = 0.5;  // a surprise this far above alarm_surprise alarms at once
constexpr double kSurpriseConfirmShare = 0.5;  // else the next point confirms it above this share of alarm_surprise
constexpr double kSurpriseEndFraction = 0.375;  // a surprising stretch ends below this share of alarm_surprise
constexpr double kInnovAlpha = 0.01;    // weight of a point in the innovation view's moments (~100 points)
constexpr double kInnovMinRho = 0.5;    // lag-1 autocorrelation from which the innovation view judges
constexpr uint8_t kInnovWarmup = 100;   // residuals seen before it may (fits innov_n_)
constexpr double kDriftClip = 1.5;      // innovations fed to the drift view are clipped here
constexpr uint16_t kRevertWindow = 240;  // points after a re-baseline during which a return undoes it
constexpr double kPointDiscount = 1.0;  // decades the point view's surprise counts less (PointSurprise)
// The novelty view (series without a period) compares a window with its
// references where the residual views' surprise reaches this (a candidate),
// besides its own calibration sample (one point in 64): ~2 % of the points
// are judged, which keeps the suite above 5 M points/s (docs/detection.md,
// round nab4, has what each reduction cost NAB).
constexpr double kNoveltyCandidate = 3.0;
constexpr int64_t kDayMs = 86400000;
constexpr double kWeekdayClip = 5.0;      // deviations (slow-scale units) fed to the weekday view are clipped here
constexpr double kWeekdayAlpha = 0.25;    // weight of a day in its weekday's mean (~4 weeks)
constexpr double kWeekdayDays = 2.0;      // time constant of the weekday view's EWMA, in days
constexpr double kWeekdayVarSpan = 20.0;  // its variance's time constant, in EWMA time constants (40 days)
}  // namespace

const char* KpiPatternName(KpiPattern p) {
  switch (p) {
    case KpiPattern::kNone: return "";
    case KpiPattern::kSpike: return "spike";
    case KpiPattern::kDip: return "dip";
    case KpiPattern::kLevelShiftUp: return "level_shift_up";
    case KpiPattern::kLevelShiftDown: return "level_shift_down";
    case KpiPattern::kSustainedAfterJump: return "sustained_after_jump";
    case KpiPattern::kSlowRise: return "slow_rise";
    case KpiPattern::kSlowFall: return "slow_fall";
    case KpiPattern::kVarianceChange: return "variance_change";
    case KpiPattern::kMissingData: return "missing_data";
  }
  return "";
}

KpiDetector::KpiDetector(const KpiDetectorConfig& cfg)
    : cfg_(cfg),
      spot_params_(SpotParams::Of(cfg.spot_risk, 200, cfg.min_threshold)),
      cold_(std::make_unique<Cold>()),
      spot_shift_(true),
      spot_medium_(true) {
  cfg_.profile_after = std::max(16, cfg_.profile_after);
  cfg_.level_shift_points = std::max(2, cfg_.level_shift_points);
  cfg_.rebaseline_after = std::max(cfg_.level_shift_points, cfg_.rebaseline_after);
  KpiProfile p;
  p.detectors = kDetLevel;
  SetProfile(p);
  trend_block_ = cold_->trend.block();
  // The history is reserved here and the learning buffers at the first
  // point (Update), not here: a caller that creates many series and then
  // feeds them (kpi_bench) gets the cold blocks and histories next to each
  // other and the buffers, freed at the first profile, in one stretch. With
  // the buffers reserved here, each series' cold block sat between its
  // neighbours' freed buffers and kept their pages: RSS growth 7.1 KiB per
  // series instead of 3.9 (round hot).
  cold_->hist.reserve(kHistory);
}

void KpiDetector::SetProfile(const KpiProfile& p) {
  cold_->profile = p;
  prof_resolution_ = p.resolution;
  prof_scale_ = p.scale;
  prof_step_ms_ = p.step_ms;
  prof_period_ms_ = p.period_ms;
  prof_detectors_ = p.detectors;
}

double KpiDetector::Floor() const {
  // Never divide by ~0: a third of the series' resolution, 0.3 % of its
  // level, 2 % of its profiled scale, and an absolute epsilon. (The level's
  // share was 1 %: a success rate at 0.995 with a noise sd of 0.002 then
  // had a scale of 0.01, five times its noise, and its drops to 0.98 went
  // unseen; 0.1 % / 0.2 % cost NAB's low-FP profile 2.2 / 1.5 on flat AWS
  // CPU series, round kpi3.)
  // (std::max of the list, left to right, without a jump per comparison.)
  return MaxOf(MaxOf(MaxOf(prof_resolution_ / 3.0, 3e-3 * std::fabs(level_.level())), 0.02 * prof_scale_), 1e-9);
}

void KpiDetector::Build(const KpiProfile& p) {
  const bool same_period = profiled_ && p.period_ms == cold_->profile.period_ms;
  const KpiProfile old = cold_->profile;
  KpiProfile q = p;
  if (cfg_.hard_limits.Any()) q.detectors |= kDetHardLimits;
  SetProfile(q);
  if (p.detectors & kDetSeasonal) {
    if (!same_period || !seasonal_.enabled()) {
      const double pps = static_cast<double>(p.period_ms) / static_cast<double>(std::max<int64_t>(1, p.step_ms)) /
                         std::max(1, p.seasonal_slots);
      seasonal_ = SeasonalProfile(p.period_ms, p.seasonal_slots, pps);
      hw_ = HoltWintersResidual(p.period_ms, p.seasonal_slots, false, 0.1, 0.01, std::min(0.5, 0.3 / std::max(1.0, pps)));
      season_offset_.ResetAll();
      for (size_t i = 0; i < cold_->buf_ts.size(); ++i) {
        seasonal_.Learn(cold_->buf_ts[i], cold_->buf_values[i], Floor());
        hw_.Learn(cold_->buf_ts[i], cold_->buf_values[i], Floor());
      }
      // The level's residuals SPOT saw so far are far larger than a
      // seasonal baseline's: calibrate afresh.
      spot_ = SpotTail();
      // (The mean views restart when their input changes, in Judge.)
    }
  } else {
    seasonal_ = SeasonalProfile();
    hw_ = HoltWintersResidual();
  }
  // The parts only some profiles use, in one block (KpiParts): those kept
  // keep their state, new ones start fresh.
  uint8_t want = 0;
  if (p.detectors & kDetSpectral) want |= KpiParts::kSpectral;
  if (p.detectors & kDetBocpd) want |= KpiParts::kBocpd;
  if (p.detectors & kDetNovelty) want |= KpiParts::kNovelty;
  const uint8_t fresh = parts_.Reshape(want);
  if (fresh & KpiParts::kNovelty) {
    // The first profile's learning buffer teaches it at once; after a
    // re-profile it warms up on the points to come.
    KnnNovelty* novelty = parts_.novelty();
    for (float x : cold_->buf_values) novelty->Update(x, true);
  }
  if (!profiled_ || old.trend_block != p.trend_block) {
    cold_->trend = TrendTest(p.trend_block);
    trend_block_ = cold_->trend.block();
    trend_in_ = 0;
    trend_sum_ = 0;
  }
  profiled_ = true;
}

void KpiDetector::AddHistory(TimestampMs ts, double x) {
  if (hist_acc_n_ == 0 && cold_->hist.empty()) {  // (the hot count first: the cold block only at a block's start)
    cold_->hist_first_ts = ts;
    cold_->hist.reserve(kHistory);
  }
  hist_acc_ += x;
  if (++hist_acc_n_ < hist_block_) return;
  PushHistory(hist_acc_ / static_cast<double>(hist_acc_n_));
  hist_acc_ = 0;
  hist_acc_n_ = 0;
  if (cold_->hist.size() < kHistory) return;
  if (profiled_) Reprofile();
  const int64_t step = std::max<int64_t>(1, prof_step_ms_);
  constexpr int64_t kTwoWeeksMs = 14LL * 86400000;
  if (hist_block_ * step * static_cast<int64_t>(kHistory) < kTwoWeeksMs) {
    for (size_t i = 0; i < kHistory / 2; ++i) {
      cold_->hist[i] = static_cast<int16_t>(std::lround(0.5 * (cold_->hist[2 * i] + cold_->hist[2 * i + 1])));
    }
    hist_block_ *= 2;
  } else {
    for (size_t i = 0; i < kHistory / 2; ++i) cold_->hist[i] = cold_->hist[i + kHistory / 2];
    cold_->hist_first_ts += static_cast<int64_t>(kHistory / 2) * hist_block_ * step;
  }
  cold_->hist.resize(kHistory / 2);
}

void KpiDetector::PushHistory(double mean) {
  if (!std::isfinite(mean)) mean = cold_->hist_step > 0 ? cold_->hist_offset : 0.0;  // (a sum that overflowed)
  if (cold_->hist_step == 0) {
    // The first mean is the offset; the step starts at 2^-20 of it (or of
    // 1) and doubles as later means need range.
    cold_->hist_offset = static_cast<float>(mean);
    cold_->hist_step = std::ldexp(std::max(std::fabs(cold_->hist_offset), 1e-30f), -20);
  }
  constexpr double kMaxStep = 32767;
  const double need = std::fabs(mean - cold_->hist_offset) / cold_->hist_step;
  if (need > kMaxStep) {
    // Coarsen by a power of two so that the mean fits; the stored means
    // are requantised (each loses at most half a new step).
    const int doublings = static_cast<int>(std::ceil(std::log2(need / kMaxStep)));
    const float factor = std::ldexp(1.0f, doublings);
    if (!std::isfinite(cold_->hist_step * factor)) return;  // beyond float: the mean is not kept
    cold_->hist_step *= factor;
    for (int16_t& q : cold_->hist) q = static_cast<int16_t>(std::lround(q / static_cast<double>(factor)));
  }
  const double q = std::nearbyint((mean - cold_->hist_offset) / cold_->hist_step);
  cold_->hist.push_back(static_cast<int16_t>(std::clamp(q, -kMaxStep, kMaxStep)));
}

void KpiDetector::Reprofile() {
  const int64_t step = std::max<int64_t>(1, prof_step_ms_);
  std::vector<TimestampMs> ts(cold_->hist.size());
  std::vector<double> vals(cold_->hist.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    ts[i] = cold_->hist_first_ts + static_cast<int64_t>(i) * hist_block_ * step;
    vals[i] = cold_->hist_offset + static_cast<double>(cold_->hist[i]) * cold_->hist_step;
  }
  const KpiProfile coarse = ProfileSeries(ts, vals);
  // The history is too coarse for noise, sparsity and resolution: keep the
  // raw profile's, take period and trend from the longer view.
  KpiProfile p = cold_->profile;
  p.points += static_cast<int64_t>(cold_->hist.size()) * hist_block_;
  p.period_ms = coarse.period_ms;
  p.period_strength = coarse.period_strength;
  p.period_jitter = coarse.period_jitter;
  p.phase_drift = coarse.phase_drift;
  p.trend_z = coarse.trend_z;
  ChooseDetectors(&p);
  Build(p);
}

double KpiDetector::PointSurprise(double surprise) {
  // The point view's score has its own alarm threshold (SPOT at risk
  // spot_risk, i.e. surprise 4); below it, its surprise ranks single
  // residuals of ordinary size against the sustained views, whose
  // exceedances need a run of evidence. Measured per view on the KPI check
  // (seeds 1-5, surprise >= 3.05, after the first 6 000 points): the point
  // view's exceedances were 598 false points against 443 segments found
  // (90 by it alone, mostly by the score threshold too), the drift view's
  // 282 against 253, the short mean view's 164 against 180. Counting the
  // point view's surprise one decade (x10 risk) lower moves the corpus-wide
  // threshold of `vigil eval` past those isolated residuals. Only the
  // ranking is discounted; the surprise alarm judges the undiscounted value
  // (see Judge). Round kpi7: best F1-PA +0.004-0.011 on five pools, NAB
  // 57.11/48.51/64.43 -> 58.32/50.20/65.88 (docs/detection.md).
  return std::max(0.0, surprise - kPointDiscount);
}

double KpiDetector::InnovationView(double z) {
  // Prewhitening (G. Box, G. Jenkins, "Time Series Analysis: Forecasting and
  // Control", 1970): with residuals that follow an AR(1) with coefficient
  // rho, the innovation e_t = z_t - rho z_{t-1} is what is new at t. An
  // abrupt change in autocorrelated noise is small against the residuals'
  // spread but large against the innovations' (an "innovational outlier",
  // A. J. Fox, "Outliers in Time Series", JRSS B 1972), so its onset is
  // seen here first. The previous residual is clipped at 3 (a robust filter:
  // one outlier does not predict the next point), rho and the innovations'
  // scale are EWMAs; the view judges only while rho >= kInnovMinRho (on
  // white residuals it would repeat the point view).
  double surprise = 0;
  const double rho = innov_c0_ > 0 ? std::clamp<double>(innov_c1_ / innov_c0_, 0.0, 0.98) : 0.0;
  const double e = z - rho * innov_prev_;
  const double scale = std::max<double>(innov_scale_ * 1.2533, 0.05);  // mean |e| -> sd
  // (|e| / scale is |e / scale| exactly: the scale is positive, and IEEE
  // division rounds a quotient and its negative alike.)
  const double u = innov_n_ >= kInnovWarmup ? e / scale : 0.0;
  if (innov_n_ >= kInnovWarmup && rho >= kInnovMinRho) {
    const double zi = std::fabs(u);
    surprise = spot_innov_.Surprise(zi);
    spot_innov_.Update(spot_params_, zi);
  }
  if (innov_n_ >= kInnovWarmup) surprise = std::max(surprise, DriftView(u));
  const double zc = std::clamp(z, -3.0, 3.0);
  const double a = innov_n_ >= kInnovWarmup ? kInnovAlpha : std::max(kInnovAlpha, 1.0 / (innov_n_ + 1));  // (1/101 < 0.01: no division once warm)
  innov_c1_ = static_cast<float>(innov_c1_ + a * (zc * innov_prev_ - innov_c1_));
  innov_c0_ = static_cast<float>(innov_c0_ + a * (zc * zc - innov_c0_));
  innov_scale_ = static_cast<float>(innov_scale_ + a * (std::min(std::fabs(e), 3.0 * scale) - innov_scale_));
  innov_prev_ = static_cast<float>(zc);
  if (innov_n_ < kInnovWarmup) ++innov_n_;
  return surprise;
}

double KpiDetector::DriftView(double u) {
  // E. S. Page, "Continuous inspection schemes", Biometrika 1954: a
  // one-sided cumulative sum of (u - k) each way accumulates a steady
  // one-sided drift of the innovations (a ramp or shift in AR(1) noise adds
  // (1 - rho) times its height plus rho times its slope to each one) while
  // zero-mean noise drains at k per point; the larger sum is judged by its
  // own EVT tail, like the other views. With k = 1 and the input clipped at
  // 1.5 only innovations beyond one sd count, at most 0.5 each: one spike
  // is the point view's business, a run of 2-3 sd points that the point
  // view's tail finds ordinary (a low count halved, a success rate's
  // building drop) becomes surprising within a few points. Round kpi6: KPI
  // check 0.849 -> 0.862 best F1-PA (held-out 0.852 -> 0.859, 0.840 ->
  // 0.852), NAB 57.13/47.68/65.42 -> 57.11/48.51/64.43 (docs/detection.md).
  drift_.Update(ClampOf(u, -kDriftClip, kDriftClip));
  const double s = drift_.Sum();
  const double surprise = spot_drift_.Surprise(s);
  spot_drift_.Update(spot_params_, s);
  return surprise;
}

double KpiDetector::WeekdayView(TimestampMs ts, double d, double floor) {
  // A daily profile takes every day for the same day, so a day whose whole
  // level departs from its weekday's (a holiday on a weekday, a blizzard: a
  // Thursday that looks like a Sunday) leaves residuals the point and mean
  // views find ordinary next to the weekly swing they see every weekend
  // (NAB nyc_taxi: Thanksgiving, Christmas and the January blizzard peaked
  // at evidence 2.25-3.04). The view keeps the mean deviation of each weekday
  // (the deseasonalised value against the slow level, in its scale; a
  // day's mean enters its weekday's at weight 1/4 when the day ends), and
  // judges an EWMA (two days) of the deviation less its weekday's mean: a
  // weekly profile at day resolution in 14 B instead of 7x the daily
  // profile's slots. Its surprise is the two-sided Gaussian tail of that
  // EWMA against its own slow mean square (the EWMA averages ~100 points or
  // more, so it is close to Gaussian where a point tail is not; a SPOT tail
  // fitted to this strongly autocorrelated stream capped the holidays at
  // surprise 1.8-3.2, round nab9). Ranking only: it raises no alarm.
  if (!views_on_profile_ || prof_period_ms_ != kDayMs || prof_step_ms_ <= 0 || slow_.count() < kLevelWarmup) {
    return 0.0;
  }
  const int64_t day = ts >= 0 ? ts / kDayMs : (ts - kDayMs + 1) / kDayMs;
  const uint8_t w = static_cast<uint8_t>(((day % 7) + 7) % 7);
  if (w != day_wd_) {
    if (day_n_ > 0 && day_wd_ < 7) {
      const double q = day_sum_ / day_n_ * 1000.0;  // the day's mean deviation
      const double m = (wd_seen_ & (1u << day_wd_)) ? wd_mean_[day_wd_] + kWeekdayAlpha * (q - wd_mean_[day_wd_]) : q;
      wd_mean_[day_wd_] = static_cast<int16_t>(std::lround(std::clamp(m, -32000.0, 32000.0)));
      wd_seen_ = static_cast<uint8_t>(wd_seen_ | (1u << day_wd_));
    }
    day_wd_ = w;
    day_sum_ = 0;
    day_n_ = 0;
  }
  const double e = std::clamp((d - slow_.level()) / slow_.scale(floor), -kWeekdayClip, kWeekdayClip);
  if (day_n_ < 0xffff) {  // (at steps under 1.4 s, the day's first 65 535 points)
    ++day_n_;
    day_sum_ = static_cast<float>(day_sum_ + e);
  }
  if (wd_seen_ != 0x7f) return 0.0;
  constexpr double kPerStepMs = 1.0 / (kWeekdayDays * static_cast<double>(kDayMs));
  const double inv_n = std::min(0.25, static_cast<double>(prof_step_ms_) * kPerStepMs);
  wd_ewma_ = static_cast<float>(wd_ewma_ + (e - wd_mean_[w] * 1e-3 - wd_ewma_) * inv_n);
  const double z2 = static_cast<double>(wd_ewma_) * wd_ewma_;
  const double spans = (wd_count_ + 1.0) * inv_n / kWeekdayVarSpan;  // the variance's age in its spans
  double surprise = 0;
  // Judged once the variance has seen half its span; below 2 sds (surprise
  // 1.7, under any report) the tail is not computed (no erfc and log10 on
  // every point of a daily series).
  if ((wd_count_ == 0xffff || wd_count_ * inv_n >= 0.5 * kWeekdayVarSpan) && wd_var_ > 0 && z2 > 4.0 * wd_var_) {
    const double z = std::sqrt(z2 / wd_var_);
    surprise = std::min(SpotThreshold::kMaxSurprise, -std::log10(std::max(1e-300, std::erfc(z / std::sqrt(2.0)))));
  }
  const double a = spans >= 1.0 ? inv_n / kWeekdayVarSpan : 1.0 / (wd_count_ + 1.0);
  wd_var_ = static_cast<float>(wd_var_ + a * ((wd_count_ > 10 ? std::min(z2, 9.0 * wd_var_) : z2) - wd_var_));
  if (wd_count_ < 0xffff) ++wd_count_;
  return surprise;
}

void KpiDetector::RestartWeekdayView() {
  std::fill(std::begin(wd_mean_), std::end(wd_mean_), int16_t{0});
  day_sum_ = wd_ewma_ = wd_var_ = 0;
  day_n_ = wd_count_ = 0;
  day_wd_ = 0xff;
  wd_seen_ = 0;
}

void KpiDetector::RestartMeanViews(bool on_profile) {
  // The mean views judge the raw value while the level is the primary
  // baseline and the value less the seasonal profile once that is ready (or
  // the raw value again on a special day, or after a re-profile drops or
  // changes the period). Their slow level, scale and tails are in the
  // units of one input: carried across a change, the slow level sat at the
  // raw mean while the input was now near 0 (a success rate: surprise 9-15
  // for ~100 points after its profile became ready), or their scale and
  // tails stayed those of the raw daily swing, so that the views were numb
  // on seasonal series for days. They restart on the new input instead
  // (the variance view's input is a residual over the current model's
  // scale whatever the model: its tail carries over). Round kpi4: KPI
  // check 0.832/0.846 -> 0.848/0.852, held-out 0.832/0.841 -> 0.850/0.842,
  // NAB 55.7/44.2/63.6 -> 57.2/48.4/65.2. (Before round kpi4 they
  // restarted only when the first profile was seasonal, while its
  // profile was not yet ready and their input still the raw value.)
  views_on_profile_ = on_profile;
  slow_.ResetAll();
  RestartWeekdayView();  // its deviations are in the slow scale's units
  short_started_ = false;
  spot_shift_ = SpotTail(true);
  spot_medium_ = SpotTail(true);
}

double KpiDetector::SustainedViews(double d, double ratio, double floor, double* sustained, double* variance) {
  *sustained = *variance = 0;
  if (!short_started_) {
    short_mean_ = static_cast<float>(d);
    medium_mean_ = static_cast<float>(d);
    short_started_ = true;
  }
  short_mean_ = static_cast<float>(short_mean_ + kShortAlpha * (d - short_mean_));
  // The variance view averages the smaller of two consecutive |residual|s:
  // a variance change is several large residuals in a row, while one spike
  // (the point view's business) cannot raise it, so spikes no longer
  // inflate its tail (a two-point minimum, the idea of robust scale
  // estimators such as Rousseeuw and Croux's, JASA 1993, at its smallest).
  // A residual that alarmed by the score threshold pairs as 0 (Update).
  const double r = std::min(ratio, 50.0);
  short_dev_ = static_cast<float>(short_dev_ + kShortAlpha * (std::min<double>(r, prev_ratio_) - short_dev_));
  prev_ratio_ = static_cast<float>(r);
  medium_mean_ = static_cast<float>(medium_mean_ + kMediumAlpha * (d - medium_mean_));
  if (slow_.count() >= kLevelWarmup) {
    const double zb = std::fabs(short_mean_ - slow_.level()) / slow_.scale(floor);
    *sustained = spot_shift_.Surprise(zb);
    spot_shift_.Update(spot_params_, zb);
    *variance = spot_var_.Surprise(short_dev_);
    spot_var_.Update(spot_params_, short_dev_);
    const double zm = MediumViewZ(slow_.scale(floor));
    *sustained = std::max(*sustained, spot_medium_.Surprise(zm));
    spot_medium_.Update(spot_params_, zm);
  }
  slow_.Learn(d, floor, 3.0);
  return std::max(*sustained, *variance);
}

double KpiDetector::MediumViewZ(double scale) const {
  // The medium mean (~100 points) remembers an excursion for a hundred
  // points after it ended: after a 25-point drop of a success rate the
  // value was back at once, but the medium view's surprise stayed at 3-4
  // for 12 points and more, false points right after the labelled segment
  // (round kpi5: 103 of the 472 false points within 10 points of a
  // segment's end on the KPI check were the medium view's). It now speaks
  // for a sustained change only while the short-term mean (~4 points)
  // still agrees: on the same side of the slow level, and the medium
  // deviation counted up to kMediumAgree times the short one (so a
  // building shift, where the short mean leads, is judged as before).
  const double dm = medium_mean_ - slow_.level(), ds = short_mean_ - slow_.level();
  if (dm * ds <= 0) return 0.0;
  return std::min(std::fabs(dm), kMediumAgree * std::fabs(ds)) / scale;
}

KpiVerdict KpiDetector::Judge(TimestampMs ts, double x, double* judged_floor, double* judged_level, bool* judged_profile,
                              double* profile_expected) {
  KpiVerdict v;
  const double floor = Floor();
  *judged_floor = floor;
  *judged_level = level_.level();
  *judged_profile = false;
  const bool special = cfg_.calendar != nullptr && cfg_.calendar->IsSpecialDay(ts);
  double expected, scale, z;
  uint32_t primary_bit = kDetLevel;
  double profile = 0;  // the seasonal profile's expected value (before the offset)
  if (seasonal_.enabled() && seasonal_.Ready(ts) && !special) {
    profile = seasonal_.Expected(ts);
    *judged_profile = true;
    *profile_expected = profile;
    expected = profile + season_offset_.level();
    scale = std::max(seasonal_.Scale(ts, floor), season_offset_.scale(floor));
    z = (x - expected) / scale;
    primary_bit = kDetSeasonal;
  } else {
    // (The level's residual only where it is the primary one.)
    expected = level_.level();
    scale = level_.scale(floor);
    z = level_.Z(x, floor);
  }
  double combined = std::fabs(z);
  uint32_t best_bit = primary_bit;
  double sustained = 0, variance = 0;  // surprises of the sustained views
  double weekday = 0;                  // the weekday view's surprise (ranking only)
  {
    const bool on_profile = primary_bit == kDetSeasonal;
    if (on_profile != views_on_profile_) RestartMeanViews(on_profile);
    const double d = on_profile ? x - profile : x;
    v.surprise = SustainedViews(d, std::fabs(x - expected) / scale, floor, &sustained, &variance);
    weekday = WeekdayView(ts, d, floor);
  }
  double zh = 0;
  if (hw_.ready() && (prof_detectors_ & kDetHoltWinters) && !special) {
    zh = (x - hw_.Forecast(ts)) / hw_.Scale(floor);
    // The forecast residual only counts where it agrees in direction with
    // the primary baseline (two baselines disagreeing is not evidence), and
    // where it is stronger. (Without a jump: on noise both halves of the
    // test are coin flips.)
    const bool stronger = (zh * z > 0) & (std::fabs(zh) > combined);
    combined = SelectOf(stronger, MinOf(std::fabs(zh), 2 * combined + 1e-12), combined);
    best_bit = stronger ? kDetHoltWinters : best_bit;
  }
  if (SpectralResidual* sr = parts_.sr()) {
    sr->Add(x);
    // The transform runs only for candidates: a point the baselines already
    // find unusual, or one near the learned extremes.
    const double zs = std::fabs(z) > kSrCandidate ? kSrToZ * sr->Score() : 0.0;
    if (zs > combined) {
      combined = zs;
      best_bit = kDetSpectral;
    }
  }
  if (prof_detectors_ & kDetLearnedLimits) {
    const double ls = limits_.Score(x, kLimitsWarmup);
    if (ls > 1 && cfg_.min_threshold * ls > combined) {
      combined = cfg_.min_threshold * ls;
      best_bit = kDetLearnedLimits;
    }
  }
  v.direction = z >= 0 ? Direction::kUp : Direction::kDown;
  const double threshold = std::max(cfg_.min_threshold, spot_.threshold(spot_params_)) * sensitivity_;
  const int hard = cfg_.hard_limits.Check(x);

  v.ready = true;
  v.expected = expected;
  v.lower = expected - threshold * scale;
  v.upper = expected + threshold * scale;
  v.score = combined;
  v.threshold = threshold;
  v.anomalous = combined > threshold;
  if (v.anomalous) v.fired |= best_bit;
  if (v.anomalous && best_bit != primary_bit && std::fabs(z) > threshold) v.fired |= primary_bit;
  // The point view's surprise is discounted in the ranking (v.surprise, what
  // `vigil eval` thresholds and the API reports) but not in the alarm
  // below: its alarms at surprise 3.7-4.2 were worth keeping (own-alarm
  // F1-PA -0.001 to -0.005 without them), and the daemon's paging moved with
  // them (`vigil bench e2e`: one gc-storm fault of 72 missed, detection
  // delay p50 0 -> 10 s), so the alarm judges the undiscounted surprise.
  const double innovation = InnovationView(z);
  const double point_tail = spot_.Surprise(combined);
  const double point_surprise = std::max(PointSurprise(point_tail), innovation);
  const double point_alarm = std::max(point_tail, innovation);
  double alarm_level = std::max(v.surprise, point_alarm);  // the surprise the alarm judges
  v.surprise = std::max(v.surprise, point_surprise);
  if (hard != 0) {
    v.anomalous = true;
    v.fired |= kDetHardLimits;
    v.direction = hard > 0 ? Direction::kUp : Direction::kDown;
    v.score = std::max(v.score, threshold);
    v.surprise = std::max(v.surprise, spot_.Surprise(v.score));
    alarm_level = std::max(alarm_level, v.surprise);
  }
  // The novelty view: a stretch unlike the series' past (series without a
  // period). It only ranks (KpiVerdict::Evidence, what `vigil eval` scores)
  // and never alarms: its alarms moved no NAB figure and cost the KPI check
  // event F1 0.002-0.003 (docs/detection.md, round nab5), so the suite's
  // alarms, and the daemon's paging, are those without it. A candidate is
  // judged on the undiscounted surprise (alarm_level).
  if (KnnNovelty* novelty = parts_.novelty()) {
    v.novelty = novelty->Update(x, alarm_level >= kNoveltyCandidate);
    parts_.NoteNextPoint();  // (which ring lines PrefetchParts loads for the next point)
  }
  // The weekday view ranks only, like the novelty view (after alarm_level).
  v.surprise = std::max(v.surprise, weekday);

  // Change points: CUSUM on the clipped residual; BOCPD for step-like series.
  const double zc = std::clamp(z, -kZClip, kZClip);
  const int shift = cusum_.Update(zc);
  bool confirmed_shift = false;
  if (Bocpd* bocpd = parts_.bocpd()) {
    // BOCPD runs on means of kBocpdBlock residuals (the mean of four
    // unit-variance residuals has sd 1/2, which also tempers heavy tails),
    // a quarter of the cost and still within a few points of a change.
    bocpd_acc_ += static_cast<float>(zc);
    if (++bocpd_n_ == kBocpdBlock) {
      bocpd->Update(bocpd_acc_ / kBocpdBlock);
      bocpd_acc_ = 0;
      bocpd_n_ = 0;
      if (bocpd->RecentChangeProbability(cfg_.rebaseline_after / kBocpdBlock + 1) > 0.95 &&
          bocpd->MapRunLength() >= 2 && std::fabs(bocpd->MapMean()) * 2 > cfg_.min_threshold) {
        confirmed_shift = true;
      }
    }
  }
  if (shift != 0 && !v.anomalous && run_ > 0) {
    // A smaller shift that persisted: report it once as a level shift.
    v.anomalous = true;
    v.fired |= kDetCusum;
    v.direction = shift > 0 ? Direction::kUp : Direction::kDown;
  }

  // Slow trends.
  // (TrendTest::Update, its per-point sum in this object and its blocks in
  // the cold block: the same sums in the same order.)
  if (prof_detectors_ & kDetTrend) trend_sum_ += x;
  if ((prof_detectors_ & kDetTrend) && ++trend_in_ >= trend_block_) {
    const double block_sum = trend_sum_;
    trend_in_ = 0;
    trend_sum_ = 0;
    TrendTest& trend = cold_->trend;
    const TrendTest::Result tr = trend.Close(block_sum);
    if (tr.evaluated) {
      // (The Theil-Sen slope only where the rest already points at a trend.)
      if (trend_state_ == 0 && std::fabs(tr.mk_z) > 4.5 && !seasonal_.enabled() &&
          std::fabs(trend.Slope() * trend.span_points()) > 2 * threshold * level_.scale(floor)) {
        trend_state_ = tr.mk_z > 0 ? 1 : -1;
        v.anomalous = true;
        v.fired |= kDetTrend;
        v.direction = trend_state_ > 0 ? Direction::kUp : Direction::kDown;
        v.pattern = trend_state_ > 0 ? KpiPattern::kSlowRise : KpiPattern::kSlowFall;
      } else if (trend_state_ != 0 && std::fabs(tr.mk_z) < 2) {
        trend_state_ = 0;
      }
    }
  }

  // The calibrated surprise alarms too (the same risk on every series and
  // view, where the score threshold is the point view's alone). Such an
  // alarm is reported but, unlike a score alarm, does not count as an
  // excursion point for learning and re-baselining: the baselines adapt as
  // they did without it. It alarms once per surprising stretch (below),
  // then stays quiet until the surprise falls well back (a refractory
  // period: the onset is the news; a sustained view can stay surprising
  // for a hundred points).
  bool variance_alarm = false;
  const bool surprising = !v.anomalous && alarm_level > cfg_.alarm_surprise * sensitivity_;
  // The stretch ends only when the surprise has fallen well back (below
  // kSurpriseEndFraction of the alarm level, hysteresis): a surprise that
  // hovers around the alarm level is one stretch, not a string of onsets.
  const bool still = surprise_run_ > 0 && alarm_level > kSurpriseEndFraction * cfg_.alarm_surprise * sensitivity_;
  surprise_run_ = (surprising || still) ? static_cast<int16_t>(std::min(surprise_run_ + 1, 30000)) : int16_t{0};
  // The onset alarms once: at the stretch's first point when the surprise
  // clears the alarm level by kSurpriseAtOnceMargin, else at its second
  // point when that one is still surprising (above kSurpriseConfirmShare of
  // the alarm level): a lone point just over the level is the expected
  // 1e-3.2 of noise, a change stays. (A first-point alarm skips the run to
  // 2, so the confirmation point does not alarm again.)
  bool fire = false;
  if (surprise_run_ == 1 && surprising && alarm_level > (cfg_.alarm_surprise + kSurpriseAtOnceMargin) * sensitivity_) {
    fire = true;
    surprise_run_ = 2;
  } else if (surprise_run_ == 2 && !v.anomalous && alarm_level > kSurpriseConfirmShare * cfg_.alarm_surprise * sensitivity_) {
    fire = true;
  }
  if (fire) {
    v.anomalous = true;
    v.by_surprise = true;
    if (point_alarm >= std::max(sustained, variance)) {
      v.fired |= best_bit;
    } else if (sustained >= variance) {
      v.fired |= kDetCusum;  // a sustained shift of the mean
    } else {
      variance_alarm = true;
      v.fired |= primary_bit;
    }
  }

  // Pattern, excursion bookkeeping.
  if (v.anomalous && v.pattern == KpiPattern::kNone) {
    const bool same = run_ > 0 && v.direction == run_dir_;
    if ((run_ > 0 && !same) || variance_alarm) {
      v.pattern = KpiPattern::kVarianceChange;  // flips sides within one excursion
    } else if ((v.fired & kDetCusum) || (same && run_ + 1 >= cfg_.level_shift_points) || confirmed_shift) {
      v.pattern = v.direction == Direction::kUp ? KpiPattern::kLevelShiftUp : KpiPattern::kLevelShiftDown;
    } else if (after_jump_) {
      v.pattern = KpiPattern::kSustainedAfterJump;
    } else {
      v.pattern = v.direction == Direction::kUp ? KpiPattern::kSpike : KpiPattern::kDip;
    }
  }
  if (confirmed_shift && run_ >= 3) Rebaseline(ts, x);
  return v;
}

void KpiDetector::Rebaseline(TimestampMs ts, double x) {
  const double mean = run_ > 0 ? run_sum_ / run_ : x;
  jump_level_ = static_cast<float>(mean - level_.level());
  jump_offset_ = jump_hw_ = 0;
  level_.Reset(mean);
  if (seasonal_.enabled()) {
    jump_offset_ = static_cast<float>(mean - seasonal_.Expected(ts) - season_offset_.level());
    jump_hw_ = static_cast<float>(mean - hw_.Forecast(ts));
    season_offset_.Reset(mean - seasonal_.Expected(ts));
    hw_.ShiftLevel(jump_hw_);
  }
  since_jump_ = 0;
  after_jump_ = true;
  after_jump_points_ = 0;
  RestartChangeEvidence();
}

void KpiDetector::RestartChangeEvidence() {
  // The baselines moved: what the change detectors and the alarm run had
  // gathered was measured against the old ones.
  cusum_.Reset();
  if (Bocpd* bocpd = parts_.bocpd()) bocpd->Reset();
  run_ = 0;
  run_sum_ = 0;
}

bool KpiDetector::RevertJump(TimestampMs ts, double x) {
  // Most excursions end: a value that is back at the baseline from before
  // the last re-baseline (within 2 sds of it, and over 4 sds from the
  // current one) is the excursion's end, not a new one, so the baselines
  // go back instead of alarming until they re-baseline again.
  const double floor = Floor();
  double e = level_.level(), sc = level_.scale(floor), jump = jump_level_;
  if (seasonal_.enabled() && seasonal_.Ready(ts) && !(cfg_.calendar != nullptr && cfg_.calendar->IsSpecialDay(ts))) {
    e = seasonal_.Expected(ts) + season_offset_.level();
    sc = std::max(seasonal_.Scale(ts, floor), season_offset_.scale(floor));
    jump = jump_offset_;
  }
  if (std::fabs(x - (e - jump)) > 2 * sc || std::fabs(x - e) < 4 * sc) return false;
  level_.Reset(level_.level() - jump_level_);
  if (seasonal_.enabled()) {
    season_offset_.Reset(season_offset_.level() - jump_offset_);
    hw_.ShiftLevel(-jump_hw_);
  }
  after_jump_ = false;
  since_jump_ = 0xffff;
  RestartChangeEvidence();
  return true;
}

void KpiDetector::Learn(TimestampMs ts, double x, bool anomalous, double floor, const double* profile_expected) {
  // Anomalous points still teach, through the Huber clip (their pull is
  // bounded); a long excursion is accepted by Rebaseline instead.
  const double clip = anomalous ? 1.0 : 3.0;
  level_.Learn(x, floor, clip);
  if (seasonal_.enabled() && !(cfg_.calendar != nullptr && cfg_.calendar->IsSpecialDay(ts))) {
    if (seasonal_.Ready(ts)) season_offset_.Learn(x - (profile_expected ? *profile_expected : seasonal_.Expected(ts)), floor, clip);
    if (!anomalous) {
      seasonal_.Learn(ts, x - season_offset_.level(), floor);
      hw_.Learn(ts, x, floor);
    }
  }
  limits_.Learn(x, level_.level());  // always: it must have seen a long history before it may judge
}

KpiVerdict KpiDetector::Update(TimestampMs ts, double x) {
  KpiVerdict v;
  if (!std::isfinite(x)) return v;
  if (cfg_.calendar != nullptr && !cfg_.calendar->InWindow(ts)) return v;
  int64_t missing = 0;
  if (have_last_ && prof_step_ms_ > 0 && ts - last_ts_ > cfg_.gap_steps * prof_step_ms_) {
    missing = ts - last_ts_;
    cusum_.Reset();  // a gap is not evidence of a shift
    drift_.Reset();
  }
  have_last_ = true;
  last_ts_ = ts;

  // Learning buffer, history.
  if (!profiled_) {
    if (cold_->buf_ts.size() == cold_->buf_ts.capacity()) {
      // The whole buffer at the first point (as the constructor reserved
      // it before round hot: a first 64-point buffer, freed at the 65th
      // point, left holes between the histories, +120 B RSS per series
      // in kpi_bench), not a doubling series of allocations.
      const size_t want = LearningCapacity(cold_->buf_ts.size() + 1);
      cold_->buf_ts.reserve(want);
      cold_->buf_values.reserve(want);
    }
    cold_->buf_ts.push_back(ts);
    cold_->buf_values.push_back(static_cast<float>(x));
  }
  if (cfg_.reprofile) AddHistory(ts, x);

  if (!profiled_) {
    // Before the first profile only the robust level judges.
    if (level_.count() >= kLevelWarmup) {
      const double floor = std::max(1e-3 * std::fabs(level_.level()), 1e-9);
      v.ready = true;
      v.expected = level_.level();
      const double sc = level_.scale(floor);
      v.score = std::fabs(x - v.expected) / sc;
      v.threshold = 2 * cfg_.min_threshold * sensitivity_;
      v.lower = v.expected - v.threshold * sc;
      v.upper = v.expected + v.threshold * sc;
      v.direction = x >= v.expected ? Direction::kUp : Direction::kDown;
      v.anomalous = v.score > v.threshold;
      // A learning-phase alarm (twice the normal threshold over the level)
      // ranks at least at the risk of a calibrated score alarm, -log10 of
      // spot_risk: the point tail is still young here (Cantelli's bound,
      // capped at 4, then the point discount), so the first 200 points
      // after the level warmed up could not rank above 3 by the point view
      // however far out they were, and windows inside the learning phase
      // went unfound (exchange-3_cpc row 439: z 22.8, surprise 3.6). Ranking
      // only: the learning phase has no surprise alarm. Round nab6: NAB
      // 62.57/55.62/69.59 -> 64.08/56.40/70.42, the KPI check unchanged.
      const double tail = spot_.Surprise(v.score);
      v.surprise = v.anomalous ? std::max(tail, std::min(SpotThreshold::kMaxSurprise, -std::log10(cfg_.spot_risk))) : PointSurprise(tail);
      spot_.Update(spot_params_, v.score);  // SPOT calibrates on the learning phase
      // The sustained views judge the learning phase too (on the raw
      // value), so that their tails are calibrated by the first profile and
      // a shift inside the first profile_after points is seen.
      double sustained, variance;
      v.surprise = std::max(v.surprise, SustainedViews(x, v.score, floor, &sustained, &variance));
      if (v.anomalous) {
        v.fired = kDetLevel;
        v.pattern = v.direction == Direction::kUp ? KpiPattern::kSpike : KpiPattern::kDip;
      }
    }
    level_.Learn(x, std::max(1e-3 * std::fabs(level_.level()), 1e-9), v.anomalous ? 1.0 : 3.0);
    if (static_cast<int>(cold_->buf_ts.size()) >= cfg_.profile_after) {
      std::vector<double> vals(cold_->buf_values.begin(), cold_->buf_values.end());
      Build(ProfileSeries(cold_->buf_ts, vals));
      cold_->buf_ts.clear();
      cold_->buf_ts.shrink_to_fit();
      cold_->buf_values.clear();
      cold_->buf_values.shrink_to_fit();
    }
    v.missing_ms = missing;
    return v;
  }

  if (since_jump_ < kRevertWindow) {
    ++since_jump_;
    RevertJump(ts, x);
  }
  double judged_floor = 0, judged_level = 0, profile_expected = 0;
  bool judged_profile = false;
  v = Judge(ts, x, &judged_floor, &judged_level, &judged_profile, &profile_expected);
  v.missing_ms = missing;
  if (v.missing_ms > 0 && v.anomalous && v.fired == kDetCusum) v.anomalous = v.by_surprise = false;
  // (Judge took the point view's surprise; a hard limit only raises the
  // score to the threshold.) An excursion is one peak of the point view's
  // tail: its first alarm is learned, the alarms that continue it are not
  // (ContinuesExcursion). Labelled anomalies are ~1-2 % of the points, as
  // many as SPOT's peaks over its 98 % initial threshold; a shift or drop
  // learned point by point until its re-baseline (12 points) filled the
  // tail with the anomaly's own sizes, and the threshold climbed within the
  // excursion (z 5 -> 10 over 20 points on a success rate), so that the
  // next, smaller anomaly had a low surprise (round kpi4: KPI check
  // 0.825/0.827 -> 0.832/0.846, held-out 0.806/0.819 -> 0.832/0.841).
  if (!ContinuesExcursion(v)) spot_.Update(spot_params_, v.score);

  // Excursion state.
  // A surprise alarm is not an excursion point (see Judge); its onset is
  // the first alarm of any kind after a quiet stretch.
  const bool excursion = v.anomalous && !v.by_surprise;
  // A residual the score threshold alarmed on is the point view's: it does
  // not pair up into the variance view (a two-point spike is not a
  // variance change, and it would inflate that view's tail).
  if (excursion) prev_ratio_ = 0;
  if (v.by_surprise) v.onset = alarm_quiet_ >= kQuietToEnd;
  alarm_quiet_ = v.anomalous ? 0 : std::min(alarm_quiet_ + 1, 1 << 20);
  if (excursion) {
    if (run_ == 0 || v.direction != run_dir_) {
      v.onset = run_ == 0 && quiet_ >= kQuietToEnd;
      run_ = 0;
      run_sum_ = 0;
      run_dir_ = v.direction;
    }
    ++run_;
    run_sum_ += x;
    quiet_ = 0;
    if (run_ >= cfg_.rebaseline_after) Rebaseline(ts, x);
  } else {
    if (++quiet_ >= kQuietToEnd) {
      run_ = 0;
      run_sum_ = 0;
    }
  }
  if (after_jump_ && ++after_jump_points_ > kAfterJumpPoints) after_jump_ = false;
  // Learn's floor and seasonal expected value are Judge's unless a
  // re-baseline moved the level since (the seasonal profile learns only in
  // Learn, so its expected value at ts is the one Judge computed).
  const double floor = level_.level() == judged_level ? judged_floor : Floor();
  Learn(ts, x, excursion, floor, judged_profile ? &profile_expected : nullptr);
  return v;
}

bool KpiDetector::ContinuesExcursion(const KpiVerdict& v) const {
  // run_ still counts the alarms before this point (kQuietToEnd normal
  // points end a run); a surprise alarm is not an excursion point.
  return v.anomalous && !v.by_surprise && run_ > 0;
}

double KpiDetector::NextSensitivity(double s, bool false_alarm) {
  return false_alarm ? std::min(4.0, s * 1.25) : std::max(0.5, s * 0.9);
}

void KpiDetector::SetSensitivity(double s) { sensitivity_ = static_cast<float>(std::clamp(s, 0.5, 4.0)); }

bool KpiDetector::BandAt(TimestampMs ts, double* expected, double* lower, double* upper) const {
  if (level_.count() < kLevelWarmup) return false;
  const double floor = profiled_ ? Floor() : std::max(1e-3 * std::fabs(level_.level()), 1e-9);
  double e = level_.level(), sc = level_.scale(floor);
  if (seasonal_.enabled() && seasonal_.Ready(ts) && !(cfg_.calendar != nullptr && cfg_.calendar->IsSpecialDay(ts))) {
    e = seasonal_.Expected(ts) + season_offset_.level();
    sc = std::max(seasonal_.Scale(ts, floor), season_offset_.scale(floor));
  }
  const double thr = (profiled_ ? std::max(cfg_.min_threshold, spot_.threshold(spot_params_)) : 2 * cfg_.min_threshold) * sensitivity_;
  *expected = e;
  *lower = e - thr * sc;
  *upper = e + thr * sc;
  return true;
}

size_t KpiDetector::LearningCapacity(size_t n) const {
  const size_t full = static_cast<size_t>(std::clamp(cfg_.profile_after, 1, 4096));
  size_t c = 0;
  while (c < n) c = std::max(full, 2 * c);
  return c;
}

size_t KpiDetector::StateBytes() const {
  size_t b = sizeof(*this) + sizeof(Cold) + cold_->buf_ts.capacity() * sizeof(TimestampMs) +
             cold_->buf_values.capacity() * sizeof(float) + cold_->hist.capacity() * sizeof(int16_t);
  b += seasonal_.StateBytes() - sizeof(seasonal_) + hw_.StateBytes() - sizeof(hw_);
  b += parts_.bytes();
  return b;
}

namespace {
constexpr uint32_t kSuiteSnapshotVersion = 11;  // 2: alarm_quiet_, surprise_run_; 3: innovation view, float SPOT sums, no fast_dev_; 4: prev_ratio_; 5: jump_*, since_jump_, 32-bit history counters; 6: seasonal gain, narrower counters, float sensitivity; 7: views_on_profile_; 8: drift view; 9: KNN novelty view, int16 history; 10: weekday view; 11: BOCPD runs as three arrays

// The format version and the sizes of the parts copied raw: a build that
// changes any of them reads a different fingerprint and relearns.
uint32_t SuiteLayoutFingerprint() {
  uint64_t h = kSuiteSnapshotVersion;
  for (size_t part : {sizeof(KpiProfile), sizeof(RobustLevel), sizeof(SpectralResidual), sizeof(Cusum), sizeof(Bocpd),
                      sizeof(TrendTest), sizeof(LearnedLimits), sizeof(Direction)}) {
    h = h * 1000003u + part;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}
}  // namespace

void KpiDetector::AppendTo(std::string* out) const {
  using snapshot_fields::PutPod;
  using snapshot_fields::PutPodVector;
  std::string b;
  bytes::PutFixed32(&b, SuiteLayoutFingerprint());
  PutPod(&b, cold_->profile);
  PutPod(&b, profiled_);
  PutPodVector(&b, cold_->buf_ts);
  PutPodVector(&b, cold_->buf_values);
  PutPodVector(&b, cold_->hist);
  PutPod(&b, hist_block_);
  PutPod(&b, hist_acc_n_);
  PutPod(&b, hist_acc_);
  PutPod(&b, cold_->hist_first_ts);
  PutPod(&b, cold_->hist_offset);
  PutPod(&b, cold_->hist_step);
  PutPod(&b, level_);
  PutPod(&b, season_offset_);
  seasonal_.AppendTo(&b);
  hw_.AppendTo(&b);
  PutPod(&b, static_cast<uint8_t>(parts_.sr() != nullptr));
  if (parts_.sr()) PutPod(&b, *parts_.sr());
  PutPod(&b, cusum_);
  PutPod(&b, static_cast<uint8_t>(parts_.bocpd() != nullptr));
  if (parts_.bocpd()) PutPod(&b, *parts_.bocpd());
  PutPod(&b, bocpd_acc_);
  PutPod(&b, bocpd_n_);
  // The trend test with its partial block, as it was when it summed it
  // itself (set for the copy and cleared again: the cold block's bytes,
  // padding included, are what a restored detector parsed).
  cold_->trend.SetPartial(trend_in_, trend_sum_);
  PutPod(&b, cold_->trend);
  cold_->trend.SetPartial(0, 0);
  PutPod(&b, limits_);
  spot_.AppendTo(spot_params_, &b);
  PutPod(&b, slow_);
  PutPod(&b, short_mean_);
  PutPod(&b, short_dev_);
  PutPod(&b, prev_ratio_);
  PutPod(&b, medium_mean_);
  PutPod(&b, short_started_);
  PutPod(&b, views_on_profile_);
  spot_shift_.AppendTo(spot_params_, &b);
  spot_var_.AppendTo(spot_params_, &b);
  spot_medium_.AppendTo(spot_params_, &b);
  PutPod(&b, innov_prev_);
  PutPod(&b, innov_c0_);
  PutPod(&b, innov_c1_);
  PutPod(&b, innov_scale_);
  PutPod(&b, innov_n_);
  spot_innov_.AppendTo(spot_params_, &b);
  PutPod(&b, drift_);
  spot_drift_.AppendTo(spot_params_, &b);
  PutPod(&b, wd_mean_);
  PutPod(&b, day_sum_);
  PutPod(&b, wd_ewma_);
  PutPod(&b, wd_var_);
  PutPod(&b, day_n_);
  PutPod(&b, wd_count_);
  PutPod(&b, day_wd_);
  PutPod(&b, wd_seen_);
  PutPod(&b, sensitivity_);
  PutPod(&b, last_ts_);
  PutPod(&b, have_last_);
  PutPod(&b, run_);
  PutPod(&b, quiet_);
  PutPod(&b, alarm_quiet_);
  PutPod(&b, surprise_run_);
  PutPod(&b, run_dir_);
  PutPod(&b, run_sum_);
  PutPod(&b, jump_level_);
  PutPod(&b, jump_offset_);
  PutPod(&b, jump_hw_);
  PutPod(&b, since_jump_);
  PutPod(&b, after_jump_);
  PutPod(&b, after_jump_points_);
  PutPod(&b, trend_state_);
  PutPod(&b, static_cast<uint8_t>(parts_.novelty() != nullptr));
  if (parts_.novelty()) parts_.novelty()->AppendTo(&b);
  bytes::PutLengthPrefixed(out, b);
}

Status KpiDetector::ParseFrom(std::string_view* in, bool* restored) {
  using snapshot_fields::GetPod;
  using snapshot_fields::GetPodVector;
  *restored = false;
  std::string_view b;
  if (!bytes::GetLengthPrefixed(in, &b)) return snapshot_fields::Truncated("kpi suite");
  uint32_t fingerprint = 0;
  if (!bytes::GetFixed32(&b, &fingerprint)) return snapshot_fields::Truncated("kpi suite fingerprint");
  if (fingerprint != SuiteLayoutFingerprint()) return Status::Ok();  // another build's layout: relearn

  KpiDetector d(cfg_);
  const size_t max_buffer = static_cast<size_t>(cfg_.profile_after) + 1;
  uint8_t has_sr = 0, has_bocpd = 0;
  // The SPOT tails' configuration as saved: the tails now take the
  // detector's (spot_params_, from the constructor's configuration, as the
  // rest of the configuration always did; before round hot2 each tail kept
  // the saved copy of its own).
  SpotParams parsed_params;
  Status s = GetPod(&b, &d.cold_->profile, "kpi profile");
  if (s.ok()) d.SetProfile(d.cold_->profile);
  if (s.ok()) s = GetPod(&b, &d.profiled_, "kpi profiled");
  if (s.ok()) s = GetPodVector(&b, &d.cold_->buf_ts, "kpi learning buffer", max_buffer);
  if (s.ok()) s = GetPodVector(&b, &d.cold_->buf_values, "kpi learning buffer", max_buffer);
  if (s.ok() && d.cold_->buf_ts.size() != d.cold_->buf_values.size()) s = Status::Corruption("kpi learning buffer sizes differ");
  if (s.ok()) s = GetPodVector(&b, &d.cold_->hist, "kpi history", kHistory);
  if (s.ok()) s = GetPod(&b, &d.hist_block_, "kpi history block");
  if (s.ok()) s = GetPod(&b, &d.hist_acc_n_, "kpi history count");
  if (s.ok()) s = GetPod(&b, &d.hist_acc_, "kpi history sum");
  if (s.ok()) s = GetPod(&b, &d.cold_->hist_first_ts, "kpi history start");
  if (s.ok()) s = GetPod(&b, &d.cold_->hist_offset, "kpi history offset");
  if (s.ok()) s = GetPod(&b, &d.cold_->hist_step, "kpi history step");
  if (s.ok() && !(d.cold_->hist_step >= 0 && std::isfinite(d.cold_->hist_step) && std::isfinite(d.cold_->hist_offset))) {
    s = Status::Corruption("kpi history step out of range");
  }
  if (s.ok()) s = GetPod(&b, &d.level_, "kpi level");
  if (s.ok()) s = GetPod(&b, &d.season_offset_, "kpi seasonal offset");
  if (s.ok()) s = d.seasonal_.ParseFrom(&b);
  if (s.ok()) s = d.hw_.ParseFrom(&b);
  if (s.ok()) s = GetPod(&b, &has_sr, "kpi spectral residual flag");
  if (s.ok() && has_sr != 0) {
    d.parts_.Reshape(d.parts_.mask() | KpiParts::kSpectral);
    s = GetPod(&b, d.parts_.sr(), "kpi spectral residual");
  }
  if (s.ok()) s = GetPod(&b, &d.cusum_, "kpi cusum");
  if (s.ok()) s = GetPod(&b, &has_bocpd, "kpi bocpd flag");
  if (s.ok() && has_bocpd != 0) {
    d.parts_.Reshape(d.parts_.mask() | KpiParts::kBocpd);
    s = GetPod(&b, d.parts_.bocpd(), "kpi bocpd");
  }
  if (s.ok()) s = GetPod(&b, &d.bocpd_acc_, "kpi bocpd block sum");
  if (s.ok()) s = GetPod(&b, &d.bocpd_n_, "kpi bocpd block count");
  if (s.ok()) s = GetPod(&b, &d.cold_->trend, "kpi trend");
  if (s.ok()) {
    // (Its partial block moves to the hot object.)
    TrendTest& t = d.cold_->trend;
    d.trend_block_ = t.block();
    d.trend_in_ = t.in_block();
    d.trend_sum_ = t.partial_sum();
    t.SetPartial(0, 0);
  }
  if (s.ok()) s = GetPod(&b, &d.limits_, "kpi learned limits");
  if (s.ok()) s = d.spot_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = GetPod(&b, &d.slow_, "kpi slow level");
  if (s.ok()) s = GetPod(&b, &d.short_mean_, "kpi short mean");
  if (s.ok()) s = GetPod(&b, &d.short_dev_, "kpi short deviation");
  if (s.ok()) s = GetPod(&b, &d.prev_ratio_, "kpi previous residual ratio");
  if (s.ok()) s = GetPod(&b, &d.medium_mean_, "kpi medium mean");
  if (s.ok()) s = GetPod(&b, &d.short_started_, "kpi short started");
  if (s.ok()) s = GetPod(&b, &d.views_on_profile_, "kpi mean views input");
  if (s.ok()) s = d.spot_shift_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = d.spot_var_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = d.spot_medium_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = GetPod(&b, &d.innov_prev_, "kpi innovation previous");
  if (s.ok()) s = GetPod(&b, &d.innov_c0_, "kpi innovation c0");
  if (s.ok()) s = GetPod(&b, &d.innov_c1_, "kpi innovation c1");
  if (s.ok()) s = GetPod(&b, &d.innov_scale_, "kpi innovation scale");
  if (s.ok()) s = GetPod(&b, &d.innov_n_, "kpi innovation count");
  if (s.ok()) s = d.spot_innov_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = GetPod(&b, &d.drift_, "kpi drift");
  if (s.ok()) s = d.spot_drift_.ParseFrom(&b, &parsed_params);
  if (s.ok()) s = GetPod(&b, &d.wd_mean_, "kpi weekday means");
  if (s.ok()) s = GetPod(&b, &d.day_sum_, "kpi day mean");
  if (s.ok()) s = GetPod(&b, &d.wd_ewma_, "kpi weekday ewma");
  if (s.ok()) s = GetPod(&b, &d.wd_var_, "kpi weekday variance");
  if (s.ok()) s = GetPod(&b, &d.day_n_, "kpi day count");
  if (s.ok()) s = GetPod(&b, &d.wd_count_, "kpi weekday count");
  if (s.ok()) s = GetPod(&b, &d.day_wd_, "kpi day weekday");
  if (s.ok()) s = GetPod(&b, &d.wd_seen_, "kpi weekdays seen");
  if (s.ok() && !(std::isfinite(d.day_sum_) && std::isfinite(d.wd_ewma_) && d.wd_var_ >= 0 && std::isfinite(d.wd_var_) &&
                   (d.day_wd_ < 7 || d.day_wd_ == 0xff))) {
    s = Status::Corruption("kpi weekday view out of range");
  }
  if (s.ok()) s = GetPod(&b, &d.sensitivity_, "kpi sensitivity");
  if (s.ok()) s = GetPod(&b, &d.last_ts_, "kpi last timestamp");
  if (s.ok()) s = GetPod(&b, &d.have_last_, "kpi have last");
  if (s.ok()) s = GetPod(&b, &d.run_, "kpi run");
  if (s.ok()) s = GetPod(&b, &d.quiet_, "kpi quiet");
  if (s.ok()) s = GetPod(&b, &d.alarm_quiet_, "kpi alarm quiet");
  if (s.ok()) s = GetPod(&b, &d.surprise_run_, "kpi surprise run");
  if (s.ok()) s = GetPod(&b, &d.run_dir_, "kpi run direction");
  if (s.ok()) s = GetPod(&b, &d.run_sum_, "kpi run sum");
  if (s.ok()) s = GetPod(&b, &d.jump_level_, "kpi jump level");
  if (s.ok()) s = GetPod(&b, &d.jump_offset_, "kpi jump offset");
  if (s.ok()) s = GetPod(&b, &d.jump_hw_, "kpi jump hw");
  if (s.ok()) s = GetPod(&b, &d.since_jump_, "kpi since jump");
  if (s.ok()) s = GetPod(&b, &d.after_jump_, "kpi after jump");
  if (s.ok()) s = GetPod(&b, &d.after_jump_points_, "kpi after jump points");
  if (s.ok()) s = GetPod(&b, &d.trend_state_, "kpi trend state");
  uint8_t has_novelty = 0;
  if (s.ok()) s = GetPod(&b, &has_novelty, "kpi novelty flag");
  if (s.ok() && has_novelty != 0) {
    d.parts_.Reshape(d.parts_.mask() | KpiParts::kNovelty);
    s = d.parts_.novelty()->ParseFrom(&b);
  }
  if (s.ok() && !b.empty()) s = Status::Corruption("kpi suite snapshot has trailing bytes");
  if (!s.ok()) return s;
  // The capacities the saved detector had: a profiled one holds no learning
  // buffer (a restored series once kept 7 KiB of it), a learning one the
  // capacity Update gives it, and the history holds kHistory.
  if (d.profiled_) {
    d.cold_->buf_ts.shrink_to_fit();
    d.cold_->buf_values.shrink_to_fit();
  } else {
    d.cold_->buf_ts.reserve(d.LearningCapacity(d.cold_->buf_ts.size()));
    d.cold_->buf_values.reserve(d.LearningCapacity(d.cold_->buf_values.size()));
  }
  if (!d.cold_->hist.empty() || d.hist_acc_n_ != 0) d.cold_->hist.reserve(kHistory);
  *this = std::move(d);
  *restored = true;
  return Status::Ok();
}

void KpiDetector::PrefetchParts() const {
  seasonal_.Prefetch();
  hw_.Prefetch();
  parts_.Prefetch();
  // The cold block only where the next point reads it: its history part
  // where a history block starts or ends, its trend test where a trend
  // block ends (from hot counters: no load waits here).
  if (cfg_.reprofile && (hist_acc_n_ == 0 || hist_acc_n_ + 1 >= hist_block_)) {
    const Cold& c = *cold_;
    PrefetchBytes(&c.hist, static_cast<size_t>(reinterpret_cast<const char*>(&c.trend) - reinterpret_cast<const char*>(&c.hist)));
  }
  if ((prof_detectors_ & kDetTrend) && trend_in_ + 1 >= trend_block_) PrefetchBytes(&cold_->trend, sizeof(TrendTest));
}

}  // namespace vigil
