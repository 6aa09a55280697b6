#include "detect/slow_trend.h"

#include <algorithm>
#include <cmath>

namespace vigil {

TrendTest::Result TrendTest::Update(double x) {
  Result res;
  sum_ += x;
  if (++in_block_ < block_) return res;
  const double sum = sum_;
  in_block_ = 0;
  sum_ = 0;
  return Close(sum);
}

TrendTest::Result TrendTest::Close(double sum) {
  Result res;
  const float mean = static_cast<float>(sum / block_);
  // S is kept up to date in O(kBlocks) per block: the leaving (oldest)
  // mean's pairs are taken out, the new mean's pairs added.
  auto sign = [](float d) { return (d > 0) - (d < 0); };
  if (filled_ == kBlocks) {
    const float oldest = means_[static_cast<size_t>(head_)];
    for (int i = 1; i < kBlocks; ++i) s_ -= sign(means_[static_cast<size_t>((head_ + i) % kBlocks)] - oldest);
  }
  const int others = std::min(filled_, kBlocks - 1);
  for (int i = 1; i <= others; ++i) s_ += sign(mean - means_[static_cast<size_t>((head_ - i + kBlocks) % kBlocks)]);
  means_[static_cast<size_t>(head_)] = mean;
  head_ = (head_ + 1) % kBlocks;
  if (filled_ < kBlocks) ++filled_;
  if (filled_ < kBlocks) return res;

  const int s = s_;
  const double var = kBlocks * (kBlocks - 1.0) * (2.0 * kBlocks + 5.0) / 18.0;
  res.evaluated = true;
  res.mk_z = s > 0 ? (s - 1) / std::sqrt(var) : s < 0 ? (s + 1) / std::sqrt(var) : 0;
  return res;
}

double TrendTest::Slope() const {
  std::array<float, kBlocks> v;
  for (int i = 0; i < kBlocks; ++i) v[static_cast<size_t>(i)] = means_[static_cast<size_t>((head_ + i) % kBlocks)];
  std::array<float, kBlocks*(kBlocks - 1) / 2> slopes;
  size_t n = 0;
  for (int i = 0; i < kBlocks; ++i) {
    for (int j = i + 1; j < kBlocks; ++j) {
      slopes[n++] = (v[static_cast<size_t>(j)] - v[static_cast<size_t>(i)]) / static_cast<float>(j - i);
    }
  }
  std::nth_element(slopes.begin(), slopes.begin() + n / 2, slopes.begin() + n);
  return slopes[n / 2] / block_;  // (a float quotient, as before)
}

}  // namespace vigil
