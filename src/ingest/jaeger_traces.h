// Jaeger JSON traces: the document Jaeger's query API returns
// (GET /api/traces/{id}) and its UI exports,
//   {"data": [{"traceID": hex, "spans": [{"traceID", "spanID",
//     "operationName", "references": [{"refType": "CHILD_OF"|"FOLLOWS_FROM",
//     "traceID", "spanID"}], "startTime": µs, "duration": µs,
//     "tags": [{"key", "type", "value"}], "processID"}],
//     "processes": {"p1": {"serviceName", "tags": [...]}}}]}
// (a bare array of such trace objects is accepted too). Jaeger writes ids
// without leading zeros, so 1-32 (trace) and 1-16 (span) hex digits are
// accepted. The parent is the CHILD_OF reference, else the first
// FOLLOWS_FROM; span kind comes from the span.kind tag. Mapping and refusal
// rules: span_batch.h.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/span_batch.h"

namespace vigil {

Status DecodeJaegerTracesJson(std::string_view body, SpanBatch* out);

}  // namespace vigil
