// OTLP/HTTP logs (POST /v1/logs), JSON and protobuf encodings of
// opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest:
//   resource_logs=1 {resource=1 {attributes=1 KeyValue}, scope_logs=2
//   {log_records=2 {time_unix_nano=1 fixed64, severity_number=2,
//   severity_text=3, body=5 AnyValue, attributes=6,
//   observed_time_unix_nano=11 fixed64}}}
// (field numbers from the upstream .proto; read straight off the wire).
//
// Stream labels come from the resource's string attributes, with '.' turned
// into '_' (service.name -> service_name) and service.name also as `service`.
// The time is time_unix_nano, or observed_time_unix_nano when 0. A body that
// is not a string is rendered as JSON text. Severity numbers map to vigil's
// scale (1-8 debug, 9-12 info, 13-16 warning, 17-20 error, 21-24 fatal).
// JSON follows the OTLP/JSON mapping: ids are hex, 64-bit integers may be
// strings or numbers.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/log_batch.h"

namespace vigil {

Status DecodeOtlpLogsJson(std::string_view body, LogBatch* out);
Status DecodeOtlpLogsProtobuf(std::string_view body, LogBatch* out);

// OTLP severity_number (1..24) to vigil's scale, -1 when unspecified.
int SeverityFromOtlp(int64_t number);

}  // namespace vigil
