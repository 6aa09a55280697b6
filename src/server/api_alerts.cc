#include "server/api_alerts.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "engine/alert_service.h"
#include "engine/engine.h"
#include "ingest/alerts_json.h"
#include "server/api_json.h"
#include "store/sqlite_store.h"

namespace vigil {

namespace {

using json = nlohmann::json;

// Alert payloads are small; a larger body is a mistake or an attack.
constexpr size_t kMaxAlertBody = 8 << 20;

json AlertJson(const AlertService::AlertView& v) {
  const TrackedAlert& t = v.alert;
  json receivers = json::array();
  for (const auto& r : v.receivers) receivers.push_back({{"name", r}});
  json inhibited = json::array();
  if (v.muted.inhibited_by) inhibited.push_back(SeriesIdToHex(v.muted.inhibited_by));
  std::string state = !t.firing ? "resolved" : v.muted.muted() ? "suppressed" : t.incident_id ? "active" : "unprocessed";
  return {{"labels", LabelsJson(t.alert.labels)},
          {"annotations", LabelsJson(t.alert.annotations)},
          {"startsAt", FormatRfc3339(t.alert.starts_ms)},
          {"endsAt", FormatRfc3339(t.alert.ends_ms > 0 ? t.alert.ends_ms : t.firing ? t.last_seen_ms : t.resolved_ms)},
          {"updatedAt", FormatRfc3339(t.last_seen_ms)},
          {"generatorURL", t.alert.generator_url},
          {"fingerprint", SeriesIdToHex(t.fingerprint)},
          {"receivers", receivers},
          {"status", {{"state", state}, {"silencedBy", v.muted.silenced_by}, {"inhibitedBy", inhibited}}},
          {"vigil",
           {{"incident_id", t.incident_id}, {"count", t.count}, {"flapping", t.flapping}, {"symptom", t.symptom},
            {"severity", t.severity}, {"firing", t.firing}, {"source", t.alert.source},
            {"first_seen", FormatRfc3339(t.first_seen_ms)}}}};
}

json SilenceJson(const Silence& s, TimestampMs now) {
  json m = json::array();
  for (const auto& x : s.matchers) {
    m.push_back({{"name", x.name()}, {"value", x.value()}, {"isRegex", x.is_regex()}, {"isEqual", x.is_equal()}});
  }
  return {{"id", s.id},
          {"status", {{"state", SilenceStateName(StateOf(s, now))}}},
          {"updatedAt", FormatRfc3339(s.updated_ms)},
          {"comment", s.comment},
          {"createdBy", s.created_by},
          {"startsAt", FormatRfc3339(s.starts_ms)},
          {"endsAt", FormatRfc3339(s.ends_ms)},
          {"matchers", m}};
}

bool ParseId(std::string_view s, int64_t* id) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *id);
  return ec == std::errc() && p == s.data() + s.size() && *id > 0;
}

// Parses a JSON body object; on failure answers 400 and returns false.
bool BodyObject(const HttpRequest& req, HttpResponse& res, json* out, bool allow_empty) {
  if (req.body.empty() && allow_empty) {
    *out = json::object();
    return true;
  }
  *out = json::parse(req.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    JsonError(res, 400, "body: expected a JSON object");
    return false;
  }
  return true;
}

std::string ByOf(const json& body) {
  return body.contains("by") && body["by"].is_string() ? body["by"].get<std::string>() : std::string("api");
}

Result<Silence> SilenceFrom(const json& b) {
  Silence s;
  if (b.contains("id") && b["id"].is_string()) s.id = b["id"];
  if (!b.contains("matchers") || !b["matchers"].is_array()) return Status::InvalidArgument("field \"matchers\": expected an array");
  for (size_t i = 0; i < b["matchers"].size(); ++i) {
    const json& m = b["matchers"][i];
    std::string path = "field \"matchers[" + std::to_string(i) + "]\"";
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string() || !m.contains("value") || !m["value"].is_string()) {
      return Status::InvalidArgument(path + ": expected {\"name\": ..., \"value\": ..., \"isRegex\": bool}");
    }
    bool re = m.value("isRegex", false), eq = m.value("isEqual", true);
    MatchOp op = re ? (eq ? MatchOp::kRegex : MatchOp::kNotRegex) : (eq ? MatchOp::kEqual : MatchOp::kNotEqual);
    auto mt = Matcher::Make(m["name"], op, m["value"]);
    if (!mt.ok()) return Status::InvalidArgument(path + ": " + mt.status().message());
    s.matchers.push_back(*mt);
  }
  for (auto [key, field] : {std::pair{"startsAt", &s.starts_ms}, std::pair{"endsAt", &s.ends_ms}}) {
    if (!b.contains(key) || !b[key].is_string()) return Status::InvalidArgument(std::string("field \"") + key + "\": expected an RFC 3339 time");
    auto t = ParseRfc3339(b[key].get<std::string>());
    if (!t.ok()) return Status::InvalidArgument(std::string("field \"") + key + "\": " + t.status().message());
    *field = *t;
  }
  if (b.contains("createdBy") && b["createdBy"].is_string()) s.created_by = b["createdBy"];
  if (b.contains("comment") && b["comment"].is_string()) s.comment = b["comment"];
  return s;
}

