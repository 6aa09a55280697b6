// Trace routes (docs/api-contract.md, "Traces"; docs/traces.md):
//   POST /v1/traces                 OTLP/HTTP traces, JSON or protobuf
//   POST /api/v2/spans              Zipkin v2 JSON
//   POST /api/v1/traces/jaeger      Jaeger JSON (query-API trace document)
//   GET  /api/v1/topology           level=service|instance, window=5m
//   GET  /api/v1/traces/operations  per-operation baselines
//   GET  /api/v1/traces/{trace_id}  an assembled trace from the recent ring
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/trace_pipeline.h"
#include "ingest/jaeger_traces.h"
#include "ingest/otlp_traces.h"
#include "ingest/span_batch.h"
#include "ingest/zipkin_spans.h"
#include "server/api.h"
#include "server/api_json.h"

namespace vigil {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxReasons = 20;

bool IsJson(const HttpRequest& req) { return req.Header("content-type").find("json") != std::string_view::npos; }

json Reasons(const std::vector<std::string>& rejected) {
  json out = json::array();
  for (size_t i = 0; i < rejected.size() && i < kMaxReasons; ++i) out.push_back(rejected[i]);
  if (rejected.size() > kMaxReasons) out.push_back("... and " + std::to_string(rejected.size() - kMaxReasons) + " more");
  return out;
}

// Zipkin and Jaeger: `ok_status` when every span went in; 400 naming the
// refused spans otherwise (the valid ones are kept, as the body says).
void AcceptPlain(Engine& engine, SpanBatch* batch, HttpResponse& res, int ok_status) {
  const size_t rejected = batch->rejected.size();
  auto out = engine.traces()->Ingest(batch);
  if (!out.ok()) return StatusError(res, out.status());
  if (rejected == 0) {
    if (ok_status == 202) {
      res.status = 202;
      res.body.clear();
    } else {
      JsonOk(res, {{"accepted", out->accepted}, {"rejected", 0}}, ok_status);
    }
    return;
  }
  JsonOk(res,
         {{"error", batch->rejected.front() + (rejected > 1 ? " (and " + std::to_string(rejected - 1) + " more)" : "")},
          {"accepted", out->accepted},
          {"rejected", rejected},
          {"errors", Reasons(batch->rejected)}},
         400);
}

void Varint(std::string* o, uint64_t v) {
  while (v >= 0x80) {
    o->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  o->push_back(static_cast<char>(v));
}

// ExportTraceServiceResponse {partial_success=1 {rejected_spans=1, error_message=2}}.
std::string PartialSuccessProtobuf(uint64_t rejected, const std::string& message) {
  std::string inner;
  Varint(&inner, 1 << 3 | 0);
  Varint(&inner, rejected);
  Varint(&inner, 2 << 3 | 2);
  Varint(&inner, message.size());
  inner += message;
  std::string out;
  Varint(&out, 1 << 3 | 2);
  Varint(&out, inner.size());
  return out + inner;
}

void HandleOtlp(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  SpanBatch batch;
  const bool js = IsJson(req);
  Status st = js ? DecodeOtlpTracesJson(req.body, &batch) : DecodeOtlpTracesProtobuf(req.body, &batch);
  if (!st.ok()) return JsonError(res, 400, st.message());
  const size_t rejected = batch.rejected.size();
  std::string message;
  for (size_t i = 0; i < rejected && i < kMaxReasons; ++i) message += (i ? "; " : "") + batch.rejected[i];
  if (rejected > kMaxReasons) message += "; ... and " + std::to_string(rejected - kMaxReasons) + " more";
  if (rejected > 0 && batch.spans.empty()) return JsonError(res, 400, message);
  auto out = engine.traces()->Ingest(&batch);
  if (!out.ok()) return StatusError(res, out.status());
  // OTLP: an ExportTraceServiceResponse, with partial_success when spans were refused.
  if (js) {
    json body = json::object();
    if (rejected > 0) body["partialSuccess"] = {{"rejectedSpans", std::to_string(rejected)}, {"errorMessage", message}};
    JsonOk(res, body);
  } else {
    res.status = 200;
    res.content_type = "application/x-protobuf";
    res.body = rejected > 0 ? PartialSuccessProtobuf(rejected, message) : std::string();
  }
}

json FiguresJson(const traces::CallFigures& f) {
  return {{"calls", f.calls},   {"errors", f.errors}, {"rate_per_s", f.rate_per_s}, {"error_rate", f.error_rate},
          {"p50_ms", f.p50_ms}, {"p95_ms", f.p95_ms}, {"p99_ms", f.p99_ms}};
}

void HandleTopology(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  std::string level_text = req.QueryParam("level");
  traces::GraphLevel level = traces::GraphLevel::kService;
  if (level_text == "instance") {
    level = traces::GraphLevel::kInstance;
  } else if (!level_text.empty() && level_text != "service") {
    return JsonError(res, 400, "level: expected service or instance, got \"" + level_text + "\"");
  }
  const int64_t max_ms = engine.traces()->max_window_ms();
  int64_t window_ms = std::min<int64_t>(300'000, max_ms);
  if (std::string w = req.QueryParam("window"); !w.empty()) {
    auto d = ParseDuration(w);
    if (!d.ok() || *d <= 0 || *d > max_ms) {
      return JsonError(res, 400,
                       "window: expected a duration from 30s to " + std::to_string(max_ms / 60'000) + "m, got \"" + w + "\"");
    }
    window_ms = *d;
  }
  traces::GraphSnapshot g = engine.traces()->Topology(level, window_ms);
  const bool inst = level == traces::GraphLevel::kInstance;
  auto node_id = [&](const std::string& s, const std::string& i) { return inst ? s + "/" + i : s; };
  json nodes = json::array(), edges = json::array();
  for (const auto& n : g.nodes) {
    json one = {{"id", node_id(n.service, n.instance)}, {"service", n.service}, {"peer", n.peer}};
    if (inst) one["instance"] = n.instance;
    one.update(FiguresJson(n.figures));
    nodes.push_back(std::move(one));
  }
  for (const auto& e : g.edges) {
    json one = {{"from", node_id(e.from_service, e.from_instance)},
                {"to", node_id(e.to_service, e.to_instance)},
                {"from_service", e.from_service},
                {"to_service", e.to_service}};
    if (inst) {
      one["from_instance"] = e.from_instance;
      one["to_instance"] = e.to_instance;
    }
    one.update(FiguresJson(e.figures));
    edges.push_back(std::move(one));
  }
  const int64_t now_ms = g.now_us / 1000;
  JsonOk(res, {{"level", inst ? "instance" : "service"},
               {"window_ms", g.window_us / 1000},
               {"now_ms", now_ms},
               {"now", now_ms > 0 ? FormatRfc3339(now_ms) : ""},
               {"nodes", nodes},
               {"edges", edges}});
}

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

const char* KindName(SpanKind k) {
  switch (k) {
    case SpanKind::kInternal: return "internal";
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
    default: return "unspecified";
  }
}

bool ParseTraceId(const std::string& text, TraceId* id) {
  if (text.empty() || text.size() > 32) return false;
  uint64_t hi = 0, lo = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    hi = (hi << 4) | (lo >> 60);
    lo = (lo << 4) | static_cast<uint64_t>(d);
  }
  *id = {hi, lo};
  return !id->empty();
}

void HandleTrace(Engine& engine, const std::string& text, HttpResponse& res) {
  TraceId id;
  if (!ParseTraceId(text, &id)) return JsonError(res, 400, "trace id: expected 1 to 32 hex digits, got \"" + text + "\"");
  auto spans = engine.traces()->FindTrace(id);
  if (!spans.ok()) return StatusError(res, spans.status());
  json out = json::array();
  int64_t start = INT64_MAX, end = 0;
  for (const auto& r : *spans) {
    const Span& s = r.span;
    start = std::min(start, s.start_us);
    end = std::max(end, s.end_us());
    json attrs = json::object();
    for (const auto& [k, v] : s.attributes) attrs[k] = v;
    out.push_back({{"span_id", Hex(s.span_id)},
                   {"parent_span_id", s.parent_span_id ? Hex(s.parent_span_id) : ""},
                   {"parent", r.parent},
                   {"service", s.service},
                   {"instance", s.instance},
                   {"operation", s.operation},
                   {"kind", KindName(s.kind)},
                   {"start_us", s.start_us},
                   {"duration_us", s.duration_us},
                   {"error", s.error},
                   {"http_status", s.http_status},
                   {"attributes", attrs},
                   {"slow", r.slow},
                   {"origin", r.origin}});
  }
  JsonOk(res, {{"trace_id", Hex(id.hi) + Hex(id.lo)},
               {"start_us", start},
               {"duration_us", end - start},
               {"span_count", spans->size()},
               {"spans", out}});
}

void HandleOperations(Engine& engine, HttpResponse& res) {
  json out = json::array();
  for (const auto& o : engine.traces()->Operations()) {
    out.push_back({{"service", o.service}, {"operation", o.operation}, {"calls", o.calls}, {"errors", o.errors},
                   {"p50_ms", o.p50_ms}, {"p99_ms", o.p99_ms}, {"slow_threshold_ms", o.slow_threshold_ms},
                   {"warm", o.warm}});
  }
  JsonOk(res, {{"operations", out}});
}

}  // namespace

bool TraceRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  const bool post = req.method == "POST";
  if (p == "/v1/traces") {
    if (!post) return JsonError(res, 405, "use POST for /v1/traces"), true;
    HandleOtlp(engine, req, res);
    return true;
  }
  if (p == "/api/v2/spans") {
    if (!post) return JsonError(res, 405, "use POST for /api/v2/spans"), true;
    SpanBatch batch;
    Status st = DecodeZipkinSpansJson(req.body, &batch);
    if (!st.ok()) return JsonError(res, 400, st.message()), true;
    AcceptPlain(engine, &batch, res, 202);
    return true;
  }
  if (p == "/api/v1/traces/jaeger") {
    if (!post) return JsonError(res, 405, "use POST for /api/v1/traces/jaeger"), true;
    SpanBatch batch;
    Status st = DecodeJaegerTracesJson(req.body, &batch);
    if (!st.ok()) return JsonError(res, 400, st.message()), true;
    AcceptPlain(engine, &batch, res, 200);
    return true;
  }
  if (p == "/api/v1/topology") {
    if (req.method != "GET") return JsonError(res, 405, "use GET for /api/v1/topology"), true;
    HandleTopology(engine, req, res);
    return true;
  }
  if (p.starts_with("/api/v1/traces/")) {
    if (req.method != "GET") return JsonError(res, 405, "use GET for " + p), true;
    std::string rest = p.substr(std::string("/api/v1/traces/").size());
    if (rest == "operations") HandleOperations(engine, res);
    else HandleTrace(engine, rest, res);
    return true;
  }
  return false;
}

}  // namespace vigil
