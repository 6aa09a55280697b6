// The encodings of the store's BLOB columns: label sets (anomaly labels,
// event labels, incident entity labels) and an incident's series list. Built
// from core/byte_codec.h; round-trip any bytes exactly (no UTF-8
// requirement, embedded NULs kept), which a JSON column would not.
//
// These bytes are on disk: change a format by adding a version, never by
// editing an existing one. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/incident.h"
#include "core/labels.h"
#include "core/status.h"

namespace vigil::blob_columns {

// bytes::PutLabels alone: varint count, then each name and value
// length-prefixed.
std::string EncodeLabels(const Labels& labels);
// Corruption naming what was wrong unless `bytes` is exactly one encoding.
Result<Labels> DecodeLabels(std::string_view bytes);

// Version byte 1, varint count, then per series: fixed64 id,
// length-prefixed name, double max_score, varint anomalies (zigzag),
// fixed64 last_anomaly_ms.
std::string EncodeIncidentSeries(const std::vector<IncidentSeries>& series);
Result<std::vector<IncidentSeries>> DecodeIncidentSeries(std::string_view bytes);

}  // namespace vigil::blob_columns