bool IngestRoute(Engine& engine, const HttpRequest& req, HttpResponse& res,
                 Status (*decode)(std::string_view, TimestampMs, std::vector<Alert>*)) {
  if (req.method != "POST") {
    JsonError(res, 405, "use POST for " + req.path);
    return true;
  }
  if (req.body.size() > kMaxAlertBody) {
    JsonError(res, 413, "alert payload of " + std::to_string(req.body.size()) + " bytes exceeds the limit of " +
                            std::to_string(kMaxAlertBody));
    return true;
  }
  std::vector<Alert> alerts;
  Status s = decode(req.body, engine.NowMs(), &alerts);
  if (!s.ok()) {
    JsonError(res, 400, s.message());
    return true;
  }
  s = engine.alerts()->Receive(alerts);
  if (!s.ok()) {
    StatusError(res, s);
    return true;
  }
  res.status = 200;
  res.content_type = "application/json";
  res.body = json{{"accepted", alerts.size()}}.dump();
  return true;
}

bool IncidentAction(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  std::string_view rest = std::string_view(req.path).substr(std::strlen("/api/v1/incidents/"));
  size_t slash = rest.find('/');
  int64_t id = 0;
  if (!ParseId(rest.substr(0, slash), &id)) {
    JsonError(res, 404, "no incident \"" + std::string(rest.substr(0, slash)) + "\": ids are positive integers");
    return true;
  }
  std::string action(rest.substr(slash + 1));
  AlertService& svc = *engine.alerts();
  if (action == "alerts") {
    if (req.method != "GET") return JsonError(res, 405, "use GET"), true;
    json doc = json::object();
    AddIncidentAlerts(engine, id, &doc);
    JsonOk(res, doc);
    return true;
  }
  if (req.method != "POST") return JsonError(res, 405, "use POST to " + action + " an incident"), true;
  json body;
  if (!BodyObject(req, res, &body, true)) return true;
  std::string by = ByOf(body);
  if (action == "resolve") {
    Status s = svc.Resolve(id, by);
    if (!s.ok()) return StatusError(res, s), true;
    JsonOk(res, {{"resolved", id}});
  } else if (action == "merge") {
    if (!body.contains("from") || !body["from"].is_number_integer()) {
      return JsonError(res, 400, "field \"from\": expected the id of the incident to merge into this one"), true;
    }
    auto r = svc.Merge(id, body["from"].get<int64_t>(), by);
    if (!r.ok()) return StatusError(res, r.status()), true;
    JsonOk(res, {{"incident_id", *r}});
  } else if (action == "split") {
    if (!body.contains("fingerprints") || !body["fingerprints"].is_array()) {
      return JsonError(res, 400, "field \"fingerprints\": expected an array of alert fingerprints"), true;
    }
    std::vector<Fingerprint> fps;
    for (const auto& f : body["fingerprints"]) {
      auto fp = f.is_string() ? SeriesIdFromHex(f.get<std::string>()) : Result<SeriesId>(Status::InvalidArgument("not a string"));
      if (!fp.ok()) return JsonError(res, 400, "field \"fingerprints\": " + f.dump() + " is not a fingerprint"), true;
      fps.push_back(*fp);
    }
    auto r = svc.Split(id, fps, by);
    if (!r.ok()) return StatusError(res, r.status()), true;
    JsonOk(res, {{"incident_id", *r}});
  } else {
    JsonError(res, 404, "no incident action \"" + action + "\" (ack, resolve, merge, split, alerts)");
  }
  return true;
}

}  // namespace

bool IsIncidentActionPath(const std::string& p) {
  if (p.rfind("/api/v1/incidents/", 0) != 0) return false;
  std::string_view rest = std::string_view(p).substr(std::strlen("/api/v1/incidents/"));
  size_t slash = rest.find('/');
  return slash != std::string_view::npos && rest.substr(slash + 1) != "ack";
}

