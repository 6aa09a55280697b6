// Unit tests of the KPI detector suite on synthetic series: each test would
// fail if its detector were broken (no alarm, wrong pattern, or alarms on
// normal data).
#include "detect/kpi_detector.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/byte_codec.h"

namespace vigil {
namespace {

constexpr int64_t kMinute = 60000;
constexpr int64_t kDay = 86400000;

struct FeedResult {
  int alarms = 0;        // anomalous points
  int onsets = 0;
  int first_alarm = -1;  // index of the first anomalous point
  std::vector<KpiVerdict> verdicts;
};

template <typename F>
FeedResult Feed(KpiDetector& det, int n, int64_t step, F value, int from = 0) {
  FeedResult r;
  for (int i = 0; i < n; ++i) {
    KpiVerdict v = det.Update(static_cast<int64_t>(i + from) * step, value(i + from));
    if (v.anomalous) {
      ++r.alarms;
      if (r.first_alarm < 0) r.first_alarm = i + from;
    }
    r.onsets += v.onset;
    r.verdicts.push_back(v);
  }
  return r;
}

TEST(RobustLevel, LearnsLevelAndScaleAndResistsOutliers) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(100, 2);
  RobustLevel l(0.05f, 0.02f);
  for (int i = 0; i < 2000; ++i) l.Learn(noise(rng), 1e-9);
  EXPECT_NEAR(l.level(), 100, 1.0);
  EXPECT_NEAR(l.scale(1e-9), 2.0, 0.5);
  const double before = l.level();
  l.Learn(1e6, 1e-9);  // one huge outlier moves the level by at most alpha * 3 scales
  EXPECT_LT(std::fabs(l.level() - before), 0.5);
}

TEST(SpotThreshold, ThresholdNearTheTrueQuantileAndAlarmsBeyond) {
  std::mt19937 rng(2);
  std::exponential_distribution<double> e(1.0);
  SpotThreshold spot(1e-3, 1000, 0.0);
  for (int i = 0; i < 20000; ++i) spot.Update(e(rng));
  ASSERT_TRUE(spot.calibrated());
  // Exp(1): P(X > z) = 1e-3 at z = 6.9.
  EXPECT_NEAR(spot.threshold(), 6.9, 1.2);
  EXPECT_TRUE(spot.Update(20.0));
  EXPECT_GT(spot.Surprise(20.0), spot.Surprise(5.0));
  EXPECT_NEAR(spot.Surprise(spot.threshold()), 3.0, 0.3);  // -log10(1e-3)
}

TEST(SpotThreshold, ATailOfNearEqualScoresGivesABoundedSurprise) {
  // A near-flat stretch: every score within 1 + 1e-3, so the fitted
  // excesses have a scale of ~1e-5 and a score of 3 lies ~1e5 scales out
  // (the KNN view on rogue_agent_key_updown reported a novelty of 1.4e10).
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1e-3);
  SpotThreshold spot(1e-4, 200, 0.0);
  for (int i = 0; i < 5000; ++i) spot.Update(1.0 + u(rng));
  ASSERT_TRUE(spot.calibrated());
  EXPECT_LE(spot.Surprise(3.0), 30.0);  // SpotThreshold::kMaxSurprise
  EXPECT_GT(spot.Surprise(3.0), 20.0);
}

// Round hot2: a SpotTail is a SpotThreshold without its configuration (the
// owner passes it on every call): the same thresholds and surprises, the
// same snapshot bytes, and 16 B fewer per tail (KpiDetector has six).
TEST(SpotTail, IsSpotThresholdWithItsConfigurationOutside) {
  std::mt19937 rng(5);
  std::exponential_distribution<double> e(1.0);
  for (bool rebase : {false, true}) {
    const SpotParams p = SpotParams::Of(1e-4, 200, 5.0);
    SpotThreshold whole(1e-4, 200, 5.0, rebase);
    SpotTail tail(rebase);
    for (int i = 0; i < 30000; ++i) {
      const double s = e(rng) * (i > 20000 ? 3.0 : 1.0);  // a regime change: peaks, refits, rebases
      ASSERT_EQ(whole.Surprise(s), tail.Surprise(s)) << i;
      ASSERT_EQ(whole.Update(s), tail.Update(p, s)) << i;
      ASSERT_EQ(whole.threshold(), tail.threshold(p)) << i;
    }
    std::string a, b;
    whole.AppendTo(&a);
    tail.AppendTo(p, &b);
    EXPECT_EQ(a, b);
    SpotTail back;
    SpotParams read;
    std::string_view in = b;
    ASSERT_TRUE(back.ParseFrom(&in, &read).ok());
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(read.q, p.q);
    EXPECT_EQ(read.init, p.init);
    EXPECT_EQ(read.floor, p.floor);
    std::string c;
    back.AppendTo(read, &c);
    EXPECT_EQ(c, b);
  }
  EXPECT_LE(sizeof(SpotTail), 48u);  // 64 B with the configuration inside
}

TEST(SeasonalProfile, LearnsTheDailyShape) {
  SeasonalProfile p(kDay, 48, 1.0);
  for (int64_t t = 0; t < 5 * kDay; t += 30 * kMinute) {
    p.Learn(t, 100 + 50 * std::sin(2 * M_PI * static_cast<double>(t % kDay) / kDay), 1e-9);
  }
  ASSERT_TRUE(p.Ready(5 * kDay));
  const int64_t six_am = 5 * kDay + 6 * 3600000;
  EXPECT_NEAR(p.Expected(six_am), 150, 2);
  EXPECT_NEAR(p.Expected(six_am + 12 * 3600000), 50, 2);
}

