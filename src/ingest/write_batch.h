// WriteBatch: what a sample decoder (remote_write, JSON samples) hands to the
// engine. Decoders accept a request partially: series with bad labels or bad
// samples are refused one by one and listed in `rejected`, the rest is valid
// and may be applied.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
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

// What a decoder already knows of one series of a batch (the remote_write
// decoder's series cache, ingest/series_key_cache.h).
struct SeriesKey {
  bool has_id = false;  // `id` is SeriesIdOf(the series' labels)
  SeriesId id = 0;
  // Not empty when the decoder recognised the series from an earlier
  // request and left its TimeSeries::labels empty (no copy): the series'
  // remote_write Label fields, as sent. WriteBatch::LabelsOf turns them into
  // its labels. Points into the decoder's input buffer: valid until the
  // decoder's next call.
  std::string_view label_fields;
};

struct WriteBatch {
  // Valid series: labels sorted by name, validated, empty values dropped;
  // samples in the order the request gave them. A series listed with
  // label_fields in `keys` has empty labels here: use LabelsOf(i).
  std::vector<TimeSeries> series;
  // Empty, or one entry per series (what the decoder knew of series[i]).
  std::vector<SeriesKey> keys;
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
    keys.clear();
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

  // The id of series[i]: from `keys` when the decoder gave it, else hashed
  // from its labels.
  SeriesId IdOf(size_t i) const {
    return i < keys.size() && keys[i].has_id ? keys[i].id : SeriesIdOf(series[i].labels);
  }
  // True when series[i].labels was left empty (see SeriesKey::label_fields).
  bool LabelsElsewhere(size_t i) const { return i < keys.size() && !keys[i].label_fields.empty(); }
  // The labels of series[i], wherever they are (a copy).
  Labels LabelsOf(size_t i) const;

 private:
  std::vector<TimeSeries> spare;
};

}  // namespace vigil
