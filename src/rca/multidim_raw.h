// Raw detail rows -> leaf rows for multi-dimensional localization: each row
// is one observation (`ts,province,isp,...,value`, or one request per row
// without a value column). Rows are summed per leaf (attribute combination)
// and interval; the anomalous interval's sum is `real`, and `predict` is a
// robust forecast from the intervals before it: the per-leaf median of the
// previous `baseline_intervals` intervals' sums (a leaf absent from one of
// them counts 0 there). The median ignores one odd interval among the
// baseline, which a mean would carry into every leaf. Pure: text in, table out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "rca/multidim.h"

namespace vigil::rca {

// A CSV record split into fields: ',' separated, a field may be "quoted"
// with "" for a quote inside; a trailing '\r' is dropped.
std::vector<std::string> SplitCsvRecord(std::string_view line);

struct RawRowsSpec {
  std::string time_column;           // required: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC), or epoch s / ms
  std::string value_column;          // "" = each row counts 1
  std::vector<std::string> attrs;    // attribute columns; empty = every other column
  TimestampMs at_ms = INT64_MIN;     // a time inside the anomalous interval; unset = the last interval
  int64_t interval_ms = 0;           // interval width; 0 = the smallest gap between distinct row times
  size_t baseline_intervals = 4;     // previous intervals (with rows) the forecast uses
};

struct RawAggregation {
  LeafTable table;
  TimestampMs at_ms = 0;        // start of the anomalous interval
  int64_t interval_ms = 0;
  size_t baseline_used = 0;     // previous intervals found (<= baseline_intervals)
  size_t rows = 0;              // rows read (all intervals)
};

// Errors name the line, the column and the value ("line 7: column \"ts\": \"x\" is not a time").
// FailedPrecondition-like InvalidArgument when no earlier interval exists to forecast from.
Result<RawAggregation> AggregateRawRows(std::string_view csv, const RawRowsSpec& spec);

}  // namespace vigil::rca