TEST(SeasonalProfile, InterpolatesBetweenSlotCentres) {
  // One-minute data in half-hour slots: on the steep part of a daily sine
  // (0.22 per minute) a slot's single level is off by ~3.3 at its edges;
  // interpolated between slot centres the error is the curvature's only
  // (once the day-type gain and the slots have settled together, which
  // takes about two weeks: 2.6 after 5 days, 1.2 after 10).
  SeasonalProfile p(kDay, 48, 30.0);
  auto value = [](int64_t t) { return 100 + 50 * std::sin(2 * M_PI * static_cast<double>(t % kDay) / kDay); };
  for (int64_t t = 0; t < 20 * kDay; t += kMinute) p.Learn(t, value(t), 1e-9);
  double worst = 0;
  for (int64_t t = 20 * kDay; t < 21 * kDay; t += kMinute) worst = std::max(worst, std::fabs(p.Expected(t) - value(t)));
  EXPECT_LT(worst, 1.0);
}

TEST(SeasonalProfile, AGainFollowsAWeekendThatScalesTheDailySwing) {
  // Weekends (days 5 and 6) have 60 % of the weekday swing. A daily profile
  // alone expects nearly the weekday swing on the second weekend's Sunday
  // afternoon; the day-type gain follows within hours.
  SeasonalProfile p(kDay, 168, 1440.0 / 168);
  auto value = [](int64_t t) {
    const int64_t day = t / kDay;
    const double w = (day % 7 == 5 || day % 7 == 6) ? 0.6 : 1.0;
    return 100 + 50 * w * std::sin(2 * M_PI * static_cast<double>(t % kDay) / kDay - M_PI / 2);
  };
  const int64_t sunday = 13 * kDay;
  for (int64_t t = 0; t < sunday + 15 * 3600000; t += kMinute) p.Learn(t, value(t), 1e-9);
  const int64_t afternoon = sunday + 15 * 3600000;
  EXPECT_NEAR(p.Expected(afternoon), value(afternoon), 3.0);
}

TEST(SeasonalProfile, AGapInTheFirstPeriodDoesNotLeaveAnEmptySlot) {
  // No value between 06:00 and 08:00 of the first day: those slots must not
  // expect 0 (with the spread of the floor) for days afterwards.
  SeasonalProfile p(kDay, 48, 30.0);
  auto value = [](int64_t t) { return 100 + 50 * std::sin(2 * M_PI * static_cast<double>(t % kDay) / kDay) + (t / kMinute % 7) * 0.5; };
  for (int64_t t = 0; t < 3 * kDay; t += kMinute) {
    if (t >= 6 * 3600000 && t < 8 * 3600000) continue;
    p.Learn(t, value(t), 1e-9);
  }
  const int64_t seven_am = 3 * kDay + 7 * 3600000;
  EXPECT_NEAR(p.Expected(seven_am), value(seven_am), 6);
  EXPECT_GT(p.Scale(seven_am, 1e-9), 0.5);
  // Before any value reached it, a slot borrows its neighbour's.
  SeasonalProfile q(kDay, 48, 30.0);
  for (int64_t t = 0; t < 6 * 3600000; t += kMinute) q.Learn(t, value(t), 1e-9);
  EXPECT_NEAR(q.Expected(7 * 3600000), q.Expected(6 * 3600000 - kMinute), 1e-9);
}

TEST(Cusum, SignalsASmallShiftButNotNoise) {
  std::mt19937 rng(3);
  std::normal_distribution<double> z(0, 1);
  Cusum c(0.5f, 10.0f);
  int false_signals = 0;
  for (int i = 0; i < 2000; ++i) false_signals += c.Update(z(rng)) != 0;
  EXPECT_LE(false_signals, 1);
  c.Reset();
  int signalled_at = -1;
  for (int i = 0; i < 100 && signalled_at < 0; ++i) {
    if (c.Update(z(rng) + 2.0) == 1) signalled_at = i;
  }
  EXPECT_GE(signalled_at, 0);
  EXPECT_LT(signalled_at, 20);
}

TEST(Bocpd, PutsMassOnARecentChangeAfterAShift) {
  std::mt19937 rng(4);
  std::normal_distribution<double> z(0, 1);
  Bocpd b(1.0 / 200);
  for (int i = 0; i < 300; ++i) b.Update(z(rng));
  EXPECT_LT(b.RecentChangeProbability(10), 0.2);
  for (int i = 0; i < 8; ++i) b.Update(5 + z(rng));
  EXPECT_GT(b.RecentChangeProbability(10), 0.9);
  EXPECT_NEAR(b.MapMean(), 5, 1.5);
}

// Runs longer than the table of per-length constants (1024 points) are
// computed, not looked up: a shift after 3000 quiet points is still found.
TEST(Bocpd, FindsAShiftAfterARunLongerThanItsTable) {
  std::mt19937 rng(9);
  std::normal_distribution<double> z(0, 1);
  Bocpd b(1.0 / 200);
  for (int i = 0; i < 3000; ++i) b.Update(0.3 * z(rng));
  EXPECT_GT(b.MapRunLength(), 1024);
  EXPECT_LT(b.RecentChangeProbability(10), 0.2);
  for (int i = 0; i < 8; ++i) b.Update(5 + 0.3 * z(rng));
  EXPECT_GT(b.RecentChangeProbability(10), 0.9);
  EXPECT_NEAR(b.MapMean(), 5, 1.5);
}

