// LatencySketch: a compact latency distribution with relative-error
// quantiles, after DDSketch (Masson, Rim and Lee, "DDSketch: A Fast and
// Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
//
// A duration x (µs, >= 1) falls in bucket ceil(log_g(x)) with
// g = (1 + a) / (1 - a); every quantile is then returned within a relative
// error a of the true one, whatever the distribution (a = 2% here). Buckets
// are kept sparse and sorted (a service's latencies usually fill a few dozen
// of them), so a sketch costs a few hundred bytes; sketches of the same
// accuracy merge exactly (adding counts), which is how sliding windows are
// built from per-slot sketches. At most kMaxBuckets buckets exist (1 µs to
// ~3 hours at 2%); longer durations share the last.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace vigil::traces {

class LatencySketch {
 public:
  static constexpr double kRelativeAccuracy = 0.02;
  static constexpr int kMaxBuckets = 600;

  void Add(int64_t duration_us, uint32_t count = 1);
  void Merge(const LatencySketch& other);
  void Clear() {
    buckets_.clear();
    count_ = 0;
  }

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The q-quantile (0 <= q <= 1) in µs; 0 when empty.
  double Quantile(double q) const;
  // How many durations exceed `threshold_us` (to the bucket's accuracy).
  uint64_t CountAbove(double threshold_us) const;
  size_t bytes() const { return sizeof(*this) + buckets_.capacity() * sizeof(buckets_[0]); }

  static int BucketOf(int64_t duration_us);
  static double ValueOf(int bucket);

 private:
  std::vector<std::pair<uint16_t, uint32_t>> buckets_;  // (bucket, count), sorted by bucket
  uint64_t count_ = 0;
};

}  // namespace vigil::traces