void AddIncidentAlerts(Engine& engine, int64_t id, json* doc) {
  auto views = engine.alerts()->Alerts(id);
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) {
    return a.alert.alert.starts_ms < b.alert.alert.starts_ms;
  });
  std::map<std::string, json> by_service;
  for (const auto& v : views) {
    std::string svc(v.alert.alert.labels.Get("service"));
    if (svc.empty()) svc = std::string(v.alert.alert.labels.Get("job"));
    auto& arr = by_service[svc];
    if (arr.is_null()) arr = json::array();
    arr.push_back(AlertJson(v));
  }
  json groups = json::array();
  for (auto& [svc, arr] : by_service) groups.push_back({{"service", svc}, {"alerts", arr}});
  (*doc)["alerts"] = groups;
  (*doc)["alert_count"] = views.size();
  json notes = json::array();
  auto list = engine.store()->NotificationsFor(id);
  if (list.ok()) {
    for (const auto& n : *list) {
      notes.push_back({{"id", n.id}, {"receiver", n.receiver}, {"kind", n.kind}, {"url", n.url}, {"status", n.status},
                       {"attempts", n.attempts}, {"last_error", n.last_error},
                       {"created", FormatRfc3339(n.created_ms)}, {"updated", FormatRfc3339(n.updated_ms)}});
    }
  }
  (*doc)["notifications"] = notes;
}

bool HandleAlertRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  if (!engine.alerts()) return false;
  if (p == "/api/v2/alerts") {
    if (req.method == "POST") return IngestRoute(engine, req, res, DecodeAlertsV2);
    if (req.method != "GET") return JsonError(res, 405, "use GET or POST for /api/v2/alerts"), true;
    std::vector<Matcher> filter;
    for (const auto& f : req.QueryParams("filter")) {
      auto ms = ParseMatchers(UrlDecode(f));
      if (!ms.ok()) return JsonError(res, 400, "parameter \"filter\": " + ms.status().message()), true;
      filter.insert(filter.end(), ms->begin(), ms->end());
    }
    auto flag = [&](const char* name) { std::string v = req.QueryParam(name); return v.empty() || v == "true"; };
    bool active = flag("active"), silenced = flag("silenced"), inhibited = flag("inhibited");
    json arr = json::array();
    for (const auto& v : engine.alerts()->Alerts()) {
      if (!v.alert.firing || !MatchesAll(filter, v.alert.alert.labels)) continue;
      bool is_silenced = !v.muted.silenced_by.empty(), is_inhibited = v.muted.inhibited_by != 0 || v.muted.symptom;
      if ((!silenced && is_silenced) || (!inhibited && is_inhibited) || (!active && !v.muted.muted())) continue;
      arr.push_back(AlertJson(v));
    }
    JsonOk(res, arr);
    return true;
  }
  if (p == "/api/v1/alerts/webhook") return IngestRoute(engine, req, res, DecodeWebhookV4);
  if (p == "/api/v1/alerts") return IngestRoute(engine, req, res, DecodeGenericAlerts);
  if (p == "/api/v2/silences") {
    TimestampMs now = engine.NowMs();
    if (req.method == "GET") {
      json arr = json::array();
      for (const auto& s : engine.alerts()->Silences()) arr.push_back(SilenceJson(s, now));
      JsonOk(res, arr);
      return true;
    }
    if (req.method != "POST") return JsonError(res, 405, "use GET or POST for /api/v2/silences"), true;
    json body;
    if (!BodyObject(req, res, &body, false)) return true;
    auto s = SilenceFrom(body);
    if (!s.ok()) return JsonError(res, 400, s.status().message()), true;
    auto id = engine.alerts()->UpsertSilence(std::move(*s));
    if (!id.ok()) return StatusError(res, id.status()), true;
    JsonOk(res, {{"silenceID", *id}});
    return true;
  }
  if (p.rfind("/api/v2/silence/", 0) == 0) {
    std::string id = UrlDecode(p.substr(std::strlen("/api/v2/silence/")));
    if (req.method == "DELETE") {
      Status s = engine.alerts()->ExpireSilence(id);
      if (!s.ok()) return StatusError(res, s), true;
      JsonOk(res, json::object());
      return true;
    }
    if (req.method != "GET") return JsonError(res, 405, "use GET or DELETE for a silence"), true;
    for (const auto& s : engine.alerts()->Silences()) {
      if (s.id == id) return JsonOk(res, SilenceJson(s, engine.NowMs())), true;
    }
    JsonError(res, 404, "silence " + id + " not found");
    return true;
  }
  if (IsIncidentActionPath(p)) return IncidentAction(engine, req, res);
  return false;
}

}  // namespace vigil
