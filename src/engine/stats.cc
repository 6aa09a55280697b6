#include "engine/stats.h"

#include <cstdio>

namespace vigil {

void LatencyHistogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void LatencyHistogram::Render(const std::string& name, const std::string& help, std::string* out) const {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  char buf[160];
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cum += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), kBounds[i],
                  static_cast<unsigned long long>(cum));
    *out += buf;
  }
  cum += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name.c_str(),
                static_cast<unsigned long long>(cum), name.c_str(),
                static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6, name.c_str(),
                static_cast<unsigned long long>(count_.load(std::memory_order_relaxed)));
  *out += buf;
}

const char* RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kInvalidLabels: return "invalid_labels";
    case RejectReason::kOutOfOrder: return "out_of_order";
    case RejectReason::kSeriesLimit: return "series_limit";
    case RejectReason::kQueueFull: return "queue_full";
    case RejectReason::kMalformed: return "malformed";
    case RejectReason::kCount: break;
  }
  return "unknown";
}

}  // namespace vigil
