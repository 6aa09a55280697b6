#include "server/api.h"
#include "server/api_json.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "engine/engine.h"
#include "engine/selector.h"
#include "ingest/json_events.h"
#include "ingest/json_samples.h"
#include "ingest/remote_write.h"
#include "server/api_alerts.h"
#include "store/sqlite_store.h"

namespace vigil {

using json = nlohmann::json;

void JsonError(HttpResponse& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = "application/json";
  res.body = json{{"error", message}}.dump();
}

void JsonOk(HttpResponse& res, const json& body, int status) {
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void StatusError(HttpResponse& res, const Status& s) {
  int code = 500;
  switch (s.code()) {
    case StatusCode::kInvalidArgument: code = 400; break;
    case StatusCode::kNotFound: code = 404; break;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      code = 503;
      res.headers.emplace_back("Retry-After", "1");
      break;
    default: code = 500;
  }
  JsonError(res, code, s.message());
}

json LabelsJson(const Labels& l) {
  json o = json::object();
  for (const auto& x : l.items()) o[x.name] = x.value;
  return o;
}

namespace {

// The incident's root-cause ranking (rca/ via the engine's RcaRunner), when
// one has been computed: the list view gets the top entries without their
// evidence ("ranking", "ranked_ms": the latest; "first_ranking",
// "first_ranked_ms": what vigil said first); the document gets the latest
// in full under "root_causes".
void AddRootCauses(Store* store, int64_t incident_id, bool full, json* out) {
  auto rec = store->GetRootCauses(incident_id);
  json brief = json::array();
  if (!rec.ok() || !rec->has_value()) {
    (*out)["ranking"] = brief;
    if (full) (*out)["root_causes"] = nullptr;
    return;
  }
  const RootCauseRecord& r = **rec;
  auto top5 = [](const json& doc) {
    json b5 = json::array();
    if (!doc.contains("ranking") || !doc["ranking"].is_array()) return b5;
    for (const auto& e : doc["ranking"]) {
      if (b5.size() == 5) break;
      json b = json::object();
      for (const char* k : {"service", "instance", "indicator", "score"}) {
        if (e.contains(k)) b[k] = e[k];
      }
      b5.push_back(std::move(b));
    }
    return b5;
  };
  json doc = json::parse(r.ranking_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) doc = json::object();
  json first = json::parse(r.first_ranking_json, nullptr, false);
  if (first.is_discarded() || !first.is_object()) first = json::object();
  (*out)["ranking"] = top5(doc);
  (*out)["ranked_ms"] = r.computed_ms;
  (*out)["first_ranking"] = top5(first);
  (*out)["first_ranked_ms"] = r.first_computed_ms;
  if (full) {
    doc["computed_ms"] = r.computed_ms;
    doc["computed_at"] = FormatRfc3339(r.computed_ms);
    doc["compute_ms"] = static_cast<double>(r.compute_us) / 1000.0;
    doc["revision"] = r.revision;
    (*out)["root_causes"] = std::move(doc);
  }
}

json IncidentJson(const Incident& i) {
  json series = json::array();
  for (const auto& s : i.series) {
    series.push_back({{"id", SeriesIdToHex(s.series)},
                      {"name", s.name},
                      {"max_score", s.max_score},
                      {"anomalies", s.anomalies},
                      {"last_anomaly_ms", s.last_anomaly_ms}});
  }
  return {{"id", i.id},
          {"state", IncidentStateName(i.state)},
          {"entity", i.entity},
          {"entity_labels", LabelsJson(i.entity_labels)},
          {"members", i.members},
          {"title", i.title},
          {"opened_ms", i.opened_ms},
          {"opened_at", FormatRfc3339(i.opened_ms)},
          {"updated_ms", i.updated_ms},
          {"resolved_ms", i.resolved_ms},
          {"resolved_at", i.resolved_ms ? json(FormatRfc3339(i.resolved_ms)) : json(nullptr)},
          {"last_anomaly_ms", i.last_anomaly_ms},
          {"acknowledged", i.acknowledged},
          {"acknowledged_by", i.acknowledged_by},
          {"max_score", i.max_score},
          {"anomaly_count", i.anomaly_count},
          {"series", series}};
}

json AnomalyJson(const Anomaly& a) {
  return {{"id", a.id},
          {"series", SeriesIdToHex(a.series)},
          {"labels", LabelsJson(a.labels)},
          {"name", a.labels.ToString()},
          {"ts_ms", a.ts_ms},
          {"time", FormatRfc3339(a.ts_ms)},
          {"value", a.value},
          {"expected", a.expected},
          {"lower", a.lower},
          {"upper", a.upper},
          {"score", a.score},
          {"direction", DirectionName(a.direction)},
          {"detector", a.detector},
          {"pattern", a.pattern},
          {"is_rate", a.is_rate}};
}

json EventJson(const Event& e) {
  return {{"id", e.id},
          {"ts_ms", e.ts_ms},
          {"time", FormatRfc3339(e.ts_ms)},
          {"kind", e.kind},
          {"labels", LabelsJson(e.labels)},
          {"text", e.text}};
}

// Reads optional start/end/limit parameters. Returns false after writing a 400.
bool TimeRange(const HttpRequest& req, HttpResponse& res, TimestampMs* from, TimestampMs* to) {
  for (auto [name, out] : {std::pair{"start", from}, std::pair{"end", to}}) {
    std::string v = req.QueryParam(name);
    if (v.empty()) continue;
    auto t = ParseTimeParam(v);
    if (!t.ok()) {
      JsonError(res, 400, std::string("parameter \"") + name + "\": " + t.status().message());
      return false;
    }
    *out = *t;
  }
  return true;
}

bool Limit(const HttpRequest& req, HttpResponse& res, int def, int max, int* out) {
  std::string v = req.QueryParam("limit");
  *out = def;
  if (v.empty()) return true;
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n <= 0) {
    JsonError(res, 400, "parameter \"limit\": expected a positive integer, got \"" + v + "\"");
    return false;
  }
  *out = std::min(n, max);
  return true;
}

bool ParseId(std::string_view s, int64_t* id) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *id);
  return ec == std::errc() && p == s.data() + s.size() && *id > 0;
}

