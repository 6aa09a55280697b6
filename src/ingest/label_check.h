// Label validation shared by the ingest decoders (internal to src/ingest).
//
// Rules are Prometheus' own: label names match [a-zA-Z_][a-zA-Z0-9_]*, metric
// names (the value of __name__) match [a-zA-Z_:][a-zA-Z0-9_:]*, values are
// valid UTF-8, a label with an empty value is the same as an absent label.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"

namespace vigil::ingest_internal {

bool IsValidLabelName(std::string_view name);
bool IsValidMetricName(std::string_view name);
bool IsValidUtf8(std::string_view text);

// `text` in double quotes for an error message: printable ASCII is kept,
// `"` and `\` are escaped, every other byte becomes \xNN, and text longer
// than `max_bytes` is cut with "...". The result is always valid UTF-8 (and
// so safe in a JSON error body).
std::string Quote(std::string_view text, size_t max_bytes = 96);

// A label whose bytes live elsewhere (the decompressed request, the parsed
// JSON document); decoders validate views and copy only what they keep.
struct LabelView {
  std::string_view name;
  std::string_view value;
};

// Brings a label set into the form Labels::FromSorted expects and checks it:
// drops labels with empty values, sorts by name (stable; skipped when already
// sorted, as Prometheus sends them), then verifies names, UTF-8 values,
// uniqueness and, when `require_metric_name`, a valid non-empty __name__.
// Returns "" when the set is valid, otherwise the reason (naming the label
// and its value) without any location prefix.
std::string NormalizeLabels(std::vector<LabelView>& labels, bool require_metric_name);

// Copies normalized views into a Labels value.
Labels LabelsFromViews(const std::vector<LabelView>& labels);

}  // namespace vigil::ingest_internal
