// EngineStats: vigil's own metrics, rendered at GET /metrics in the
// Prometheus text format. Plain atomics: updated on hot paths without locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace vigil {

// A fixed-bucket histogram of seconds.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  void Observe(double seconds);
  // Appends the _bucket/_sum/_count lines for metric `name`.
  void Render(const std::string& name, const std::string& help, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

enum class RejectReason { kInvalidLabels, kOutOfOrder, kSeriesLimit, kQueueFull, kMalformed, kCount };
const char* RejectReasonName(RejectReason r);

struct EngineStats {
  std::atomic<uint64_t> write_requests{0};
  // remote_write series whose labels the decoders' series caches skipped
  // (hits) or parsed with the cache on (misses), and cache resets.
  std::atomic<uint64_t> series_cache_hits{0};
  std::atomic<uint64_t> series_cache_misses{0};
  std::atomic<uint64_t> series_cache_resets{0};
  std::atomic<uint64_t> samples_requests{0};
  std::atomic<uint64_t> samples_accepted{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(RejectReason::kCount)> samples_rejected{};
  std::atomic<uint64_t> requests_refused_full{0};
  std::atomic<uint64_t> stale_markers{0};
  std::atomic<uint64_t> duplicate_samples{0};
  std::atomic<uint64_t> series_created{0};
  std::atomic<uint64_t> series_active{0};
  std::atomic<uint64_t> series_limit_hits{0};
  std::atomic<uint64_t> points_analysed{0};
  std::atomic<uint64_t> window_overwrites{0};
  std::atomic<uint64_t> anomalies{0};
  std::atomic<uint64_t> incidents_opened{0};
  std::atomic<uint64_t> incidents_resolved{0};
  std::atomic<uint64_t> incidents_open{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> notifications_enqueued{0};
  std::atomic<uint64_t> snapshots_written{0};
  std::atomic<uint64_t> snapshot_errors{0};
  std::atomic<uint64_t> store_errors{0};
  // Newest sample timestamp accepted so far: the time of the data, which
  // `vigil serve --clock data` runs the incident lifecycle on (replays and
  // accelerated simulations).
  std::atomic<int64_t> newest_sample_ms{0};
  LatencyHistogram detect_latency;  // enqueue -> analysed, per batch
};

}  // namespace vigil
