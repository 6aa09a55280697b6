// Invariants the ingest fuzz targets check on every decoder output
// (internal to src/ingest; header-only so the library does not carry it).
// A broken invariant aborts, which libFuzzer records as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ingest/label_check.h"
#include "ingest/write_batch.h"

namespace vigil::ingest_internal {

inline void FuzzCheck(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// Messages end up in JSON error bodies: they must be printable ASCII
// (Quote escapes everything else) and never empty.
inline void CheckMessage(std::string_view msg) {
  FuzzCheck(!msg.empty(), "empty error message");
  for (unsigned char c : msg) FuzzCheck(c >= 0x20 && c < 0x7f, "non-printable byte in an error message");
}

inline void CheckLabels(const Labels& labels, bool require_metric_name) {
  const auto& items = labels.items();
  bool has_name = false;
  for (size_t i = 0; i < items.size(); ++i) {
    FuzzCheck(!items[i].value.empty(), "empty label value kept");
    FuzzCheck(IsValidUtf8(items[i].value), "invalid UTF-8 label value kept");
    if (i > 0) FuzzCheck(items[i - 1].name < items[i].name, "labels not sorted or not unique");
    if (items[i].name == "__name__") {
      has_name = true;
      FuzzCheck(IsValidMetricName(items[i].value), "invalid metric name kept");
    } else {
      FuzzCheck(IsValidLabelName(items[i].name), "invalid label name kept");
    }
  }
  if (require_metric_name) FuzzCheck(has_name, "series without __name__ kept");
}

inline void CheckBatch(const WriteBatch& b, bool ok) {
  if (!ok) {
    FuzzCheck(b.series.empty() && b.rejected.empty() && b.sample_count == 0, "failed decode left data behind");
    return;
  }
  size_t samples = 0;
  FuzzCheck(b.keys.empty() || b.keys.size() == b.series.size(), "keys not one per series");
  for (size_t i = 0; i < b.series.size(); ++i) {
    const TimeSeries& s = b.series[i];
    FuzzCheck(!s.samples.empty(), "series without samples kept");
    const Labels labels = b.LabelsOf(i);
    CheckLabels(labels, /*require_metric_name=*/true);
    FuzzCheck(!labels.empty(), "series without labels");
    FuzzCheck(b.IdOf(i) == SeriesIdOf(labels), "series id is not the hash of its labels");
    samples += s.samples.size();
  }
  FuzzCheck(samples == b.sample_count, "sample_count does not match the series");
  size_t rejected = 0;
  size_t last_index = 0;
  for (size_t i = 0; i < b.rejected.size(); ++i) {
    CheckMessage(b.rejected[i].reason);
    if (i > 0) FuzzCheck(b.rejected[i].series_index > last_index, "rejections out of order");
    last_index = b.rejected[i].series_index;
    rejected += b.rejected[i].samples;
  }
  FuzzCheck(rejected == b.rejected_samples, "rejected_samples does not match the rejections");
}

}  // namespace vigil::ingest_internal