TEST(TrendTest, FindsARampAndNotNoise) {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1);
  TrendTest flat(8), ramp(8);
  double flat_z = 0, ramp_z = 0, slope = 0;
  for (int i = 0; i < 8 * TrendTest::kBlocks; ++i) {
    auto a = flat.Update(noise(rng));
    auto b = ramp.Update(0.05 * i + noise(rng));
    if (a.evaluated) flat_z = a.mk_z;
    if (b.evaluated) {
      ramp_z = b.mk_z;
      slope = ramp.Slope();
    }
  }
  EXPECT_LT(std::fabs(flat_z), 3);
  EXPECT_GT(ramp_z, 5);
  EXPECT_NEAR(slope, 0.05, 0.01);
}

// Close (the block-closing half of Update, for a caller that sums the
// block's points itself: KpiDetector, round hot) gives Update's results.
TEST(TrendTest, CloseOfOutsideSumsIsUpdate) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  TrendTest inside(5), outside(5);
  double sum = 0;
  int in_block = 0, evaluated = 0;
  for (int i = 0; i < 5 * TrendTest::kBlocks * 3; ++i) {
    const double x = 0.01 * i + noise(rng);
    const TrendTest::Result a = inside.Update(x);
    sum += x;
    TrendTest::Result b;
    if (++in_block == outside.block()) {
      b = outside.Close(sum);
      sum = 0;
      in_block = 0;
    }
    ASSERT_EQ(a.evaluated, b.evaluated) << i;
    ASSERT_EQ(a.mk_z, b.mk_z) << i;
    if (a.evaluated) {
      ASSERT_EQ(inside.Slope(), outside.Slope()) << i;
      ++evaluated;
    }
  }
  EXPECT_GT(evaluated, 40);
  EXPECT_EQ(inside.in_block(), in_block);
  EXPECT_EQ(inside.partial_sum(), sum);
}

TEST(SpectralResidual, ScoresASpikeAboveNormalPoints) {
  std::mt19937 rng(6);
  std::normal_distribution<double> noise(0, 0.1);
  SpectralResidual sr;
  double normal_max = 0;
  for (int i = 0; i < 200; ++i) {
    const double s = sr.Update(std::sin(i * 0.3) + noise(rng));
    if (i >= 60) normal_max = std::max(normal_max, s);
  }
  const double spike = sr.Update(std::sin(200 * 0.3) + 5);
  EXPECT_GT(spike, normal_max);
  EXPECT_GT(spike, 1.0);
}

TEST(LearnedLimits, ReportsANewRecordFarBeyondTheOldOnes) {
  LearnedLimits l;
  for (int i = 0; i < 500; ++i) l.Learn(i % 10, 5);
  EXPECT_EQ(l.Score(9, 50), 0);
  EXPECT_GT(l.Score(30, 50), 1);
}

TEST(KpiProfiler, FindsTheDailyPeriodAndPicksSeasonalDetectors) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 2);
  std::vector<int64_t> ts;
  std::vector<double> v;
  for (int i = 0; i < 600; ++i) {  // ~2 days at 5 minutes
    ts.push_back(i * 5 * kMinute);
    v.push_back(100 + 40 * std::sin(2 * M_PI * i / 288.0) + noise(rng));
  }
  KpiProfile p = ProfileSeries(ts, v);
  EXPECT_EQ(p.step_ms, 5 * kMinute);
  EXPECT_EQ(p.period_ms, kDay);
  EXPECT_TRUE(p.detectors & kDetSeasonal);
  EXPECT_TRUE(p.regular);
  EXPECT_FALSE(p.counter);
}

TEST(KpiProfiler, NoiseHasNoPeriodAndACounterIsACounter) {
  std::mt19937 rng(8);
  std::normal_distribution<double> noise(0, 1);
  std::vector<int64_t> ts;
  std::vector<double> v, c;
  double total = 0;
  for (int i = 0; i < 600; ++i) {
    ts.push_back(i * kMinute);
    v.push_back(noise(rng));
    total += 5 + std::fabs(noise(rng));
    c.push_back(total);
  }
  KpiProfile p = ProfileSeries(ts, v);
  EXPECT_EQ(p.period_ms, 0);
  EXPECT_FALSE(p.detectors & kDetSeasonal);
  EXPECT_GT(p.noise_ratio, 0.7);
  EXPECT_TRUE(ProfileSeries(ts, c).counter);
}

double Noise(int i) {
  // Deterministic pseudo-noise in [-1, 1].
  uint32_t x = static_cast<uint32_t>(i) * 2654435761u;
  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  return (x % 20001) / 10000.0 - 1.0;
}

TEST(KpiDetector, QuietOnNoiseThenExplainsASpike) {
  KpiDetector det;
  FeedResult quiet = Feed(det, 3000, kMinute, [](int i) { return 50 + Noise(i); });
  // At most 3 surprise onsets in 2400 judged points of noise (three views at
  // a calibrated ~6e-4 each). Was 2: since the sustained views calibrate on
  // the learning phase this realisation has one more at surprise 3.23, while
  // 200 000 points of Gaussian noise print 103 lines instead of 149 (and a
  // noisy daily sine 240 instead of 251) with `vigil detect`.
  EXPECT_LE(quiet.onsets, 3);
  KpiVerdict v = det.Update(3000 * kMinute, 80);
  ASSERT_TRUE(v.anomalous);
  EXPECT_EQ(v.pattern, KpiPattern::kSpike);
  EXPECT_TRUE(v.onset);
  EXPECT_NEAR(v.expected, 50, 0.5);
  EXPECT_LT(v.upper, 80);
  EXPECT_GT(v.lower, 40);
  EXPECT_TRUE(v.fired & kDetLevel);
  KpiVerdict dip = det.Update(3005 * kMinute, 20);
  EXPECT_TRUE(dip.anomalous);
  EXPECT_EQ(dip.direction, Direction::kDown);
}

