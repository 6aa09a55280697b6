#include "ingest/alerts_json.h"

#include "core/time_format.h"
#include "ingest/json_text.h"

namespace vigil {

namespace {

using namespace ingest_internal;
using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

Status LabelMap(element e, const std::string& path, Labels* out) {
  if (e.type() != element_type::OBJECT) return Bad(path, std::string("expected an object, got ") + JsonTypeName(e));
  std::vector<Label> items;
  for (auto field : ObjectOf(e)) {
    if (field.value.type() != element_type::STRING) {
      return Bad(path + KeyPath(field.key), std::string("expected a string, got ") + JsonTypeName(field.value));
    }
    items.push_back({std::string(field.key), std::string(StringOf(field.value))});
  }
  auto l = Labels::FromPairs(std::move(items));
  if (!l.ok()) return Bad(path, l.status().message());
  *out = std::move(*l);
  return Status::Ok();
}

// RFC 3339 (or a number); Go's zero time and "" mean unset (0).
Status TimeField(simdjson::dom::object o, const char* key, const std::string& path, TimestampMs* out) {
  element e;
  *out = 0;
  if (o[key].get(e) != simdjson::SUCCESS || e.type() == element_type::NULL_VALUE) return Status::Ok();
  if (e.type() == element_type::STRING) {
    std::string_view s = StringOf(e);
    if (s.empty() || s.rfind("0001-01-01", 0) == 0) return Status::Ok();
  }
  std::string why;
  if (!JsonToTime(e, out, &why)) return Bad(path + "." + key, why);
  return Status::Ok();
}

std::string StringField(simdjson::dom::object o, const char* key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.type() != element_type::STRING) return {};
  return std::string(StringOf(e));
}

// One alert object in the Prometheus/Alertmanager shape.
Status PromAlert(element e, const std::string& path, TimestampMs now, bool webhook, Alert* a) {
  if (e.type() != element_type::OBJECT) return Bad(path, std::string("expected an object, got ") + JsonTypeName(e));
  auto o = ObjectOf(e);
  element l;
  if (o["labels"].get(l) != simdjson::SUCCESS) return Bad(path + ".labels", "required");
  Status s = LabelMap(l, path + ".labels", &a->labels);
  if (!s.ok()) return s;
  if (a->labels.Get("alertname").empty()) return Bad(path + ".labels.alertname", "required");
  element an;
  if (o["annotations"].get(an) == simdjson::SUCCESS && an.type() != element_type::NULL_VALUE) {
    s = LabelMap(an, path + ".annotations", &a->annotations);
    if (!s.ok()) return s;
  }
  s = TimeField(o, "startsAt", path, &a->starts_ms);
  if (s.ok()) s = TimeField(o, "endsAt", path, &a->ends_ms);
  if (!s.ok()) return s;
  if (a->starts_ms == 0) a->starts_ms = now;
  if (a->ends_ms != 0 && a->ends_ms < a->starts_ms) return Bad(path + ".endsAt", "is before startsAt");
  a->generator_url = StringField(o, "generatorURL");
  if (webhook && StringField(o, "status") == "resolved" && a->ends_ms == 0) a->ends_ms = now;
  if (webhook && StringField(o, "status") == "firing") a->ends_ms = 0;  // webhooks carry the zero time while firing
  a->source = webhook ? "alertmanager-webhook" : "prometheus";
  return Status::Ok();
}

}  // namespace