// Answers an applied batch: 204/200 when everything was taken, 400 naming
// what was refused otherwise (the accepted part stays applied: a retry of the
// same body would only be refused again as duplicates).
void IngestReply(HttpResponse& res, const Result<IngestOutcome>& r, bool no_content) {
  if (!r.ok()) return StatusError(res, r.status());
  if (r->rejected == 0) {
    if (no_content) {
      res.status = 204;
      res.body.clear();
    } else {
      JsonOk(res, {{"accepted", r->accepted}, {"rejected", 0}});
    }
    return;
  }
  JsonOk(res,
         {{"error", std::to_string(r->rejected) + " samples rejected, " + std::to_string(r->accepted) +
                        " accepted: " + (r->reasons.empty() ? std::string() : r->reasons.front())},
          {"accepted", r->accepted},
          {"rejected", r->rejected},
          {"reasons", r->reasons}},
         400);
}

}  // namespace

ApiRouter::ApiRouter(Engine* engine) : engine_(engine) {}

void ApiRouter::Handle(const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  EngineStats& stats = engine_->stats();

  if (p == "/api/v1/write") {
    if (!post) return JsonError(res, 405, "use POST for /api/v1/write");
    stats.write_requests.fetch_add(1, std::memory_order_relaxed);
    std::string_view enc = req.Header("content-encoding");
    if (!enc.empty() && enc != "snappy") {
      return JsonError(res, 415, "unsupported Content-Encoding \"" + std::string(enc) +
                                     "\": remote_write bodies are snappy block-compressed");
    }
    thread_local RemoteWriteDecoder decoder;
    thread_local WriteBatch batch;
    // Series already seen by this thread skip label parsing and hashing;
    // the bound is the engine's series limit (a thread may see them all).
    decoder.EnableSeriesCache(engine_->config().limits.max_series);
    Status s = decoder.Decode(req.body, &batch);
    {
      thread_local RemoteWriteDecoder::CacheStats counted;
      const RemoteWriteDecoder::CacheStats now = decoder.cache_stats();
      if (now.hits != counted.hits) stats.series_cache_hits.fetch_add(now.hits - counted.hits);
      if (now.misses != counted.misses) stats.series_cache_misses.fetch_add(now.misses - counted.misses);
      if (now.resets != counted.resets) stats.series_cache_resets.fetch_add(now.resets - counted.resets);
      counted = now;
    }
    if (!s.ok()) {
      stats.samples_rejected[static_cast<size_t>(RejectReason::kMalformed)].fetch_add(1);
      return JsonError(res, 400, "remote_write: " + s.message());
    }
    return IngestReply(res, engine_->Ingest(&batch), true);
  }
  if (p == "/api/v1/samples") {
    if (!post) return JsonError(res, 405, "use POST for /api/v1/samples");
    stats.samples_requests.fetch_add(1, std::memory_order_relaxed);
    WriteBatch batch;
    Status s = DecodeJsonSamples(req.body, engine_->NowMs(), &batch);
    if (!s.ok()) return JsonError(res, 400, s.message());
    return IngestReply(res, engine_->Ingest(&batch), false);
  }
  if (p == "/api/v1/events") {
    if (post) {
      auto events = DecodeEvents(req.body, engine_->NowMs());
      if (!events.ok()) return JsonError(res, 400, events.status().message());
      auto ids = engine_->AddEvents(std::move(*events));
      if (!ids.ok()) return StatusError(res, ids.status());
      return JsonOk(res, {{"ids", *ids}}, 201);
    }
    if (!get) return JsonError(res, 405, "use GET or POST for /api/v1/events");
    EventQuery q;
    if (!TimeRange(req, res, &q.from, &q.to) || !Limit(req, res, 1000, 10000, &q.limit)) return;
    auto events = engine_->store()->ListEvents(q);
    if (!events.ok()) return StatusError(res, events.status());
    json arr = json::array();
    for (const auto& e : *events) arr.push_back(EventJson(e));
    return JsonOk(res, {{"events", arr}});
  }
  if (p == "/api/v1/incidents") {
    if (!get) return JsonError(res, 405, "use GET for /api/v1/incidents");
    IncidentQuery q;
    std::string state = req.QueryParam("state");
    if (state == "open") q.state = IncidentState::kOpen;
    else if (state == "resolved") q.state = IncidentState::kResolved;
    else if (!state.empty()) return JsonError(res, 400, "parameter \"state\": expected open or resolved, got \"" + state + "\"");
    if (!TimeRange(req, res, &q.from, &q.to) || !Limit(req, res, 100, 10000, &q.limit)) return;
    auto list = engine_->store()->ListIncidents(q);
    if (!list.ok()) return StatusError(res, list.status());
    json arr = json::array();
    for (const auto& i : *list) {
      arr.push_back(IncidentJson(i));
      AddRootCauses(engine_->store(), i.id, false, &arr.back());
    }
    return JsonOk(res, {{"incidents", arr}});
  }
  if (p.rfind("/api/v1/incidents/", 0) == 0 && !IsIncidentActionPath(p)) {
    std::string_view rest = std::string_view(p).substr(18);
    bool ack = false;
    if (rest.size() > 4 && rest.substr(rest.size() - 4) == "/ack") {
      ack = true;
      rest.remove_suffix(4);
    }
    int64_t id;
    if (!ParseId(rest, &id)) return JsonError(res, 404, "no incident \"" + std::string(rest) + "\": ids are positive integers");
    if (ack) {
      if (!post) return JsonError(res, 405, "use POST to acknowledge");
      std::string by = "api";
      if (!req.body.empty()) {
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) return JsonError(res, 400, "acknowledge body must be a JSON object like {\"by\":\"alice\"}");
        if (body.contains("by")) {
          if (!body["by"].is_string()) return JsonError(res, 400, "field \"by\": expected a string");
          by = body["by"].get<std::string>();
        }
      }
      auto inc = engine_->Acknowledge(id, by);
      if (!inc.ok()) return StatusError(res, inc.status());
      return JsonOk(res, IncidentJson(*inc));
    }
    if (!get) return JsonError(res, 405, "use GET for an incident");
    auto inc = engine_->store()->GetIncident(id);
    if (!inc.ok()) return StatusError(res, inc.status());
    if (!inc->has_value()) return JsonError(res, 404, "no incident with id " + std::to_string(id));
    json out = IncidentJson(**inc);
    auto tl = engine_->store()->Timeline(id);
    json tarr = json::array();
    if (tl.ok()) {
      for (const auto& e : *tl) {
        tarr.push_back({{"ts_ms", e.ts_ms}, {"time", FormatRfc3339(e.ts_ms)}, {"kind", e.kind}, {"text", e.text}, {"ref_id", e.ref_id}});
      }
    }
    out["timeline"] = tarr;
    AnomalyQuery aq;
    aq.incident_id = id;
    std::string al = req.QueryParam("anomalies_limit");
    aq.limit = 100;
    if (!al.empty()) {
      int n = 0;
      auto [ptr, ec] = std::from_chars(al.data(), al.data() + al.size(), n);
      if (ec != std::errc() || ptr != al.data() + al.size() || n < 0) {
        return JsonError(res, 400, "parameter \"anomalies_limit\": expected a non-negative integer, got \"" + al + "\"");
      }
      aq.limit = std::min(n, 10000);
    }
    auto an = aq.limit > 0 ? engine_->store()->ListAnomalies(aq) : Result<std::vector<Anomaly>>(std::vector<Anomaly>{});
    json aarr = json::array();
    if (an.ok()) {
      for (const auto& a : *an) aarr.push_back(AnomalyJson(a));
    }
    out["anomalies"] = aarr;
    AddRootCauses(engine_->store(), id, true, &out);
    AddIncidentAlerts(*engine_, id, &out);
    return JsonOk(res, out);
  }
  if (p == "/api/v1/anomalies") {
    if (!get) return JsonError(res, 405, "use GET for /api/v1/anomalies");
    AnomalyQuery q;
    if (!TimeRange(req, res, &q.from, &q.to) || !Limit(req, res, 1000, 10000, &q.limit)) return;
    std::string series = req.QueryParam("series");
    if (!series.empty()) {
      auto id = SeriesIdFromHex(series);
      if (!id.ok()) return JsonError(res, 400, "parameter \"series\": " + id.status().message());
      q.series = *id;
    }
    auto list = engine_->store()->ListAnomalies(q);
    if (!list.ok()) return StatusError(res, list.status());
    json arr = json::array();
    for (const auto& a : *list) arr.push_back(AnomalyJson(a));
    return JsonOk(res, {{"anomalies", arr}});
  }
  if (p == "/api/v1/series") {
    if (!get) return JsonError(res, 405, "use GET for /api/v1/series");
    auto matches = req.QueryParams("match[]");
    if (matches.empty()) return JsonError(res, 400, "parameter \"match[]\" is required, e.g. match[]=node_load1");
    int limit;
    if (!Limit(req, res, 1000, 100000, &limit)) return;
    json arr = json::array();
    for (const auto& m : matches) {
      auto sel = SeriesSelector::Parse(m);
      if (!sel.ok()) return JsonError(res, 400, "parameter \"match[]\": " + sel.status().message());
      for (const auto& s : engine_->FindSeries(*sel, static_cast<size_t>(limit))) {
        arr.push_back({{"id", SeriesIdToHex(s.id)},
                       {"name", s.labels.ToString()},
                       {"labels", LabelsJson(s.labels)},
                       {"points", s.points},
                       {"is_counter", s.is_counter},
                       {"stale", s.stale},
                       {"last_ms", s.last_ms}});
      }
    }
    return JsonOk(res, {{"series", arr}});
  }
  if (p.rfind("/api/v1/series/", 0) == 0 && p.size() > 22 && p.substr(p.size() - 7) == "/points") {
    if (!get) return JsonError(res, 405, "use GET for series points");
    std::string_view hex = std::string_view(p).substr(15, p.size() - 15 - 7);
    auto id = SeriesIdFromHex(hex);
    if (!id.ok()) return JsonError(res, 400, id.status().message());
    TimestampMs from = INT64_MIN, to = INT64_MAX;
    if (!TimeRange(req, res, &from, &to)) return;
    SeriesInfo info;
    std::vector<Sample> pts;
    if (!engine_->Points(*id, from, to, &info, &pts)) return JsonError(res, 404, "no series with id " + std::string(hex));
    json arr = json::array();
    std::vector<TimestampMs> times;
    for (const auto& s : pts) {
      arr.push_back({s.ts_ms, s.value});
      times.push_back(s.ts_ms);
    }
    // The KPI suite's expected band at the same times: [ts, expected, lower, upper].
    std::vector<ExpectedBand> bands;
    engine_->Bands(*id, times, &bands);
    json band = json::array();
    for (const auto& b : bands) band.push_back({b.ts_ms, b.expected, b.lower, b.upper});
    return JsonOk(res, {{"id", SeriesIdToHex(info.id)},
                        {"name", info.labels.ToString()},
                        {"labels", LabelsJson(info.labels)},
                        {"is_counter", info.is_counter},
                        {"points", arr},
                        {"band", band}});
  }
  if (p.rfind("/incidents/", 0) == 0 && get) {
    // Link target of notifications (generatorURL): the incident as JSON until
    // the web UI serves a page here.
    int64_t id;
    if (!ParseId(std::string_view(p).substr(11), &id)) return JsonError(res, 404, "no incident \"" + p.substr(11) + "\"");
    res.status = 302;
    res.headers.emplace_back("Location", "/api/v1/incidents/" + std::to_string(id));
    res.content_type = "text/plain";
    res.body = "see /api/v1/incidents/" + std::to_string(id) + "\n";
    return;
  }
  if (p == "/healthz") {
    res.status = 200;
    res.content_type = "text/plain";
    res.body = "ok\n";
    return;
  }
  if (p == "/metrics") {
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4";
    engine_->RenderMetrics(&res.body);
    return;
  }
  if (p == "/" && get) {
    res.status = 200;
    res.content_type = "text/plain";
    res.body =
        "vigil " VIGIL_VERSION "\n\n"
        "GET  /api/v1/incidents?state=open\n"
        "GET  /api/v1/incidents/{id}\n"
        "GET  /api/v1/anomalies\n"
        "GET  /api/v1/series?match[]=node_load1\n"
        "GET  /api/v1/series/{id}/points\n"
        "GET  /api/v1/series/{id}/profile\n"
        "POST /api/v1/anomalies/{id}/feedback\n"
        "GET  /api/v1/events\n"
        "POST /api/v1/write      (Prometheus remote_write)\n"
        "POST /api/v1/samples    (JSON)\n"
        "POST /api/v1/events     (JSON)\n"
        "POST /api/v2/alerts     (Prometheus -> Alertmanager API)\n"
        "POST /api/v1/alerts/webhook (Alertmanager webhook)\n"
        "POST /api/v1/alerts     (generic JSON alerts)\n"
        "GET  /api/v2/alerts, GET|POST /api/v2/silences, DELETE /api/v2/silence/{id}\n"
        "POST /api/v1/incidents/{id}/ack|resolve|merge|split\n"
        "GET  /metrics\n"
        "GET  /healthz\n";
    return;
  }
  for (RouteHandler handler : ExtraRoutes()) {
    if (handler(*engine_, req, res)) return;
  }
  JsonError(res, 404, "no route for " + req.method + " " + p);
}

}  // namespace vigil
