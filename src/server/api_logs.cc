// Log routes (docs/api-contract.md, "Logs"):
//   POST /loki/api/v1/push      Loki push, JSON or snappy protobuf
//   POST /v1/logs               OTLP/HTTP logs, JSON or protobuf
//   POST /api/v1/logs           JSON lines or raw text lines (+ labels in the query)
//   GET  /api/v1/logs/search    q, selector, from, to, limit
//   GET  /api/v1/logs/context   id, before, after
//   GET  /api/v1/logs/stats     q, selector, from, to, step, by=template|label:NAME
//   GET  /api/v1/logs/templates selector, limit
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "engine/engine.h"
#include "engine/log_pipeline.h"
#include "ingest/json_logs.h"
#include "ingest/loki_push.h"
#include "ingest/otlp_logs.h"
#include "server/api.h"
#include "server/api_json.h"

namespace vigil {

namespace {

using json = nlohmann::json;

json HitJson(const LogHit& h) {
  return {{"id", h.id},          {"ts_ms", h.ts_ms},       {"time", FormatRfc3339(h.ts_ms)},
          {"labels", LabelsJson(h.labels)}, {"template_id", h.template_id}, {"template", h.template_text},
          {"severity", h.severity}, {"seq", h.seq},       {"line", h.line}};
}

bool ContentTypeIs(const HttpRequest& req, std::string_view what) {
  return req.Header("content-type").find(what) != std::string_view::npos;
}

// Accepts a decoded batch: 204 when everything went in, 200 with the
// per-line rejections otherwise, 503 when the log queue is full.
void Accept(Engine& engine, LogBatch* batch, HttpResponse& res, bool loki_style) {
  auto out = engine.logs()->Ingest(batch);
  if (!out.ok()) return StatusError(res, out.status());
  if (out->rejected == 0 && loki_style) {
    res.status = 204;
    res.body.clear();
    return;
  }
  JsonOk(res, {{"accepted", out->accepted}, {"rejected", out->rejected}, {"errors", out->reasons}},
        out->accepted == 0 && out->rejected > 0 ? 400 : 200);
}

Result<TimestampMs> TimeParam(const HttpRequest& req, const char* name, TimestampMs dflt) {
  std::string v = req.QueryParam(name);
  if (v.empty()) return dflt;
  auto t = ParseTimeParam(v);
  if (!t.ok()) return Status::InvalidArgument(std::string(name) + ": " + t.status().message());
  return *t;
}

Result<LogQuery> QueryOf(const HttpRequest& req) {
  LogQuery q;
  q.text = req.QueryParam("q");
  q.selector = req.QueryParam("selector");
  auto from = TimeParam(req, "from", 0);
  if (!from.ok()) return from.status();
  auto to = TimeParam(req, "to", INT64_MAX);
  if (!to.ok()) return to.status();
  q.from_ms = *from;
  q.to_ms = *to;
  std::string limit = req.QueryParam("limit");
  if (!limit.empty()) {
    try {
      long long n = std::stoll(limit);
      if (n < 1 || n > 5000) throw std::out_of_range("limit");
      q.limit = static_cast<size_t>(n);
    } catch (...) {
      return Status::InvalidArgument("limit: expected an integer from 1 to 5000, got \"" + limit + "\"");
    }
  }
  return q;
}

int IntParam(const HttpRequest& req, const char* name, int dflt) {
  std::string v = req.QueryParam(name);
  if (v.empty()) return dflt;
  try {
    return std::stoi(v);
  } catch (...) {
    return -1;
  }
}

bool HandleLogs(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  const bool post = req.method == "POST";
  if (p == "/loki/api/v1/push") {
    if (!post) return JsonError(res, 405, "use POST for /loki/api/v1/push"), true;
    LogBatch batch;
    // The protobuf form is snappy-compressed with or without a
    // Content-Encoding header (Loki clients omit it).
    Status st = ContentTypeIs(req, "json") ? DecodeLokiPushJson(req.body, &batch) : DecodeLokiPushProtobuf(req.body, &batch);
    if (!st.ok()) return JsonError(res, 400, st.message()), true;
    Accept(engine, &batch, res, true);
    return true;
  }
  if (p == "/v1/logs") {
    if (!post) return JsonError(res, 405, "use POST for /v1/logs"), true;
    LogBatch batch;
    bool js = ContentTypeIs(req, "json");
    Status st = js ? DecodeOtlpLogsJson(req.body, &batch) : DecodeOtlpLogsProtobuf(req.body, &batch);
    if (!st.ok()) return JsonError(res, 400, st.message()), true;
    auto out = engine.logs()->Ingest(&batch);
    if (!out.ok()) return StatusError(res, out.status()), true;
    // OTLP: an ExportLogsServiceResponse, with partial_success when lines were refused.
    json body = json::object();
    if (out->rejected > 0) {
      std::string msg;
      for (const auto& r : out->reasons) msg += (msg.empty() ? "" : "; ") + r;
      body["partialSuccess"] = {{"rejectedLogRecords", std::to_string(out->rejected)}, {"errorMessage", msg}};
    }
    if (js) {
      JsonOk(res, body);
    } else {
      res.status = 200;
      res.content_type = "application/x-protobuf";
      res.body.clear();  // an empty ExportLogsServiceResponse
    }
    return true;
  }
  if (p == "/api/v1/logs") {
    if (!post) return JsonError(res, 405, "use POST for /api/v1/logs"), true;
    std::vector<Label> pairs;
    for (const auto& kv : req.QueryParams("label")) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return JsonError(res, 400, "label: expected name=value, got \"" + kv + "\""), true;
      }
      pairs.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
    }
    auto labels = Labels::FromPairs(std::move(pairs));
    if (!labels.ok()) return JsonError(res, 400, "label: " + labels.status().message()), true;
    bool js = ContentTypeIs(req, "json");
    LogBatch batch;
    Status st = DecodeLogLines(req.body, js, *labels, engine.NowMs(), &batch);
    if (!st.ok()) return JsonError(res, 400, st.message()), true;
    Accept(engine, &batch, res, false);
    return true;
  }
  if (!p.starts_with("/api/v1/logs/")) return false;
  if (req.method != "GET") return JsonError(res, 405, "use GET for " + p), true;
  if (p == "/api/v1/logs/search") {
    auto q = QueryOf(req);
    if (!q.ok()) return StatusError(res, q.status()), true;
    auto hits = engine.logs()->Search(*q);
    if (!hits.ok()) return StatusError(res, hits.status()), true;
    json lines = json::array();
    for (const auto& h : *hits) lines.push_back(HitJson(h));
    JsonOk(res, {{"lines", lines}, {"count", hits->size()}});
    return true;
  }
  if (p == "/api/v1/logs/context") {
    std::string id = req.QueryParam("id");
    int64_t line_id = 0;
    try {
      line_id = std::stoll(id);
    } catch (...) {
      return JsonError(res, 400, "id: expected a log line id, got \"" + id + "\""), true;
    }
    int before = IntParam(req, "before", 10), after = IntParam(req, "after", 10);
    if (before < 0 || after < 0 || before > 1000 || after > 1000) {
      return JsonError(res, 400, "before and after: integers from 0 to 1000"), true;
    }
    auto hits = engine.logs()->Context(line_id, before, after);
    if (!hits.ok()) return StatusError(res, hits.status()), true;
    json lines = json::array();
    for (const auto& h : *hits) lines.push_back(HitJson(h));
    JsonOk(res, {{"id", line_id}, {"lines", lines}});
    return true;
  }
  if (p == "/api/v1/logs/stats") {
    auto q = QueryOf(req);
    if (!q.ok()) return StatusError(res, q.status()), true;
    TimestampMs step = 60'000;
    if (std::string s = req.QueryParam("step"); !s.empty()) {
      double unit = 1000;
      std::string num = s;
      if (s.back() == 's') num.pop_back();
      else if (s.back() == 'm') unit = 60'000, num.pop_back();
      else if (s.back() == 'h') unit = 3'600'000, num.pop_back();
      double v = -1;
      try {
        size_t used = 0;
        v = std::stod(num, &used);
        if (used != num.size()) v = -1;
      } catch (...) {
      }
      if (!(v > 0)) return JsonError(res, 400, "step: expected seconds or 30s/5m/1h, got \"" + s + "\""), true;
      step = static_cast<TimestampMs>(v * unit);
    }
    std::string by = req.QueryParam("by");
    auto stats = engine.logs()->Stats(*q, step, by.empty() ? "template" : by);
    if (!stats.ok()) return StatusError(res, stats.status()), true;
    json series = json::array();
    for (const auto& s : *stats) {
      json buckets = json::array();
      for (const auto& [t, c] : s.buckets) buckets.push_back({t, c});
      json one = {{"key", s.key}, {"total", s.total}, {"buckets", buckets}};
      if (s.template_id) one["template_id"] = s.template_id;
      series.push_back(one);
    }
    JsonOk(res, {{"step_ms", step}, {"by", by.empty() ? "template" : by}, {"series", series}});
    return true;
  }
  if (p == "/api/v1/logs/templates") {
    int limit = IntParam(req, "limit", 500);
    if (limit < 1 || limit > 100000) return JsonError(res, 400, "limit: an integer from 1 to 100000"), true;
    json out = json::array();
    for (const auto& t : engine.logs()->Templates(req.QueryParam("selector"), static_cast<size_t>(limit))) {
      out.push_back({{"stream", LabelsJson(t.stream)}, {"id", t.id}, {"template", t.text}, {"count", t.count}});
    }
    JsonOk(res, {{"templates", out}});
    return true;
  }
  return JsonError(res, 404, "no route for GET " + p), true;
}

}  // namespace

RouteHandler LogRoutes() { return &HandleLogs; }

}  // namespace vigil
