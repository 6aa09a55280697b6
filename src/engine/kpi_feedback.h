// KpiFeedback: the operators' verdicts on anomalies ("false alarm" / "real"),
// stored and replayable, and the per-series sensitivity they imply.
//
// Each verdict is appended to a log kept in the store (snapshot key
// "feedback/log": one line "anomaly_id series_hex verdict ts_ms" per
// verdict, at most kMaxEntries, oldest dropped). The sensitivity of a series
// is KpiDetector's feedback rule applied to its verdicts in order, so
// loading the log at start rebuilds exactly what the running daemon had.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"
#include "core/status.h"

namespace vigil {

class Store;

class KpiFeedback {
 public:
  static constexpr size_t kMaxEntries = 100000;

  // Reads the log from the store (a missing log is empty).
  Status Load(Store* store);
  // Appends one verdict, persists the log, and returns the series' new
  // sensitivity.
  Result<double> Record(Store* store, int64_t anomaly_id, SeriesId series, bool false_alarm, TimestampMs now);
  // 1.0 for a series without feedback.
  double SensitivityOf(SeriesId series) const;
  // Bumped at every change, so detector threads re-read only when needed.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  size_t size() const;

 private:
  struct Entry {
    int64_t anomaly_id;
    SeriesId series;
    bool false_alarm;
    TimestampMs ts_ms;
  };
  void Apply(const Entry& e);
  std::string Encode() const;

  mutable std::mutex mu_;
  std::vector<Entry> log_;
  std::unordered_map<SeriesId, double> sensitivity_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace vigil
