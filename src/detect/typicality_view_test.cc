#include "detect/typicality_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

namespace vigil {
namespace {

// Small and inline: KpiDetector holds one per series (the 4 KiB budget).
static_assert(sizeof(TypicalityView) <= 36, "the typicality view's state");
static_assert(std::is_trivially_copyable_v<TypicalityView>, "snapshotted as raw bytes");

// Values around 100 (scale ~1) with 2 % lone visits to 106 and 94; then a
// stretch that keeps visiting them (each visit no farther than before). The
// view ranks the stretch, not the lone visits.
TEST(TypicalityView, RanksAStretchThatKeepsVisitingRareValues) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> coin(0, 1);
  TypicalityView view;
  std::vector<float> first;
  double before = 0, during = 0;
  for (int i = 0; i < 4200; ++i) {
    double x = 100 + noise(rng);
    const double u = coin(rng);
    if (u < 0.01) x = 106;
    else if (u < 0.02) x = 94;
    if (i >= 4000) x = i % 2 ? 106 : 94;
    if (!view.fixed()) {
      first.push_back(static_cast<float>(x));
      if (first.size() == TypicalityView::kWarmup) view.FixBins(first.data(), first.size());
      continue;
    }
    const double s = view.Update(x);
    ASSERT_TRUE(std::isfinite(s) && s >= 0);
    if (i >= 2000 && i < 4000) before = std::max(before, s);
    if (i >= 4000) during = std::max(during, s);
  }
  EXPECT_LT(before, 5.0);  // measured 3.96 (the largest over 2000 ordinary points)
  EXPECT_GE(during, 9.0);  // measured 10 (the cap)
  EXPECT_TRUE(view.Valid());
}

TEST(TypicalityView, SilentUntilItsBinsAreFixedAndWhileItLearns) {
  TypicalityView view;
  EXPECT_EQ(view.Update(5.0), 0.0);  // no bins yet
  const float head[3] = {1, 2, 3};
  view.FixBins(head, 3);
  ASSERT_TRUE(view.fixed());
  double most = 0;
  for (int i = 0; i < TypicalityView::kMinHistory; ++i) most = std::max(most, view.Update(i % 7 == 0 ? 50.0 : 2.0));
  EXPECT_EQ(most, 0.0);  // counting only before kMinHistory values
  // A constant first stretch (MAD 0) still gets a width.
  TypicalityView flat;
  const float same[4] = {7, 7, 7, 7};
  flat.FixBins(same, 4);
  EXPECT_TRUE(flat.fixed());
  EXPECT_TRUE(flat.Valid());
}

}  // namespace
}  // namespace vigil
