#include "ingest/span_batch.h"

#include <cstdlib>

#include "ingest/label_check.h"

namespace vigil::ingest_internal {

namespace {

constexpr int64_t kMaxTimeUs = 253402300799999LL * 1000;  // 9999-12-31T23:59:59.999Z

bool Truthy(const AttrValue& v) {
  switch (v.kind) {
    case AttrValue::kBool:
      return v.b;
    case AttrValue::kString:
      return !v.s.empty() && v.s != "false" && v.s != "False" && v.s != "FALSE" && v.s != "0";
    case AttrValue::kInt:
      return v.i != 0;
    default:
      return true;
  }
}

int IntOf(const AttrValue& v) {
  if (v.kind == AttrValue::kInt) return v.i > 0 && v.i < 1000 ? static_cast<int>(v.i) : 0;
  if (v.kind == AttrValue::kDouble) return v.d > 0 && v.d < 1000 ? static_cast<int>(v.d) : 0;
  if (v.kind == AttrValue::kString && !v.s.empty() && v.s.size() <= 3) {
    int n = 0;
    for (char c : v.s) {
      if (c < '0' || c > '9') return 0;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return 0;
}

SpanKind KindOfText(std::string_view s) {
  auto eq = [&](const char* w) {
    std::string_view x(w);
    if (s.size() != x.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(s[i])) != x[i]) return false;
    }
    return true;
  };
  if (eq("server")) return SpanKind::kServer;
  if (eq("client")) return SpanKind::kClient;
  if (eq("producer")) return SpanKind::kProducer;
  if (eq("consumer")) return SpanKind::kConsumer;
  if (eq("internal")) return SpanKind::kInternal;
  return SpanKind::kUnspecified;
}

void SetIf(std::string_view* slot, const AttrValue& v) {
  if (v.kind == AttrValue::kString && !v.s.empty()) *slot = v.s;
}

// Cuts at a UTF-8 boundary.
std::string Cut(std::string_view s) {
  if (s.size() <= kMaxSpanAttributeBytes) return std::string(s);
  size_t k = kMaxSpanAttributeBytes;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return std::string(s.substr(0, k));
}

std::string_view First(std::string_view a, std::string_view b) { return a.empty() ? b : a; }

}  // namespace

void NoteAttribute(std::string_view key, const AttrValue& v, SpanFacts* f) {
  if (key == "service.name") return SetIf(&f->service, v);
  if (key == "k8s.pod.name") return SetIf(&f->pod, v);
  if (key == "service.instance.id") return SetIf(&f->instance_id, v);
  if (key == "host.name" || key == "hostname") return SetIf(&f->host, v);
  if (key == "ip" || key == "host.ip") return SetIf(&f->ip, v);
  if (key == "service.version") return SetIf(&f->version, v);
  if (key == "peer.service") return SetIf(&f->peer, v);
  if (key == "http.route") return SetIf(&f->route, v);
  if (key == "http.method" || key == "http.request.method") return SetIf(&f->method, v);
  if (key == "db.system") return SetIf(&f->db, v);
  if (key == "otel.status_description" || key == "error.message") return SetIf(&f->status_message, v);
  if (key == "http.status_code" || key == "http.response.status_code") {
    f->http_status = IntOf(v);
    return;
  }
  if (key == "error") {
    if (Truthy(v)) {
      f->error = true;
      // Zipkin puts the error message in the tag's value.
      if (v.kind == AttrValue::kString && v.s != "true" && f->status_message.empty()) f->status_message = v.s;
    }
    return;
  }
  if (key == "otel.status_code") {
    if (v.kind == AttrValue::kString && (v.s == "ERROR" || v.s == "error")) f->error = true;
    return;
  }
  if (key == "span.kind" && v.kind == AttrValue::kString) {
    f->kind = KindOfText(v.s);
    f->has_kind = f->kind != SpanKind::kUnspecified;
  }
}

namespace {
// Hex digit values, 0xff for anything else: ids are the most frequent text in
// a trace payload (three per span).
struct HexTable {
  uint8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0xff;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) {
      v['a' + i] = static_cast<uint8_t>(10 + i);
      v['A' + i] = static_cast<uint8_t>(10 + i);
    }
  }
};
constexpr HexTable kHex;
}  // namespace