TEST(KpiDetector, ALearningPhaseAlarmRanksAtTheAlarmRisk) {
  // 150 points of noise (the point tail is still young: Cantelli's bound),
  // then a value far beyond the learning phase's doubled threshold: it
  // ranks at least at -log10(spot_risk) = 4, as a calibrated score alarm
  // would (it ranked below 3 before round nab6), while a noise point ranks
  // low.
  KpiDetector det;
  Feed(det, 150, kMinute, [](int i) { return 50 + Noise(i); });
  ASSERT_FALSE(det.profiled());
  KpiVerdict v = det.Update(150 * kMinute, 65);  // ~26 noise sds (uniform noise: sd 0.58)
  ASSERT_TRUE(v.anomalous);
  EXPECT_GE(v.surprise, 4.0);
  KpiVerdict calm = det.Update(151 * kMinute, 50);
  EXPECT_LT(calm.surprise, 3.0);
}

TEST(KpiDetector, ASuccessRateNearOneIsJudgedByItsNoiseNotByItsLevel) {
  // A ratio at 0.995 with noise of sd ~0.001: a fall to 0.975 is ~17 sds.
  // The scale's floor, a share of the level, must stay below the noise
  // (1 % of the level made it a z of 2).
  KpiDetector det;
  Feed(det, 3000, kMinute, [](int i) { return 0.995 + 0.002 * Noise(i); });
  KpiVerdict v = det.Update(3000 * kMinute, 0.975);
  EXPECT_TRUE(v.anomalous);
  // The band is drawn from the scale: 0.975 lies below it (with the 1 %
  // floor the band reached down to 0.945; the learned limits alarmed).
  EXPECT_GT(v.lower, 0.975);
  EXPECT_EQ(v.direction, Direction::kDown);
}

TEST(KpiDetector, LevelShiftIsLabelledThenRelearned) {
  KpiDetector det;
  Feed(det, 2000, kMinute, [](int i) { return 50 + Noise(i); });
  FeedResult shifted = Feed(det, 400, kMinute, [](int i) { return 70 + Noise(i); }, 2000);
  ASSERT_EQ(shifted.first_alarm, 2000);
  bool labelled_shift = false;
  for (const auto& v : shifted.verdicts) labelled_shift |= v.pattern == KpiPattern::kLevelShiftUp;
  EXPECT_TRUE(labelled_shift);
  // The baseline re-learns: the last 300 points of the new level are normal.
  int late_alarms = 0;
  for (size_t i = 100; i < shifted.verdicts.size(); ++i) late_alarms += shifted.verdicts[i].anomalous;
  EXPECT_EQ(late_alarms, 0);
  EXPECT_NEAR(shifted.verdicts.back().expected, 70, 1.0);
}

TEST(KpiDetector, AnExcursionThatEndsGoesBackToTheOldBaseline) {
  // A shift that lasts 60 points is re-baselined after 12; when it ends the
  // value is back at the old level, which is the excursion's end, not a new
  // one: the baselines go back without alarming (before round kpi3 the
  // return alarmed for 6 points until it was re-baselined in turn).
  KpiDetector det;
  Feed(det, 2000, kMinute, [](int i) { return 50 + Noise(i); });
  FeedResult shifted = Feed(det, 60, kMinute, [](int i) { return 70 + Noise(i); }, 2000);
  ASSERT_EQ(shifted.first_alarm, 2000);
  FeedResult back = Feed(det, 200, kMinute, [](int i) { return 50 + Noise(i); }, 2060);
  int alarms = 0;
  for (const auto& v : back.verdicts) alarms += v.anomalous;
  EXPECT_EQ(alarms, 0);
  EXPECT_NEAR(back.verdicts.front().expected, 50, 1.0);
}

TEST(KpiDetector, AnExcursionIsOnePeakOfThePointTail) {
  // Eleven points of a shift (ended before its re-baseline) are one
  // anomaly: the point view's tail learns its first alarm only, so the
  // threshold does not climb with the anomaly's own sizes, and the next,
  // smaller spike still alarms by the score (round kpi4; before, the tail
  // learned every alarm of the excursion).
  KpiDetector det;
  const auto noise = [](int i) { return 50 + Noise(i) + std::pow(Noise(7 * i + 3), 9) * 6; };
  FeedResult calm = Feed(det, 3000, kMinute, noise);
  const double before = calm.verdicts.back().threshold;
  FeedResult shift = Feed(det, 11, kMinute, [&](int i) { return noise(i) + 15; }, 3000);
  EXPECT_GE(shift.alarms, 7);
  FeedResult after = Feed(det, 300, kMinute, noise, 3011);
  // (The first alarm's excess, clipped at twice the threshold, still
  // raises it from ~6 to ~10 on this thin tail; all eleven took it to ~17.)
  EXPECT_GT(before, 5.0);
  EXPECT_LT(after.verdicts.back().threshold, 13.0);
  KpiVerdict spike = det.Update(3311 * kMinute, 74);
  EXPECT_GT(spike.score, 11.0);
  EXPECT_TRUE(spike.anomalous);
  EXPECT_FALSE(spike.by_surprise);
}

