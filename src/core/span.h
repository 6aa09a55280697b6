// Spans: one timed operation of one trace, as every trace decoder (OTLP,
// Zipkin, Jaeger, the Nezha CSV reader) hands it to the rest of vigil.
// Decoders map their protocol's fields onto this one shape so that trace
// assembly, the dependency graph, per-operation baselines and the trace
// localizers never see a wire format.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/sample.h"

namespace vigil {

// 128-bit trace id (OTLP and W3C width; 64-bit Zipkin/Jaeger ids use hi = 0).
struct TraceId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const TraceId&) const = default;
  bool empty() const { return hi == 0 && lo == 0; }
};

struct TraceIdHash {
  size_t operator()(const TraceId& t) const {
    // The ids are random already; mixing the halves is enough.
    return static_cast<size_t>(t.lo ^ (t.hi * 0x9e3779b97f4a7c15ULL));
  }
};

enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

struct Span {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;  // 0: a root span
  std::string service;          // service.name / localEndpoint.serviceName
  std::string instance;         // pod, service.instance.id or host; "" unknown
  std::string operation;        // span name, e.g. "GET /cart"
  SpanKind kind = SpanKind::kUnspecified;
  int64_t start_us = 0;         // Unix microseconds
  int64_t duration_us = 0;
  bool error = false;           // status ERROR, error tag, or HTTP 5xx
  int http_status = 0;          // 0: unknown
  // A few attributes worth keeping for localization (host, version,
  // endpoint, peer, ...); not every attribute the client sent.
  std::vector<std::pair<std::string, std::string>> attributes;

  int64_t end_us() const { return start_us + duration_us; }
  TimestampMs start_ms() const { return start_us / 1000; }
};

}  // namespace vigil
