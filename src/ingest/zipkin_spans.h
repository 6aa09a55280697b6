// Zipkin v2 JSON spans (POST /api/v2/spans): an array of
//   {"traceId": 16 or 32 hex, "id": 16 hex, "parentId", "name", "kind":
//    "CLIENT"|"SERVER"|"PRODUCER"|"CONSUMER", "timestamp": µs, "duration": µs,
//    "localEndpoint": {"serviceName", "ipv4", "ipv6", "port"},
//    "remoteEndpoint": {...}, "tags": {string: string}, "shared": bool}
// (zipkin-api's zipkin2-api.yaml). The tags are OpenTelemetry or OpenTracing
// names (http.status_code, error, peer.service ...); a client span's
// remoteEndpoint.serviceName stands for peer.service when that tag is
// absent. Mapping and refusal rules: span_batch.h.
#pragma once

#include <string_view>

#include "core/status.h"
#include "ingest/span_batch.h"

namespace vigil {

Status DecodeZipkinSpansJson(std::string_view body, SpanBatch* out);

}  // namespace vigil