bool ParseHexId(std::string_view hex, uint64_t* hi, uint64_t* lo) {
  const size_t n = hex.size();
  if (n == 0 || n > 32) return false;
  uint64_t h = 0, l = 0;
  uint8_t bad = 0;
  // Digits beyond the last 16 form the high half.
  const size_t split = n > 16 ? n - 16 : 0;
  for (size_t i = 0; i < split; ++i) {
    const uint8_t d = kHex.v[static_cast<unsigned char>(hex[i])];
    bad |= d;
    h = (h << 4) | (d & 0xf);
  }
  for (size_t i = split; i < n; ++i) {
    const uint8_t d = kHex.v[static_cast<unsigned char>(hex[i])];
    bad |= d;
    l = (l << 4) | (d & 0xf);
  }
  if (bad & 0xf0) return false;
  *hi = h;
  *lo = l;
  return true;
}

std::string SpanPath(const std::string& prefix, size_t index) {
  return index == kNoIndex ? prefix : prefix + "[" + std::to_string(index) + "]";
}

void FinishSpan(SpanBatch* out, const std::string& prefix, size_t index, Span span, const SpanFacts& res,
                const SpanFacts& own) {
  auto reject = [&](const std::string& why) { out->rejected.push_back(SpanPath(prefix, index) + why); };
  if (span.trace_id.empty()) return reject(".traceId: missing or all zeros");
  if (span.span_id == 0) return reject(".spanId: missing or all zeros");
  if (span.start_us <= 0) return reject(".start: missing or not after 1970");
  if (span.start_us > kMaxTimeUs) return reject(".start: beyond year 9999");
  if (span.duration_us < 0) return reject(".end: before the start");
  if (span.duration_us > kMaxTimeUs - span.start_us) return reject(".end: beyond year 9999");

  std::string_view service = First(own.service, res.service);
  if (service.empty()) service = "unknown_service";
  std::string_view instance = First(First(own.pod, res.pod), First(own.instance_id, res.instance_id));
  if (instance.empty()) instance = First(First(own.host, res.host), First(own.ip, res.ip));
  struct Checked {
    const char* field;
    std::string_view text;
  };
  for (const Checked& c : {Checked{".service", service}, Checked{".name", span.operation}, Checked{".instance", instance}}) {
    if (c.text.size() > kMaxSpanNameBytes) {
      return reject(std::string(c.field) + ": " + std::to_string(c.text.size()) + " bytes, more than the limit of " +
                    std::to_string(kMaxSpanNameBytes));
    }
    if (!IsValidUtf8(c.text) || c.text.find('\0') != std::string_view::npos) {
      return reject(std::string(c.field) + ": not valid UTF-8 text");
    }
  }
  span.service.assign(service);
  span.instance.assign(instance);
  if (own.has_kind && span.kind == SpanKind::kUnspecified) span.kind = own.kind;
  span.http_status = own.http_status != 0 ? own.http_status : res.http_status;
  span.error = span.error || own.error || span.http_status >= 500;
  auto keep = [&](const char* key, std::string_view v) {
    if (!v.empty() && IsValidUtf8(v)) span.attributes.emplace_back(key, Cut(v));
  };
  keep("host", First(own.host, res.host));
  keep("version", First(own.version, res.version));
  keep("peer.service", own.peer);
  keep("http.route", own.route);
  keep("http.method", own.method);
  keep("db.system", own.db);
  keep("status.message", own.status_message);
  out->spans.push_back(std::move(span));
}

}  // namespace vigil::ingest_internal