Status DecodeAlertsV2(std::string_view body, TimestampMs now, std::vector<Alert>* out) {
  JsonDocument doc;
  Status s = doc.Parse(body);
  if (!s.ok()) return s;
  if (doc.root().type() != element_type::ARRAY) return Bad("body", std::string("expected an array of alerts, got ") + JsonTypeName(doc.root()));
  std::vector<Alert> alerts;
  size_t i = 0;
  for (element e : ArrayOf(doc.root())) {
    Alert a;
    s = PromAlert(e, "[" + std::to_string(i++) + "]", now, false, &a);
    if (!s.ok()) return s;
    alerts.push_back(std::move(a));
  }
  out->insert(out->end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
  return Status::Ok();
}

Status DecodeWebhookV4(std::string_view body, TimestampMs now, std::vector<Alert>* out) {
  JsonDocument doc;
  Status s = doc.Parse(body);
  if (!s.ok()) return s;
  if (doc.root().type() != element_type::OBJECT) return Bad("body", std::string("expected a webhook object, got ") + JsonTypeName(doc.root()));
  auto o = ObjectOf(doc.root());
  std::string version = StringField(o, "version");
  if (!version.empty() && version != "4") return Bad("version", "expected \"4\", got \"" + version + "\"");
  element arr;
  if (o["alerts"].get(arr) != simdjson::SUCCESS) return Bad("alerts", "required");
  if (arr.type() != element_type::ARRAY) return Bad("alerts", std::string("expected an array, got ") + JsonTypeName(arr));
  std::vector<Alert> alerts;
  size_t i = 0;
  for (element e : ArrayOf(arr)) {
    Alert a;
    s = PromAlert(e, "alerts[" + std::to_string(i++) + "]", now, true, &a);
    if (!s.ok()) return s;
    alerts.push_back(std::move(a));
  }
  out->insert(out->end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
  return Status::Ok();
}

Status DecodeGenericAlerts(std::string_view body, TimestampMs now, std::vector<Alert>* out) {
  JsonDocument doc;
  Status s = doc.Parse(body);
  if (!s.ok()) return s;
  element root = doc.root();
  if (root.type() == element_type::OBJECT) {
    element inner;
    if (ObjectOf(root)["alerts"].get(inner) != simdjson::SUCCESS) return Bad("alerts", "required");
    root = inner;
  }
  if (root.type() != element_type::ARRAY) return Bad("body", std::string("expected an array of alerts, got ") + JsonTypeName(root));
  std::vector<Alert> alerts;
  size_t i = 0;
  for (element e : ArrayOf(root)) {
    std::string path = "[" + std::to_string(i++) + "]";
    if (e.type() != element_type::OBJECT) return Bad(path, std::string("expected an object, got ") + JsonTypeName(e));
    auto o = ObjectOf(e);
    Alert a;
    Labels extra;
    element l;
    if (o["labels"].get(l) == simdjson::SUCCESS) {
      s = LabelMap(l, path + ".labels", &extra);
      if (!s.ok()) return s;
    }
    std::string name = StringField(o, "name");
    if (name.empty()) name = std::string(extra.Get("alertname"));
    if (name.empty()) return Bad(path + ".name", "required");
    std::vector<Label> items = extra.items();
    std::erase_if(items, [](const Label& x) { return x.name == "alertname" || x.name == "severity"; });
    items.push_back({"alertname", name});
    std::string sev = StringField(o, "severity");
    if (sev.empty()) sev = std::string(extra.Get("severity"));
    if (!sev.empty()) items.push_back({"severity", sev});
    auto labels = Labels::FromPairs(std::move(items));
    if (!labels.ok()) return Bad(path + ".labels", labels.status().message());
    a.labels = std::move(*labels);
    std::vector<Label> ann;
    if (std::string v = StringField(o, "summary"); !v.empty()) ann.push_back({"summary", v});
    if (std::string v = StringField(o, "description"); !v.empty()) ann.push_back({"description", v});
    a.annotations = *Labels::FromPairs(std::move(ann));
    TimestampMs t = 0;
    s = TimeField(o, "time", path, &t);
    if (!s.ok()) return s;
    if (t == 0) t = now;
    std::string status = StringField(o, "status");
    if (!status.empty() && status != "firing" && status != "resolved") {
      return Bad(path + ".status", "expected \"firing\" or \"resolved\", got \"" + status + "\"");
    }
    a.starts_ms = t;
    if (status == "resolved") a.ends_ms = t;
    a.source = "json";
    alerts.push_back(std::move(a));
  }
  out->insert(out->end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
  return Status::Ok();
}

}  // namespace vigil