TEST(KpiDetector, AnExcursionThatEndedIsNotTheMediumViewsNews) {
  // A 25-point drop of 6 sds, then the value is back: the medium mean
  // (~100 points) still remembers the drop, but the short-term mean is
  // back at the slow level, so the medium view no longer counts it
  // (MediumViewZ). Before round kpi5 the surprise decayed from 3.5 to 2.0
  // over the 40 points after the end (mean 2.5): false points right after
  // a labelled segment; now it falls back within 4 points (mean ~1.4).
  KpiDetector det;
  const auto noise = [](int i) { return 50 + Noise(i); };
  Feed(det, 3000, kMinute, noise);
  FeedResult drop = Feed(det, 25, kMinute, [&](int i) { return noise(i) - 3.5; }, 3000);
  double during = 0;
  for (const auto& v : drop.verdicts) during = std::max(during, v.surprise);
  FeedResult back = Feed(det, 40, kMinute, noise, 3025);
  double after = 0;
  for (size_t i = 3; i < back.verdicts.size(); ++i) after += back.verdicts[i].surprise;
  after /= static_cast<double>(back.verdicts.size() - 3);
  EXPECT_GT(during, 5.0);
  EXPECT_LT(after, 1.9);
}

TEST(KpiDetector, MeanViewsRestartWhenTheSeasonalProfileTakesOver) {
  // A daily series far from 0: the mean views judge the raw value until
  // the seasonal profile is ready, then the value less the profile (near
  // 0). Carried across, their slow level sat at ~1000 while the input was
  // ~0: surprises of 10 and more for a hundred points (round kpi4). They
  // restart on the new input instead, and the series stays quiet.
  KpiDetector det;
  FeedResult r = Feed(det, 10 * 1440, kMinute, [](int i) { return 1000 + 20 * std::sin(2 * M_PI * i / 1440.0) + 2 * Noise(i); });
  ASSERT_TRUE(det.profile().detectors & kDetSeasonal);
  double worst = 0;
  int surprise_alarms = 0;
  for (size_t i = 3 * 1440; i < r.verdicts.size(); ++i) {
    worst = std::max(worst, r.verdicts[i].surprise);
    surprise_alarms += r.verdicts[i].by_surprise;
  }
  EXPECT_LT(worst, 6.0);
  EXPECT_LE(surprise_alarms, 3);
}

TEST(KpiDetector, SeasonalSeriesIsQuietUntilItsShapeBreaks) {
  KpiDetector det;
  auto daily = [](int i) { return 100 + 50 * std::sin(2 * M_PI * i / 288.0) + Noise(i); };
  FeedResult normal = Feed(det, 288 * 8, 5 * kMinute, daily);
  EXPECT_TRUE(det.profile().detectors & kDetSeasonal);
  EXPECT_EQ(det.profile().period_ms, kDay);
  // No score alarm; the surprise alarm (a calibrated risk of ~6e-4 per point
  // and view) may fire once or twice in these 1152 points.
  int late = 0, late_by_surprise = 0;
  for (size_t i = 288 * 4; i < normal.verdicts.size(); ++i) {
    const KpiVerdict& v = normal.verdicts[i];
    late += v.anomalous && v.score > v.threshold;
    late_by_surprise += v.anomalous && v.score <= v.threshold;
  }
  EXPECT_EQ(late, 0);
  EXPECT_LE(late_by_surprise, 2);
  // At the daily trough (value ~50) a value of 100 is normal for the level
  // but not for this time of day: only the seasonal baseline sees it.
  const int trough = 288 * 8 + 216;
  Feed(det, 216, 5 * kMinute, daily, 288 * 8);
  KpiVerdict v = det.Update(static_cast<int64_t>(trough) * 5 * kMinute, 100);
  EXPECT_TRUE(v.anomalous);
  EXPECT_TRUE(v.fired & kDetSeasonal);
  EXPECT_NEAR(v.expected, 50, 3);
}

