#include "ingest/otlp_traces.h"

#include <cstring>
#include <string>
#include <vector>

#include "ingest/json_text.h"
#include "ingest/otlp_wire.h"
#include "ingest/proto_wire.h"

namespace vigil {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
namespace ii = ingest_internal;

constexpr uint64_t kMaxNanos = 253402300799999ULL * 1000000ULL;

// ---- JSON ----

// AnyValue (JSON mapping) of a scalar kind.
ii::AttrValue JsonAttrValue(element v) {
  ii::AttrValue out;
  if (v.type() != element_type::OBJECT) return out;
  for (auto f : ii::ObjectOf(v)) {
    if (f.key == "stringValue" && f.value.type() == element_type::STRING) {
      out.kind = ii::AttrValue::kString;
      out.s = ii::StringOf(f.value);
    } else if (f.key == "intValue") {
      if (f.value.type() == element_type::INT64 || f.value.type() == element_type::UINT64) {
        out.kind = ii::AttrValue::kInt;
        out.i = ii::Int64Of(f.value);
      } else if (f.value.type() == element_type::STRING) {
        std::string_view s = ii::StringOf(f.value);
        char* end = nullptr;
        std::string tmp(s);
        long long n = std::strtoll(tmp.c_str(), &end, 10);
        if (!tmp.empty() && end == tmp.c_str() + tmp.size()) {
          out.kind = ii::AttrValue::kInt;
          out.i = n;
        }
      }
    } else if (f.key == "boolValue" && f.value.type() == element_type::BOOL) {
      out.kind = ii::AttrValue::kBool;
      bool b = false;
      if (f.value.get(b) != simdjson::SUCCESS) b = false;
      out.b = b;
    } else if (f.key == "doubleValue" && (f.value.type() == element_type::DOUBLE || f.value.type() == element_type::INT64 ||
                                          f.value.type() == element_type::UINT64)) {
      out.kind = ii::AttrValue::kDouble;
      out.d = ii::DoubleOf(f.value);
    }
    return out;
  }
  return out;
}

// Reads an attributes array into `facts`; "" or the reason it is malformed.
std::string JsonAttributes(element attrs, ii::SpanFacts* facts) {
  if (attrs.type() != element_type::ARRAY) return std::string("expected an array, got ") + ii::JsonTypeName(attrs);
  size_t i = 0;
  for (element kv : ii::ArrayOf(attrs)) {
    element key, value;
    if (kv.type() != element_type::OBJECT || ii::ObjectOf(kv)["key"].get(key) || key.type() != element_type::STRING) {
      return "[" + std::to_string(i) + "]: expected {\"key\": string, \"value\": AnyValue}";
    }
    ++i;
    if (ii::ObjectOf(kv)["value"].get(value)) continue;
    ii::NoteAttribute(ii::StringOf(key), JsonAttrValue(value), facts);
  }
  return {};
}

// A JSON enum: its number, or its name among `names` (index = value).
bool JsonEnum(element e, std::initializer_list<const char*> names, int64_t* out) {
  if (e.type() == element_type::INT64 || e.type() == element_type::UINT64) {
    *out = ii::Int64Of(e);
    return true;
  }
  if (e.type() == element_type::STRING) {
    int64_t k = 0;
    for (const char* n : names) {
      if (ii::StringOf(e) == n) {
        *out = k;
        return true;
      }
      ++k;
    }
  }
  return false;
}

// Decodes one span object; appends it or a rejection. The span's path
// ("<scope path>.spans[k]") is only built for a rejection: most spans are
// fine, and a string per span costs more than decoding it.
void JsonSpan(element sp, const std::string& prefix, size_t k, const ii::SpanFacts& res, SpanBatch* out) {
  auto reject = [&](const std::string& why) { out->rejected.push_back(ii::SpanPath(prefix, k) + why); };
  if (sp.type() != element_type::OBJECT) return reject(std::string(": expected an object, got ") + ii::JsonTypeName(sp));
  Span span;
  ii::SpanFacts own;
  // One pass over the fields (keyed lookups would rescan the object each time).
  element trace_id, span_id, parent_id, name, kind, start_e, end_e, attrs, status;
  bool has_trace = false, has_span = false, has_parent = false, has_name = false, has_kind = false, has_start = false,
       has_end = false, has_attrs = false, has_status = false;
  for (auto f : ii::ObjectOf(sp)) {
    const std::string_view key = f.key;
    if (key == "traceId") trace_id = f.value, has_trace = true;
    else if (key == "spanId") span_id = f.value, has_span = true;
    else if (key == "parentSpanId") parent_id = f.value, has_parent = true;
    else if (key == "name") name = f.value, has_name = true;
    else if (key == "kind") kind = f.value, has_kind = true;
    else if (key == "startTimeUnixNano") start_e = f.value, has_start = true;
    else if (key == "endTimeUnixNano") end_e = f.value, has_end = true;
    else if (key == "attributes") attrs = f.value, has_attrs = true;
    else if (key == "status") status = f.value, has_status = true;
  }
  if (!has_trace || trace_id.type() != element_type::STRING || ii::StringOf(trace_id).size() != 32 ||
      !ii::ParseHexId(ii::StringOf(trace_id), &span.trace_id.hi, &span.trace_id.lo)) {
    return reject(".traceId: expected 32 hex digits");
  }
  uint64_t hi = 0;
  if (!has_span || span_id.type() != element_type::STRING || ii::StringOf(span_id).size() != 16 ||
      !ii::ParseHexId(ii::StringOf(span_id), &hi, &span.span_id)) {
    return reject(".spanId: expected 16 hex digits");
  }
  if (has_parent) {
    std::string_view p = parent_id.type() == element_type::STRING ? ii::StringOf(parent_id) : std::string_view("?");
    if (!p.empty() && (p.size() != 16 || !ii::ParseHexId(p, &hi, &span.parent_span_id))) {
      return reject(".parentSpanId: expected 16 hex digits or \"\"");
    }
  }
  if (has_name) {
    if (name.type() != element_type::STRING) return reject(".name: expected a string");
    span.operation = std::string(ii::StringOf(name));
  }
  if (has_kind) {
    int64_t kv = 0;
    if (!JsonEnum(kind, {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                         "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
                  &kv) ||
        kv < 0 || kv > 5) {
      return reject(".kind: expected 0-5 or a SPAN_KIND_ name");
    }
    span.kind = static_cast<SpanKind>(kv);
  }
  uint64_t start = 0, end = 0;
  if (!has_start || !ii::JsonUnixNanos(start_e, &start)) {
    return reject(".startTimeUnixNano: expected Unix nanoseconds (string or number)");
  }
  if (!has_end || !ii::JsonUnixNanos(end_e, &end)) return reject(".endTimeUnixNano: expected Unix nanoseconds (string or number)");
  if (start > kMaxNanos) return reject(".startTimeUnixNano: beyond year 9999");
  if (end > kMaxNanos) return reject(".endTimeUnixNano: beyond year 9999");
  if (end < start) return reject(".endTimeUnixNano: before startTimeUnixNano");
  span.start_us = static_cast<int64_t>(start / 1000);
  span.duration_us = static_cast<int64_t>(end / 1000) - span.start_us;
  if (has_attrs) {
    std::string why = JsonAttributes(attrs, &own);
    if (!why.empty()) return reject(".attributes" + why);
  }
  if (has_status) {
    if (status.type() != element_type::OBJECT) return reject(".status: expected an object");
    element c;
    if (!ii::ObjectOf(status)["code"].get(c)) {
      int64_t code = 0;
      if (!JsonEnum(c, {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}, &code) || code < 0 || code > 2) {
        return reject(".status.code: expected 0-2 or a STATUS_CODE_ name");
      }
      span.error = code == 2;
    }
    if (!ii::ObjectOf(status)["message"].get(c) && c.type() == element_type::STRING && !ii::StringOf(c).empty()) {
      own.status_message = ii::StringOf(c);
    }
  }
  ii::FinishSpan(out, prefix, k, std::move(span), res, own);
}

// ---- protobuf ----

// Reads a KeyValue into `facts`.
bool WireAttribute(std::string_view kv, const char* base, ii::WireError* err, ii::SpanFacts* facts) {
  std::string_view key, value;
  if (!ii::ReadOtlpKeyValue(kv, base, err, &key, &value)) return false;
  uint32_t field, wire;
  ii::WireReader v(value, base, "opentelemetry.proto.common.v1.AnyValue", err);
  ii::AttrValue av;
  while (!v.done()) {
    if (!v.ReadKey(&field, &wire)) return false;
    if (field == 1 && wire == ii::kLen) {
      if (!v.ReadLen(&av.s)) return false;
      av.kind = ii::AttrValue::kString;
    } else if (field == 2 && wire == ii::kVarint) {
      uint64_t x;
      if (!v.ReadVarint(&x)) return false;
      av.kind = ii::AttrValue::kBool;
      av.b = x != 0;
    } else if (field == 3 && wire == ii::kVarint) {
      uint64_t x;
      if (!v.ReadVarint(&x)) return false;
      av.kind = ii::AttrValue::kInt;
      av.i = static_cast<int64_t>(x);
    } else if (field == 4 && wire == ii::kFixed64) {
      uint64_t x;
      if (!v.ReadFixed64(&x)) return false;
      av.kind = ii::AttrValue::kDouble;
      std::memcpy(&av.d, &x, sizeof av.d);
    } else if (!v.Skip(wire)) {
      return false;
    }
  }
  ii::NoteAttribute(key, av, facts);
  return true;
}

uint64_t BigEndian64(std::string_view b) {
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

// Decodes one Span message; false on a wire error (the whole body is then
// refused), otherwise appends the span or a rejection.
bool WireSpan(std::string_view bytes, const char* base, ii::WireError* err, const std::string& prefix, size_t index,
              const ii::SpanFacts& res, SpanBatch* out) {
  ii::WireReader r(bytes, base, "opentelemetry.proto.trace.v1.Span", err);
  Span span;
  ii::SpanFacts own;
  std::string_view trace_id, span_id, parent_id, name;
  uint64_t start = 0, end = 0, kind = 0;
  bool bad_attr = false;
  uint32_t field, wire;
  while (!r.done()) {
    if (!r.ReadKey(&field, &wire)) return false;
    if (field == 1 && wire == ii::kLen) {
      if (!r.ReadLen(&trace_id)) return false;
    } else if (field == 2 && wire == ii::kLen) {
      if (!r.ReadLen(&span_id)) return false;
    } else if (field == 4 && wire == ii::kLen) {
      if (!r.ReadLen(&parent_id)) return false;
    } else if (field == 5 && wire == ii::kLen) {
      if (!r.ReadLen(&name)) return false;
    } else if (field == 6 && wire == ii::kVarint) {
      if (!r.ReadVarint(&kind)) return false;
    } else if (field == 7 && wire == ii::kFixed64) {
      if (!r.ReadFixed64(&start)) return false;
    } else if (field == 8 && wire == ii::kFixed64) {
      if (!r.ReadFixed64(&end)) return false;
    } else if (field == 9 && wire == ii::kLen) {
      std::string_view kv;
      if (!r.ReadLen(&kv)) return false;
      if (!WireAttribute(kv, base, err, &own)) return false;
    } else if (field == 15 && wire == ii::kLen) {
      std::string_view st;
      if (!r.ReadLen(&st)) return false;
      ii::WireReader s(st, base, "opentelemetry.proto.trace.v1.Status", err);
      while (!s.done()) {
        if (!s.ReadKey(&field, &wire)) return false;
        if (field == 3 && wire == ii::kVarint) {
          uint64_t code;
          if (!s.ReadVarint(&code)) return false;
          span.error = code == 2;
        } else if (field == 2 && wire == ii::kLen) {
          if (!s.ReadLen(&own.status_message)) return false;
        } else if (!s.Skip(wire)) {
          return false;
        }
      }
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  (void)bad_attr;
  auto reject = [&](const std::string& why) {
    out->rejected.push_back(ii::SpanPath(prefix, index) + why);
    return true;
  };
  if (trace_id.size() != 16) return reject(".trace_id: expected 16 bytes, got " + std::to_string(trace_id.size()));
  if (span_id.size() != 8) return reject(".span_id: expected 8 bytes, got " + std::to_string(span_id.size()));
  if (!parent_id.empty() && parent_id.size() != 8) {
    return reject(".parent_span_id: expected 8 bytes or none, got " + std::to_string(parent_id.size()));
  }
  if (kind > 5) return reject(".kind: expected 0-5, got " + std::to_string(kind));
  if (start > kMaxNanos) return reject(".start_time_unix_nano: beyond year 9999");
  if (end > kMaxNanos) return reject(".end_time_unix_nano: beyond year 9999");
  if (end < start) return reject(".end_time_unix_nano: before start_time_unix_nano");
  span.trace_id.hi = BigEndian64(trace_id.substr(0, 8));
  span.trace_id.lo = BigEndian64(trace_id.substr(8));
  span.span_id = BigEndian64(span_id);
  span.parent_span_id = parent_id.empty() ? 0 : BigEndian64(parent_id);
  span.operation.assign(name);
  span.kind = static_cast<SpanKind>(kind);
  span.start_us = static_cast<int64_t>(start / 1000);
  span.duration_us = static_cast<int64_t>(end / 1000) - span.start_us;
  ii::FinishSpan(out, prefix, index, std::move(span), res, own);
  return true;
}

}  // namespace

namespace {
Status DecodeJsonBody(std::string_view body, SpanBatch* out) {
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;
  element root = doc.root(), rss;
  if (root.type() != element_type::OBJECT) {
    return Status::InvalidArgument("expected an object {\"resourceSpans\": [...]}, got " +
                                   std::string(ii::JsonTypeName(root)));
  }
  if (ii::ObjectOf(root)["resourceSpans"].get(rss)) return Status::Ok();  // nothing to export
  if (rss.type() != element_type::ARRAY) {
    return Status::InvalidArgument("resourceSpans: expected an array, got " + std::string(ii::JsonTypeName(rss)));
  }
  size_t ri = 0;
  for (element rs : ii::ArrayOf(rss)) {
    std::string path = "resourceSpans[" + std::to_string(ri++) + "]";
    if (rs.type() != element_type::OBJECT) return Status::InvalidArgument(path + ": expected an object");
    ii::SpanFacts res;
    element resource, attributes;
    if (!ii::ObjectOf(rs)["resource"].get(resource) && resource.type() == element_type::OBJECT &&
        !ii::ObjectOf(resource)["attributes"].get(attributes)) {
      std::string why = JsonAttributes(attributes, &res);
      if (!why.empty()) return Status::InvalidArgument(path + ".resource.attributes" + why);
    }
    element sss;
    if (ii::ObjectOf(rs)["scopeSpans"].get(sss)) continue;
    if (sss.type() != element_type::ARRAY) return Status::InvalidArgument(path + ".scopeSpans: expected an array");
    size_t si = 0;
    for (element ss : ii::ArrayOf(sss)) {
      std::string spath = path + ".scopeSpans[" + std::to_string(si++) + "]";
      if (ss.type() != element_type::OBJECT) return Status::InvalidArgument(spath + ": expected an object");
      element spans;
      if (ii::ObjectOf(ss)["spans"].get(spans)) continue;
      if (spans.type() != element_type::ARRAY) return Status::InvalidArgument(spath + ".spans: expected an array");
      size_t k = 0;
      const std::string prefix = spath + ".spans";
      for (element sp : ii::ArrayOf(spans)) JsonSpan(sp, prefix, k++, res, out);
    }
  }
  return Status::Ok();
}
}  // namespace

Status DecodeOtlpTracesJson(std::string_view body, SpanBatch* out) {
  out->clear();
  Status st = DecodeJsonBody(body, out);
  if (!st.ok()) out->clear();
  return st;
}

Status DecodeOtlpTracesProtobuf(std::string_view pb, SpanBatch* out) {
  out->clear();
  ii::WireError err;
  ii::SpanFacts pending, res;  // the resource being read, the one whose spans are read
  std::string prefix;
  auto on_attribute = [&](std::string_view kv) { return WireAttribute(kv, pb.data(), &err, &pending); };
  auto on_resource = [&](size_t) {
    res = std::move(pending);
    pending = {};
    return true;
  };
  auto on_record = [&](size_t ri, size_t si, size_t k, std::string_view sp) {
    if (k == 0) prefix = "resourceSpans[" + std::to_string(ri) + "].scopeSpans[" + std::to_string(si) + "].spans";
    return WireSpan(sp, pb.data(), &err, prefix, k, res, out);
  };
  const ii::OtlpEnvelope names{"opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                               "opentelemetry.proto.trace.v1.ResourceSpans", "opentelemetry.proto.trace.v1.ScopeSpans"};
  if (!ii::WalkOtlpExport(pb, names, &err, on_attribute, on_resource, on_record)) {
    out->clear();
    return Status::InvalidArgument("protobuf: " + err.ToString(pb.size()));
  }
  return Status::Ok();
}

}  // namespace vigil
