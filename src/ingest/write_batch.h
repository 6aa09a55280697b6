// WriteBatch: what a sample decoder (remote_write, JSON samples) hands to the
// engine. Decoders accept a request partially: series with bad labels or bad
// samples are refused one by one and listed in `rejected`, the rest is valid
// and may be applied.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/sample.h"

namespace vigil {

// One series a decoder refused.
struct Rejection {
  size_t series_index = 0;  // position of the series in the request
  size_t samples = 0;       // samples it carried (not applied)
  // Human-readable, names the index, the label or field and the offending
  // value, e.g. `series[3]: invalid label name "foo-bar" (value "x")`.
  // Quoted input is escaped to printable ASCII, so it is safe to embed in JSON.
  std::string reason;
};

struct WriteBatch {
  // Valid series: labels sorted by name, validated, empty values dropped;
  // samples in the order the request gave them.
  std::vector<TimeSeries> series;
  size_t sample_count = 0;    // samples in `series`
  size_t metadata_count = 0;  // remote_write MetricMetadata entries seen (not kept)
  std::vector<Rejection> rejected;
  size_t rejected_samples = 0;  // sum of rejected[i].samples

  // Empties the batch. The series' memory (label strings, sample arrays) is
  // kept in a pool that NextSeries() reuses, so a decoder filling the same
  // WriteBatch request after request allocates almost nothing.
  void Clear() {
    for (auto& s : series) spare.push_back(std::move(s));
    series.clear();
    sample_count = 0;
    metadata_count = 0;
    rejected.clear();
    rejected_samples = 0;
  }

  // Appends a series for a decoder to fill, recycled from the pool when it
  // can be (its labels and samples hold stale content: overwrite both).
  TimeSeries& NextSeries() {
    if (spare.empty()) return series.emplace_back();
    series.push_back(std::move(spare.back()));
    spare.pop_back();
    return series.back();
  }

 private:
  std::vector<TimeSeries> spare;
};

}  // namespace vigil
