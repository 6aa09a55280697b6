// OTLP/HTTP traces (POST /v1/traces), JSON and protobuf encodings of
// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest:
//   resource_spans=1 {resource=1 {attributes=1 KeyValue},
//   scope_spans=2 {spans=2 {trace_id=1 bytes, span_id=2 bytes,
//   parent_span_id=4 bytes, name=5, kind=6, start_time_unix_nano=7 fixed64,
//   end_time_unix_nano=8 fixed64, attributes=9 KeyValue,
//   status=15 {message=2, code=3}}}}
// (field numbers from the upstream .proto, read straight off the wire with
// ingest/proto_wire.h). JSON follows the OTLP/JSON mapping: ids are hex,
// 64-bit integers may be strings or numbers, enums integers or their names.
// Mapping onto vigil::Span and the rules for refused spans: span_batch.h.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/span_batch.h"

namespace vigil {

Status DecodeOtlpTracesJson(std::string_view body, SpanBatch* out);
Status DecodeOtlpTracesProtobuf(std::string_view body, SpanBatch* out);

}  // namespace vigil
