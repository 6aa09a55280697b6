#include "alerts/retry_policy.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(RetryPolicy, ExponentialAndCapped) {
  RetryPolicy p;
  EXPECT_EQ(p.DelayFor(1), 1000);
  EXPECT_EQ(p.DelayFor(2), 2000);
  EXPECT_EQ(p.DelayFor(3), 4000);
  EXPECT_EQ(p.DelayFor(6), 32000);
  EXPECT_EQ(p.DelayFor(7), 60000);
  EXPECT_EQ(p.DelayFor(1000000), 60000);
  EXPECT_EQ(p.DelayFor(0), 1000);
  EXPECT_EQ(p.DelayFor(-5), 1000);
}

TEST(RetryPolicy, Exhaustion) {
  RetryPolicy p;
  p.max_attempts = 3;
  EXPECT_FALSE(p.Exhausted(2));
  EXPECT_TRUE(p.Exhausted(3));
}

TEST(RetryPolicy, JitterIsBoundedAndDeterministic) {
  RetryPolicy p;
  p.jitter = 0.25;
  p.seed = 12345;
  RetryPolicy q = p;
  bool any_shorter = false;
  for (int a = 1; a <= 12; ++a) {
    TimestampMs nominal = RetryPolicy{}.DelayFor(a);
    TimestampMs d = p.DelayFor(a);
    EXPECT_EQ(d, q.DelayFor(a));
    EXPECT_LE(d, nominal);
    EXPECT_GE(d, static_cast<TimestampMs>(nominal * 0.75) - 1);
    any_shorter |= d < nominal;
  }
  EXPECT_TRUE(any_shorter);
  q.seed = 999;
  bool differs = false;
  for (int a = 1; a <= 12; ++a) differs |= p.DelayFor(a) != q.DelayFor(a);
  EXPECT_TRUE(differs);
}

TEST(RetryPolicy, DegenerateSettingsStaySane) {
  RetryPolicy p;
  p.factor = 0.5;  // treated as 1: constant delay
  EXPECT_EQ(p.DelayFor(5), 1000);
  p.initial_ms = -10;
  EXPECT_EQ(p.DelayFor(3), 0);
  p = RetryPolicy{};
  p.factor = 1e300;
  EXPECT_EQ(p.DelayFor(50), 60000);
}

}  // namespace
}  // namespace vigil
