// JSON sample push (POST /api/v1/samples, docs/api-contract.md):
//
//   {"series": [
//     {"labels": {"__name__": "checkout_latency_ms", "service": "checkout"},
//      "samples": [[1700000000000, 12.5], ["2026-11-23T10:00:00Z", "NaN"]]}
//   ]}
//
// A top-level array of series objects is accepted as well. A sample is a
// [time, value] pair, or a bare value meaning "at now_ms". Times: Unix
// milliseconds, Unix seconds (number below 1e11, fraction allowed) or an
// RFC 3339 string. Values: a number or a string as Prometheus writes them
// ("NaN", "+Inf", "-Inf", "1.5"). Unknown keys are ignored.
#pragma once

#include <string_view>

#include "core/sample.h"
#include "core/status.h"
#include "ingest/write_batch.h"

namespace vigil {

// Clears `*out`, then decodes `body` into it.
// Malformed JSON, or a document that is neither {"series": [...]} nor an
// array, gives InvalidArgument (with the byte offset, line and column of a
// syntax error) and leaves `*out` empty.
// A series with a problem is refused alone and listed in out->rejected with
// a reason naming its path, e.g.
//   series[2].labels: missing
//   series[2].labels.job: expected a string, got number
//   series[2].samples[5][1]: expected a number, got string "abc"
//   series[2].samples[5][0]: invalid RFC 3339 time "yesterday": ...
// Label rules are those of remote_write (valid names, __name__ required).
// A series with valid labels and an empty "samples" array is skipped.
Status DecodeJsonSamples(std::string_view body, TimestampMs now_ms, WriteBatch* out);

}  // namespace vigil
