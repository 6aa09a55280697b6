#include "ingest/zipkin_spans.h"

#include <string>

#include "ingest/json_text.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

bool JsonMicros(element e, int64_t* out) {
  if (e.type() == element_type::INT64 || e.type() == element_type::UINT64) {
    int64_t v = 0;
    if (e.get(v) || v < 0) return false;
    *out = v;
    return true;
  }
  if (e.type() == element_type::DOUBLE) {  // some clients send 1.7e15
    double d = ii::DoubleOf(e);
    if (!(d >= 0 && d < 9.2e18)) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

SpanKind ZipkinKind(std::string_view k) {
  if (k == "SERVER") return SpanKind::kServer;
  if (k == "CLIENT") return SpanKind::kClient;
  if (k == "PRODUCER") return SpanKind::kProducer;
  if (k == "CONSUMER") return SpanKind::kConsumer;
  return SpanKind::kUnspecified;
}

void ZipkinSpan(element sp, size_t index, SpanBatch* out) {
  static const std::string kRoot;
  auto reject = [&](const std::string& why) { out->rejected.push_back(ii::SpanPath(kRoot, index) + why); };
  if (sp.type() != element_type::OBJECT) return reject(std::string(": expected an object, got ") + ii::JsonTypeName(sp));
  auto obj = ii::ObjectOf(sp);
  Span span;
  ii::SpanFacts own, none;
  element e;
  if (obj["traceId"].get(e) || e.type() != element_type::STRING ||
      (ii::StringOf(e).size() != 16 && ii::StringOf(e).size() != 32) ||
      !ii::ParseHexId(ii::StringOf(e), &span.trace_id.hi, &span.trace_id.lo)) {
    return reject(".traceId: expected 16 or 32 hex digits");
  }
  uint64_t hi = 0;
  if (obj["id"].get(e) || e.type() != element_type::STRING || ii::StringOf(e).size() != 16 ||
      !ii::ParseHexId(ii::StringOf(e), &hi, &span.span_id)) {
    return reject(".id: expected 16 hex digits");
  }
  if (!obj["parentId"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (e.type() != element_type::STRING || ii::StringOf(e).size() != 16 ||
        !ii::ParseHexId(ii::StringOf(e), &hi, &span.parent_span_id)) {
      return reject(".parentId: expected 16 hex digits");
    }
  }
  if (!obj["name"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (e.type() != element_type::STRING) return reject(".name: expected a string");
    span.operation = std::string(ii::StringOf(e));
  }
  if (!obj["kind"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (e.type() != element_type::STRING) return reject(".kind: expected CLIENT, SERVER, PRODUCER or CONSUMER");
    span.kind = ZipkinKind(ii::StringOf(e));
    if (span.kind == SpanKind::kUnspecified) return reject(".kind: expected CLIENT, SERVER, PRODUCER or CONSUMER");
  }
  if (obj["timestamp"].get(e) || !JsonMicros(e, &span.start_us)) {
    return reject(".timestamp: expected Unix microseconds (an integer)");
  }
  if (!obj["duration"].get(e) && e.type() != element_type::NULL_VALUE && !JsonMicros(e, &span.duration_us)) {
    return reject(".duration: expected microseconds (a non-negative integer)");
  }
  element ep, x;
  if (!obj["localEndpoint"].get(ep) && ep.type() != element_type::NULL_VALUE) {
    if (ep.type() != element_type::OBJECT) return reject(".localEndpoint: expected an object");
    auto o = ii::ObjectOf(ep);
    if (!o["serviceName"].get(x) && x.type() == element_type::STRING) own.service = ii::StringOf(x);
    if (!o["ipv4"].get(x) && x.type() == element_type::STRING) own.ip = ii::StringOf(x);
    else if (!o["ipv6"].get(x) && x.type() == element_type::STRING) own.ip = ii::StringOf(x);
  }
  std::string_view remote_service;
  if (!obj["remoteEndpoint"].get(ep) && ep.type() == element_type::OBJECT &&
      !ii::ObjectOf(ep)["serviceName"].get(x) && x.type() == element_type::STRING) {
    remote_service = ii::StringOf(x);
  }
  if (!obj["tags"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (e.type() != element_type::OBJECT) return reject(".tags: expected an object of strings");
    for (auto f : ii::ObjectOf(e)) {
      if (f.value.type() != element_type::STRING) {
        return reject(".tags" + ii::KeyPath(f.key) + ": expected a string, got " + ii::JsonTypeName(f.value));
      }
      ii::AttrValue v;
      v.kind = ii::AttrValue::kString;
      v.s = ii::StringOf(f.value);
      // The exporter copies resource attributes into tags: service.name is
      // not the span's own service when localEndpoint names one.
      if (f.key == "service.name" && !own.service.empty()) continue;
      ii::NoteAttribute(f.key, v, &own);
    }
  }
  if (own.peer.empty() && span.kind == SpanKind::kClient) own.peer = remote_service;
  bool shared = false;
  if (!obj["shared"].get(e) && e.type() == element_type::BOOL) if (e.get(shared) != simdjson::SUCCESS) shared = false;
  // The server half of a shared RPC span: same id as the client half, which
  // is its parent (assembly tells the two apart by service and kind).
  if (shared && span.kind == SpanKind::kServer) span.parent_span_id = span.span_id;
  ii::FinishSpan(out, kRoot, index, std::move(span), none, own);
}

}  // namespace

Status DecodeZipkinSpansJson(std::string_view body, SpanBatch* out) {
  out->clear();
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  element root = doc.root();
  if (root.type() != element_type::ARRAY) {
    return Status::InvalidArgument("expected an array of Zipkin v2 spans, got " + std::string(ii::JsonTypeName(root)));
  }
  size_t i = 0;
  for (element sp : ii::ArrayOf(root)) ZipkinSpan(sp, i++, out);
  return Status::Ok();
}

}  // namespace vigil
