// Spans as the trace decoders produce them (OTLP/HTTP traces, Zipkin v2,
// Jaeger JSON). A decoder either refuses a whole body (its Status says why:
// malformed JSON or protobuf, wrong top-level shape) or returns a SpanBatch:
// the accepted spans plus one reason per refused span, naming it by its path
// in the payload ("resourceSpans[0].scopeSpans[0].spans[3].traceId: expected
// 32 hex digits"). Accepted spans are complete and valid: non-zero trace and
// span ids, a service, valid UTF-8 names of at most kMaxSpanNameBytes,
// start in years 1970-9999, a non-negative duration.
//
// What every decoder maps onto vigil::Span (core/span.h):
//   service    service.name (OTLP resource), localEndpoint.serviceName
//              (Zipkin), process.serviceName (Jaeger); "unknown_service"
//              when absent, as OpenTelemetry SDKs default it
//   instance   k8s.pod.name, else service.instance.id, else host.name /
//              hostname, else the endpoint's IP (Zipkin localEndpoint, a
//              Jaeger `ip` tag)
//   error      OTLP status ERROR, an `error` tag that is not "false",
//              otel.status_code=ERROR, or an HTTP status of 500 or more
//   attributes host, version (service.version), peer.service, http.route,
//              http.method, db.system, status.message (cut at 256 bytes)
// Zipkin's shared spans (the server half of an RPC that reuses the client's
// span id) keep that id and get parent_span_id == span_id; trace assembly
// resolves the pair (traces/assembler.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/span.h"

namespace vigil {

inline constexpr size_t kMaxSpanNameBytes = 1024;
inline constexpr size_t kMaxSpanAttributeBytes = 256;

struct SpanBatch {
  std::vector<Span> spans;
  std::vector<std::string> rejected;  // "path: reason", one per refused span
  void clear() {
    spans.clear();
    rejected.clear();
  }
};

namespace ingest_internal {

// An attribute value as the protocols carry it.
struct AttrValue {
  enum Kind { kString, kInt, kBool, kDouble, kOther } kind = kOther;
  std::string_view s;
  int64_t i = 0;
  bool b = false;
  double d = 0;
};

// What a decoder learns from attributes (resource-level and span-level are
// kept apart: span-level wins).
struct SpanFacts {
  std::string_view service, pod, instance_id, host, ip, version, peer, route, method, db, status_message;
  int http_status = 0;
  bool error = false;
  bool has_kind = false;
  SpanKind kind = SpanKind::kUnspecified;
};

// Notes one attribute (key, value) in `facts`; unknown keys are ignored.
void NoteAttribute(std::string_view key, const AttrValue& v, SpanFacts* facts);

// Parses 1 to 32 hex digits (either case) into a 128-bit id, right-aligned
// (Jaeger drops leading zeros). False for anything else.
bool ParseHexId(std::string_view hex, uint64_t* hi, uint64_t* lo);

// Fills service, instance, error, http status, kind (when the tags carry
// one) and attributes from the resource-level and span-level facts, checks
// the span and appends it, or appends a rejection "path: reason". The path
// is `prefix[index]` (built only for a rejection), or `prefix` when index
// is kNoIndex.
inline constexpr size_t kNoIndex = static_cast<size_t>(-1);
std::string SpanPath(const std::string& prefix, size_t index);
void FinishSpan(SpanBatch* out, const std::string& prefix, size_t index, Span span, const SpanFacts& resource,
                const SpanFacts& own);

}  // namespace ingest_internal

}  // namespace vigil
