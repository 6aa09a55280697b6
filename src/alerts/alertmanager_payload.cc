#include "alerts/alertmanager_payload.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace vigil {

namespace {

using nlohmann::json;

// Go's zero time: what Alertmanager puts in endsAt while an alert fires.
constexpr const char* kGoZeroTime = "0001-01-01T00:00:00Z";

json LabelsJson(const Labels& labels) {
  json o = json::object();
  for (const auto& l : labels.items()) o[l.name] = l.value;
  return o;
}

json AnnotationsJson(const Incident& inc) {
  return json{{"summary", inc.title}, {"description", IncidentDescription(inc)}};
}

std::string Fingerprint(const Labels& labels) { return SeriesIdToHex(SeriesIdOf(labels)); }

// Alertmanager's group key: "<route matchers>:<group labels>", the labels
// as {name="value", ...} with Go string quoting. vigil has one flat route.
std::string GroupKey(const Labels& group) {
  std::string key = "{}:{";
  bool first = true;
  for (const auto& l : group.items()) {
    if (!first) key += ", ";
    first = false;
    key += l.name;
    key += "=\"";
    for (char c : l.value) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
    key += '"';
  }
  key += '}';
  return key;
}

// Label values come from ingested data and may hold invalid UTF-8: replace
// it rather than fail.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string FormatScore(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

const char* IncidentSeverity(const Incident& inc) {
  return inc.max_score >= kCriticalScore ? "critical" : "warning";
}

Labels IncidentAlertLabels(const Incident& inc) {
  std::vector<Label> out;
  bool has_metric = inc.entity_labels.Has("metric");
  for (const auto& l : inc.entity_labels.items()) {
    if (l.name == "alertname" || l.name == "incident_id" || l.name == "severity" || l.value.empty()) continue;
    if (l.name == "__name__") {
      // An entity known only by its metric name; reserved label names do
      // not belong on alerts.
      if (!has_metric) out.push_back({"metric", l.value});
      continue;
    }
    if (l.name.rfind("__", 0) == 0) continue;
    out.push_back(l);
  }
  out.push_back({"alertname", kIncidentAlertName});
  out.push_back({"incident_id", std::to_string(inc.id)});
  out.push_back({"severity", IncidentSeverity(inc)});
  return Labels::FromSorted(std::move(out));
}

std::string IncidentDescription(const Incident& inc, size_t max_series) {
  std::string out;
  size_t shown = 0;
  for (const auto& s : inc.series) {
    if (shown == max_series) break;
    if (!out.empty()) out += '\n';
    out += s.name + ": max score " + FormatScore(s.max_score) + " over " + std::to_string(s.anomalies) +
           (s.anomalies == 1 ? " anomaly" : " anomalies");
    ++shown;
  }
  if (inc.series.size() > shown) {
    out += "\n... and " + std::to_string(inc.series.size() - shown) + " more series";
  }
  if (out.empty()) out = inc.title;
  return out;
}

std::string IncidentUrl(const std::string& base_url, int64_t incident_id) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/incidents/" + std::to_string(incident_id);
}

std::string WebhookPayloadV4(const Incident& inc, const std::string& receiver, const std::string& external_url,
                             TimestampMs /*now*/) {
  bool resolved = inc.state == IncidentState::kResolved;
  const char* status = resolved ? "resolved" : "firing";
  Labels labels = IncidentAlertLabels(inc);
  json jlabels = LabelsJson(labels);
  json annotations = AnnotationsJson(inc);

  json alert = {
      {"status", status},
      {"labels", jlabels},
      {"annotations", annotations},
      {"startsAt", FormatRfc3339(inc.opened_ms)},
      {"endsAt", resolved ? FormatRfc3339(inc.resolved_ms) : std::string(kGoZeroTime)},
      {"generatorURL", IncidentUrl(external_url, inc.id)},
      {"fingerprint", Fingerprint(labels)},
  };
  Labels group = Labels::FromSorted({{"alertname", kIncidentAlertName}, {"incident_id", std::to_string(inc.id)}});
  json body = {
      {"receiver", receiver},
      {"status", status},
      {"alerts", json::array({alert})},
      {"groupLabels", LabelsJson(group)},
      {"commonLabels", jlabels},
      {"commonAnnotations", annotations},
      {"externalURL", external_url},
      {"version", "4"},
      {"groupKey", GroupKey(group)},
      {"truncatedAlerts", 0},
  };
  return Dump(body);
}

std::string AlertsV2Payload(const std::vector<Incident>& incs, TimestampMs now, TimestampMs resend_interval_ms,
                            const std::string& generator_url_base) {
  json arr = json::array();
  for (const auto& inc : incs) {
    bool resolved = inc.state == IncidentState::kResolved;
    TimestampMs ends = resolved ? inc.resolved_ms : now + 4 * resend_interval_ms;
    arr.push_back({
        {"labels", LabelsJson(IncidentAlertLabels(inc))},
        {"annotations", AnnotationsJson(inc)},
        {"startsAt", FormatRfc3339(inc.opened_ms)},
        {"endsAt", FormatRfc3339(ends)},
        {"generatorURL", IncidentUrl(generator_url_base, inc.id)},
    });
  }
  return Dump(arr);
}

}  // namespace vigil
