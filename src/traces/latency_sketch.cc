#include "traces/latency_sketch.h"

#include <algorithm>
#include <cmath>

namespace vigil::traces {

namespace {
const double kGamma = (1 + LatencySketch::kRelativeAccuracy) / (1 - LatencySketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
}  // namespace

int LatencySketch::BucketOf(int64_t d) {
  if (d <= 1) return 0;
  int b = static_cast<int>(std::ceil(std::log(static_cast<double>(d)) / kLogGamma));
  return std::min(b, kMaxBuckets - 1);
}

double LatencySketch::ValueOf(int b) {
  if (b <= 0) return 1;
  // The bucket covers (g^(b-1), g^b]; this point is within a of all of it.
  return 2 * std::pow(kGamma, b) / (kGamma + 1);
}

void LatencySketch::Add(int64_t duration_us, uint32_t count) {
  if (count == 0) return;
  uint16_t b = static_cast<uint16_t>(BucketOf(duration_us));
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b,
                             [](const std::pair<uint16_t, uint32_t>& x, uint16_t k) { return x.first < k; });
  if (it != buckets_.end() && it->first == b) {
    it->second += count;
  } else {
    buckets_.insert(it, {b, count});
  }
  count_ += count;
}

void LatencySketch::Merge(const LatencySketch& o) {
  if (o.buckets_.empty()) return;
  std::vector<std::pair<uint16_t, uint32_t>> out;
  out.reserve(buckets_.size() + o.buckets_.size());
  size_t i = 0, j = 0;
  while (i < buckets_.size() || j < o.buckets_.size()) {
    if (j == o.buckets_.size() || (i < buckets_.size() && buckets_[i].first < o.buckets_[j].first)) {
      out.push_back(buckets_[i++]);
    } else if (i == buckets_.size() || o.buckets_[j].first < buckets_[i].first) {
      out.push_back(o.buckets_[j++]);
    } else {
      out.push_back({buckets_[i].first, buckets_[i].second + o.buckets_[j].second});
      ++i;
      ++j;
    }
  }
  buckets_ = std::move(out);
  count_ += o.count_;
}

double LatencySketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the q-quantile (lower), as in DDSketch.
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
  uint64_t seen = 0;
  for (const auto& [b, c] : buckets_) {
    seen += c;
    if (seen > rank) return ValueOf(b);
  }
  return ValueOf(buckets_.back().first);
}

uint64_t LatencySketch::CountAbove(double threshold_us) const {
  uint64_t n = 0;
  for (auto it = buckets_.rbegin(); it != buckets_.rend(); ++it) {
    if (ValueOf(it->first) <= threshold_us) break;
    n += it->second;
  }
  return n;
}

}  // namespace vigil::traces