TEST(KpiDetector, ASurpriseAloneAlarmsAtTheStartOfItsStretchOnly) {
  // A shift of 2.5 noise sds: below the score threshold (z 5), but the
  // sustained views find it surprising for many points. Their alarm is the
  // onset: one alarm per surprising stretch, never two points in a row.
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  KpiDetector det;
  Feed(det, 3000, kMinute, [&](int) { return 50 + noise(rng); });
  FeedResult shifted = Feed(det, 300, kMinute, [&](int) { return 52.5 + noise(rng); }, 3000);
  int surprise_alarms = 0, run = 0, longest = 0;
  for (const KpiVerdict& v : shifted.verdicts) {
    const bool by_surprise = v.by_surprise;
    surprise_alarms += by_surprise;
    run = by_surprise ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_GT(surprise_alarms, 0);
  EXPECT_LE(longest, 1);
}

TEST(KpiDetector, SlowRiseIsReported) {
  KpiDetector det;
  Feed(det, 1500, kMinute, [](int i) { return 50 + Noise(i); });
  FeedResult ramp = Feed(det, 2000, kMinute, [](int i) { return 50 + 0.01 * (i - 1500) + Noise(i); }, 1500);
  bool slow_rise = false;
  for (const auto& v : ramp.verdicts) slow_rise |= v.pattern == KpiPattern::kSlowRise;
  EXPECT_TRUE(slow_rise);
}

TEST(KpiDetector, GapsRaiseMissingDataButNoAnomaly) {
  KpiDetector det;
  Feed(det, 1000, kMinute, [](int i) { return 50 + Noise(i); });
  KpiVerdict v = det.Update(1500 * kMinute, 50.3);  // 500 minutes later, a normal value
  EXPECT_EQ(v.missing_ms, 501 * kMinute);
  EXPECT_FALSE(v.anomalous);
}

TEST(KpiDetector, CalendarLimitsAnalysisToItsWindows) {
  AnalysisCalendar cal;
  ASSERT_TRUE(cal.AddWindowSpec("Mon-Fri 09:00-17:00").ok());
  KpiDetectorConfig cfg;
  cfg.calendar = &cal;
  KpiDetector det(cfg);
  // 1970-01-05 was a Monday.
  const int64_t monday = 4 * kDay;
  EXPECT_FALSE(det.Update(monday + 3 * 3600000, 1).ready);  // 03:00: outside, not learned
  int ready = 0;
  for (int d = 0; d < 5; ++d) {
    for (int m = 0; m < 480; ++m) {
      ready += det.Update(monday + d * kDay + 9 * 3600000 + m * kMinute, 10 + Noise(m)).ready;
    }
  }
  EXPECT_GT(ready, 2000);
  // Saturday: nothing is judged, not even a huge value.
  KpiVerdict sat = det.Update(monday + 5 * kDay + 12 * 3600000, 1e6);
  EXPECT_FALSE(sat.ready);
  EXPECT_FALSE(sat.anomalous);
  EXPECT_TRUE(cal.AddSpecialDaySpec("1970-01-06").ok());
  EXPECT_TRUE(cal.IsSpecialDay(5 * kDay + 1000));
  EXPECT_FALSE(cal.AddWindowSpec("Someday 9-5").ok());
}

TEST(KpiDetector, FeedbackAdaptsSensitivity) {
  KpiDetector det;
  Feed(det, 1500, kMinute, [](int i) { return 50 + Noise(i); });
  const double before = det.Update(1500 * kMinute, 50).threshold;
  det.Feedback(true);
  det.Feedback(true);
  const double after = det.Update(1501 * kMinute, 50).threshold;
  EXPECT_NEAR(after / before, 1.5625, 0.05);
  det.Feedback(false);
  EXPECT_NEAR(det.sensitivity(), 1.5625 * 0.9, 1e-9);
}

TEST(KpiDetector, HardLimitsAlwaysFire) {
  KpiDetectorConfig cfg;
  cfg.hard_limits.upper = 90;
  KpiDetector det(cfg);
  Feed(det, 700, kMinute, [](int i) { return 89 + 0.5 * Noise(i); });
  KpiVerdict v = det.Update(700 * kMinute, 90.5);
  EXPECT_TRUE(v.anomalous);
  EXPECT_TRUE(v.fired & kDetHardLimits);
}

// In strongly autocorrelated noise a step of a few innovation sds is small
// against the residuals' spread (~1.6 of them here) but not against what
// the previous point predicts: the innovation view sees its onset.
TEST(KpiDetector, InnovationViewSeesAStepInAutocorrelatedNoise) {
  KpiDetector det;
  double ar = 0;
  auto value = [&ar](int i) {
    ar = 0.95 * ar + Noise(i);  // innovations sd ~0.58, residuals sd ~1.85
    return 100 + ar + (i >= 4000 ? 3.0 : 0.0);
  };
  double before = 0, onset = 0;
  for (int i = 0; i < 4003; ++i) {
    KpiVerdict v = det.Update(static_cast<int64_t>(i) * kMinute, value(i));
    if (i >= 3000 && i < 4000) before = std::max(before, v.surprise);
    if (i >= 4000) onset = std::max(onset, v.surprise);
  }
  EXPECT_GT(onset, 3.2);           // the surprise alarm's level
  EXPECT_GT(onset, before + 0.5);  // above the noise's largest in the 1000 points before
}

// A ramp in AR(1) noise: a steady run of moderately large innovations
// that neither the point view (each residual is within the noise's spread)
// nor the innovation view (each innovation is within its own) finds in its
// first 8 points; the drift view (Page's CUSUM of the innovations) does.
// Ramps of 3 residual sds over 12 points, held 60 points, one every 1 000.
// The drift view (Page's CUSUM of the innovations) makes a drop of a
// low count surprising within the 7-point rule: each point of a Poisson
// rate halved is only 2-3 sds below the daily profile, within what the
// point view's tail has seen, but a run of them is not. Twelve drops of a
// daily rate of ~20 by half, at once and over 8 points: 8 of the 24 reach
// the surprise alarm level within their first 8 points (3 without the
// view), while the noise's largest surprise stays the same (4.21).
TEST(KpiDetector, TheDriftViewFindsADropOfALowCountWithinEightPoints) {
  int found = 0;
  double quiet = 0;
  for (int rise : {1, 8}) {
    KpiDetector det;
    std::mt19937 rng(7);
    auto rate = [rise](int i) {
      const double day = 20 * (1 + 0.6 * std::sin(2 * M_PI * i / 1440.0));
      const int k = i % 997;
      if (i < 6 * 1440 || k >= 60) return day;
      return day * (1 - 0.5 * std::min(1.0, (k + 1.0) / rise));
    };
    double onset = 0;
    for (int i = 0; i < 14 * 1440; ++i) {
      std::poisson_distribution<int> counts(rate(i));
      const KpiVerdict v = det.Update(static_cast<int64_t>(i) * kMinute, counts(rng));
      const int k = i % 997;
      if (i >= 5 * 1440 && k >= 300) quiet = std::max(quiet, v.surprise);
      if (i >= 6 * 1440 && k < 8) onset = std::max(onset, v.surprise);
      if (i >= 6 * 1440 && k == 7) {
        found += onset > 3.2;  // the surprise alarm's level
        onset = 0;
      }
    }
  }
  EXPECT_GE(found, 6);
  EXPECT_LT(quiet, 4.5);
}

TEST(KpiDetector, StateFitsTheMemoryBudget) {
  KpiDetector det;
  // One-minute data with daily seasonality, three weeks: profiled, buffer freed.
  for (int i = 0; i < 3 * 1440 * 7; ++i) {
    det.Update(static_cast<int64_t>(i) * kMinute, 100 + 50 * std::sin(2 * M_PI * i / 1440.0) + Noise(i));
  }
  EXPECT_TRUE(det.profile().detectors & kDetSeasonal);
  EXPECT_LE(det.StateBytes(), 4096u);  // measured 3680 B (4056 B before the int16 history, round nab5)
}

// A series without a period holds the KNN novelty view, in the memory a
// seasonal series spends on its profile: still within 4 KiB. A level never
// seen before is novel; the bursts the series always had are not.
TEST(KpiDetector, IrregularSeriesGetTheNoveltyViewWithinTheBudget) {
  KpiDetector det;
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> coin(0, 1);
  int burst = 0;
  double before = 0, shifted = 0;
  for (int i = 0; i < 6400; ++i) {
    if (burst == 0 && coin(rng) < 0.01) burst = 3;  // 3-point bursts of +8 at random times
    double x = 50 + noise(rng) + (burst > 0 ? 8 : 0);
    if (burst > 0) --burst;
    if (i >= 6000) x += 5;  // a level the series never had
    const KpiVerdict v = det.Update(static_cast<int64_t>(i) * kMinute, x);
    (i < 6000 ? before : shifted) = std::max(i < 6000 ? before : shifted, i > 1000 ? v.novelty : 0.0);
  }
  EXPECT_TRUE(det.profile().detectors & kDetNovelty);
  EXPECT_FALSE(det.profile().detectors & kDetSeasonal);
  EXPECT_LE(det.StateBytes(), 4096u);  // measured 3580 B with the spectral residual
  EXPECT_LT(before, 1.5);              // measured 0.8
  EXPECT_GT(shifted, 2.0);             // measured 2.9
}

// The re-profiling history keeps its block means as int16 steps from the
// first mean: a daily swing of +-20 that starts only after the first
// profile, on a level of a million, is still found as a period there.
TEST(KpiDetector, TheInt16HistoryStillFindsAPeriodOnALargeLevel) {
  KpiDetector det;
  const int64_t step = 5 * kMinute;
  const int per_day = 288;
  bool seasonal_first = true;
  for (int i = 0; i < 30 * per_day; ++i) {
    const double swing = i >= 700 ? 20 * std::sin(2 * M_PI * i / per_day) : 0.0;
    det.Update(static_cast<int64_t>(i) * step, 1e6 + swing + Noise(i));
    if (i == 650) seasonal_first = (det.profile().detectors & kDetSeasonal) != 0;
  }
  EXPECT_FALSE(seasonal_first);
  EXPECT_TRUE(det.profile().detectors & kDetSeasonal);
  EXPECT_EQ(det.profile().period_ms, 86400000);
}

// A restored suite continues exactly where the saved one was: every verdict
// afterwards is identical. Checked for each profile kind (seasonal, spiky
// with the spectral residual and learned limits, stable with BOCPD) and in
// the learning phase.
TEST(KpiDetector, SnapshotRestoresTheSameVerdicts) {
  const std::function<double(int)> shapes[] = {
      [](int i) { return 100 + 50 * std::sin(2 * M_PI * i / 1440.0) + Noise(i); },
      [](int i) { return 10 + (i % 97 == 0 ? 40.0 : 0.0) + std::pow(Noise(i), 5) * 8; },
      [](int i) { return 40 + (i > 5000 ? 6.0 : 0.0) + Noise(i); },
  };
  for (int shape = 0; shape < 3; ++shape) {
    for (int cut : {300, 4 * 1440}) {
      KpiDetector a;
      Feed(a, cut, kMinute, shapes[shape]);
      std::string blob;
      a.AppendTo(&blob);
      KpiDetector b;
      std::string_view in = blob;
      bool restored = false;
      ASSERT_TRUE(b.ParseFrom(&in, &restored).ok());
      EXPECT_TRUE(restored);
      EXPECT_TRUE(in.empty());
      EXPECT_EQ(a.profile().detectors, b.profile().detectors);
      // The restored state is the saved one (the parts' block included).
      std::string again;
      b.AppendTo(&again);
      EXPECT_EQ(again, blob) << "shape " << shape << " cut " << cut;
      EXPECT_EQ(a.StateBytes(), b.StateBytes());
      for (int i = cut; i < cut + 3000; ++i) {
        const double x = shapes[shape](i) + (i == cut + 1500 ? 30 : 0);
        const KpiVerdict va = a.Update(static_cast<int64_t>(i) * kMinute, x);
        const KpiVerdict vb = b.Update(static_cast<int64_t>(i) * kMinute, x);
        ASSERT_EQ(va.anomalous, vb.anomalous) << "shape " << shape << " cut " << cut << " point " << i;
        ASSERT_EQ(va.score, vb.score) << "shape " << shape << " cut " << cut << " point " << i;
        ASSERT_EQ(va.surprise, vb.surprise) << "shape " << shape << " cut " << cut << " point " << i;
      }
    }
  }
}

// Round hot: what a point does not read (the profile, the learning buffer,
// the re-profiling history, the trend test's blocks) is in a cold block
// outside the object, and the trend test's partial block in the object. A
// moved detector carries the block along, and a snapshot taken inside a
// trend block restores its partial sum: the restored state's bytes are the
// saved ones and the trend alarms come at the same points.
TEST(KpiDetector, ColdBlockSurvivesMoveAndSnapshot) {
  // No period, a slow rise from day 3 on: the trend test reports it.
  const auto value = [](int i) { return 40 + Noise(i) + (i > 3 * 1440 ? 0.004 * (i - 3 * 1440) : 0.0); };
  KpiDetector reference;
  KpiDetector a;
  const int cut = 2 * 1440 + 17;  // not at a trend block's end (one-minute blocks of 60 points)
  Feed(reference, cut, kMinute, value);
  Feed(a, cut, kMinute, value);
  ASSERT_TRUE(a.profiled());
  ASSERT_TRUE(a.profile().detectors & kDetTrend);
  std::string before;
  a.AppendTo(&before);
  const size_t bytes = a.StateBytes();

  KpiDetector moved(std::move(a));
  KpiDetector assigned;
  assigned = std::move(moved);
  std::string after_move;
  assigned.AppendTo(&after_move);
  EXPECT_EQ(after_move, before);
  EXPECT_EQ(assigned.StateBytes(), bytes);
  EXPECT_EQ(assigned.profile().detectors, reference.profile().detectors);
  EXPECT_EQ(assigned.profile().trend_block, reference.profile().trend_block);

  KpiDetector restored;
  std::string_view in = before;
  bool ok = false;
  ASSERT_TRUE(restored.ParseFrom(&in, &ok).ok());
  ASSERT_TRUE(ok);
  std::string again;
  restored.AppendTo(&again);
  EXPECT_EQ(again, before);  // the partial trend block included
  EXPECT_EQ(restored.StateBytes(), bytes);

  int trend_alarms = 0;
  for (int i = cut; i < 6 * 1440; ++i) {
    const int64_t ts = static_cast<int64_t>(i) * kMinute;
    const KpiVerdict r = reference.Update(ts, value(i));
    const KpiVerdict m = assigned.Update(ts, value(i));
    const KpiVerdict s = restored.Update(ts, value(i));
    ASSERT_EQ(r.fired, m.fired) << i;
    ASSERT_EQ(r.fired, s.fired) << i;
    ASSERT_EQ(r.score, m.score) << i;
    ASSERT_EQ(r.score, s.score) << i;
    ASSERT_EQ(r.surprise, s.surprise) << i;
    trend_alarms += (r.fired & kDetTrend) != 0;
  }
  EXPECT_GT(trend_alarms, 0);
  std::string end_r, end_s;
  reference.AppendTo(&end_r);
  restored.AppendTo(&end_s);
  EXPECT_EQ(end_r, end_s);
}

TEST(KpiDetector, SnapshotOfAnotherLayoutRelearnsAndDamageIsAnError) {
  KpiDetector a;
  Feed(a, 2000, kMinute, [](int i) { return 40 + Noise(i); });
  std::string blob;
  a.AppendTo(&blob);
  blob += "next";

  std::string other = blob;
  std::string_view probe = other;
  uint64_t len = 0;
  ASSERT_TRUE(bytes::GetVarint64(&probe, &len));
  const size_t fingerprint_at = other.size() - probe.size();  // right after the length prefix
  other[fingerprint_at] = static_cast<char>(other[fingerprint_at] ^ 0x5a);
  KpiDetector b;
  std::string_view in = other;
  bool restored = true;
  ASSERT_TRUE(b.ParseFrom(&in, &restored).ok());
  EXPECT_FALSE(restored);
  EXPECT_EQ(in, "next");  // the blob is consumed, the next record is intact
  EXPECT_FALSE(b.profiled());

  std::string_view cut = std::string_view(blob).substr(0, blob.size() / 2);
  KpiDetector c;
  EXPECT_FALSE(c.ParseFrom(&cut, &restored).ok());
  EXPECT_FALSE(restored);
}

// A daily profile takes every day for the same day: a weekday with a
// Sunday's level (a holiday) left residuals the other views find ordinary
// next to the weekly swing of every weekend. The weekday view knows each
// weekday's mean deviation and ranks such a day (round nab9); it raises no
// alarm, so the alarms are those without it.
TEST(KpiDetector, WeekdayViewRanksAHolidayOnADailyProfile) {
  constexpr int64_t kStep = 30 * kMinute;  // 48 points a day, as NAB's nyc_taxi
  constexpr int kDay = 48;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1);
  KpiDetector det;
  double holiday = 0, normal = 0;
  int alarms_on_holiday = 0;
  for (int i = 0; i < 200 * kDay; ++i) {
    const int day = i / kDay;  // day 0 is a Thursday (the epoch's weekday)
    const int wd = (day + 4) % 7;  // 0 = Sunday
    const bool weekend = wd == 0 || wd == 6;
    const bool is_holiday = day == 182;  // a Sunday-like Thursday
    const double level = (weekend || is_holiday) ? 70 : 100;
    const double x = level * (1 + 0.3 * std::sin(2 * M_PI * (i % kDay) / kDay)) + 2 * noise(rng);
    const KpiVerdict v = det.Update(static_cast<int64_t>(i) * kStep, x);
    if (is_holiday) {
      holiday = std::max(holiday, v.Evidence());
      alarms_on_holiday += v.anomalous ? 1 : 0;
    } else if (day >= 154 && day < 182) {  // the four weeks before it
      normal = std::max(normal, v.Evidence());
    }
  }
  ASSERT_EQ(det.profile().period_ms, 86400000);
  EXPECT_GT(holiday, 4.0);  // measured 4.70 (2.20 without the view)
  EXPECT_LT(normal, 3.2);   // measured 2.83
  EXPECT_EQ(alarms_on_holiday, 0);  // ranking only
}

}  // namespace
}  // namespace vigil
