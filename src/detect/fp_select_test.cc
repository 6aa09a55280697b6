#include "detect/fp_select.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace vigil {
namespace {

// Same bits, so that signed zeros and NaNs are told apart.
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

const std::vector<double>& Operands() {
  static const std::vector<double> v = {0.0,
                                        -0.0,
                                        1.0,
                                        -1.0,
                                        2.5,
                                        1e-300,
                                        -1e300,
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN(),
                                        -std::numeric_limits<double>::quiet_NaN()};
  return v;
}

// The branch-free forms are used where the detector's output must stay bit
// for bit what std::max / std::min / std::clamp / ?: gave (NAB's JSON is
// compared byte for byte): every pair of awkward operands, signed zeros and
// NaNs in either place included.
TEST(FpSelect, MaxMinAreStdMaxMinBitForBit) {
  for (double a : Operands()) {
    for (double b : Operands()) {
      EXPECT_TRUE(SameBits(MaxOf(a, b), std::max(a, b))) << a << " " << b;
      EXPECT_TRUE(SameBits(MinOf(a, b), std::min(a, b))) << a << " " << b;
      const float fa = static_cast<float>(a), fb = static_cast<float>(b);
      EXPECT_TRUE(SameBits(MaxOf(fa, fb), std::max(fa, fb))) << a << " " << b;
    }
  }
}

TEST(FpSelect, ClampAndSelectAreTheStdFormsBitForBit) {
  for (double v : Operands()) {
    EXPECT_TRUE(SameBits(ClampOf(v, -1.0, 1.0), std::min(std::max(v, -1.0), 1.0))) << v;
    EXPECT_TRUE(SameBits(ClampOf(v, 0.0, 30.0), std::min(std::max(v, 0.0), 30.0))) << v;
    for (double w : Operands()) {
      EXPECT_TRUE(SameBits(SelectOf(true, v, w), v)) << v << " " << w;
      EXPECT_TRUE(SameBits(SelectOf(false, v, w), w)) << v << " " << w;
    }
  }
}

}  // namespace
}  // namespace vigil
